package e2e

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// docsDir holds the user reference, relative to this package.
const docsDir = "../../docs"

// docExample is one complete runbook of docs/*.md (a ```yaml block
// starting with `lockstep: 1`).
type docExample struct {
	file string // base name under docs/
	line int    // line of the block's first line
	name string // the runbook's name:
	src  string
}

// where names the example for a failure message: docs/FILE:LINE (name).
func (x docExample) where() string {
	return fmt.Sprintf("docs/%s:%d (%s)", x.file, x.line, x.name)
}

// docExamples returns every complete runbook example of docs/*.md.
func docExamples(t *testing.T) []docExample {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(docsDir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []docExample
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, examplesOf(filepath.Base(p), string(src))...)
	}
	return out
}

// examplesOf returns the complete runbook examples of one Markdown file.
func examplesOf(file, doc string) []docExample {
	var out []docExample
	var cur *docExample
	for i, line := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```yaml":
			cur = &docExample{file: file, line: i + 2}
		case cur != nil && trimmed == "```":
			if strings.HasPrefix(cur.src, "lockstep: 1\n") {
				out = append(out, *cur)
			}
			cur = nil
		case cur != nil:
			cur.src += line + "\n"
			if n, ok := strings.CutPrefix(line, "name: "); ok && cur.name == "" {
				cur.name = strings.TrimSpace(n)
			}
		}
	}
	return out
}

// docRun is one `lockstep run` of an example, with its answers file. A
// run the page shows refused names its exit code and a text of its
// output; any other must complete.
type docRun struct {
	env, mode, answers string
	exit               int
	says               string
}

// docRecipe prepares and runs one runnable example.
type docRecipe struct {
	// setup maps a SQLite file (relative to the runbook, as the example's
	// store path) to the SQL that creates what the example expects.
	setup map[string]string
	// vars are environment variables the example reads; "$WEBHOOK" is
	// replaced by the URL of a local server accepting every request.
	vars []string
	runs []docRun
	// unmigrated maps a SQLite file to a query counting the rows the
	// example left otherwise than the page says: it must count 0.
	unmigrated map[string]string
}

// fromDoc as a setup takes the SQL of the page's own `sqlite3 FILE "SQL"`
// shell command, so the page's setup instructions are run too.
const fromDoc = "from the page"

// docSetupSQL returns the SQL of the first `sqlite3 FILE "…"` command of
// a Markdown file.
func docSetupSQL(t *testing.T, x docExample, file string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(docsDir, x.file))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "sqlite3 "+file+` "`)
	sql, _, closed := strings.Cut(rest, `"`)
	if !ok || !closed {
		t.Fatalf("%s: docs/%s has no sqlite3 %s \"…\" command to set up the example", x.where(), x.file, file)
	}
	return sql
}

// usersSQL creates a users table of n rows with the columns street_name
// and city, every fifth row without an address.
func usersSQL(n int) string {
	return fmt.Sprintf(`CREATE TABLE users(id INTEGER PRIMARY KEY, address TEXT, v INTEGER, street_name TEXT, city TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < %d)
INSERT INTO users(id, address) SELECT i, CASE WHEN i %% 5 = 0 THEN NULL ELSE i || ' Main St, Springfield, 4' || (i %% 90) END FROM n;`, n)
}

// emailsSQL creates registry.md's users table of emails.
const emailsSQL = `CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT, v INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 500)
INSERT INTO users(id, email) SELECT i, 'User' || i || '@Example.COM' FROM n;`

// docRecipes lists, by "file/runbook name", how to run each example that
// runs on a SQLite store or on none. The list lives here rather than as
// markers in the Markdown: the setup (tables, rows, answers) is test
// plumbing a reader would trip over, and TestDocsExamplesRun fails on any
// complete example that is neither here nor in docNotRun, so a new
// example cannot be left out unnoticed.
var docRecipes = map[string]docRecipe{
	// The guide's "Data steps, runnable", on the table its own
	// `sqlite3 shop.db "…"` command makes.
	"guide.md/split-address": {
		setup:      map[string]string{"shop.db": fromDoc},
		runs:       []docRun{{env: "local"}},
		unmigrated: map[string]string{"shop.db": "SELECT count(*) FROM users WHERE city IS NULL OR street_name IS NULL OR v IS NOT 1"},
	},
	// The guide's SNS notify: a dry run renders and sends nothing, as the
	// guide's first command does (a live run needs an SNS endpoint).
	"guide.md/announce": {
		vars: []string{"OPS_TOPIC=arn:aws:sns:eu-west-1:123456789012:ops-announce"},
		runs: []docRun{{env: "staging", mode: "dry-run"}},
	},
	// The reference's complete runbook, in its local (SQLite) environment:
	// the webhook to a local server, the checklist, approval and
	// destructive cleanup answered as docs/answers.md shows. The table
	// is the one the page describes; some rows have no address.
	"runbook.md/split-address": {
		setup: map[string]string{"shop.db": usersSQL(2000)},
		vars:  []string{"SLACK_WEBHOOK=$WEBHOOK", "DYNAMODB_ENDPOINT=http://127.0.0.1:1"},
		runs: []docRun{{env: "local", answers: `deploy-reader: {check: all}
go-no-go: {approve: bob, reason: "docs example"}
drop-address: {confirm: true}
`}},
		unmigrated: map[string]string{"shop.db": "SELECT count(*) FROM users WHERE address IS NOT NULL OR (id % 5 != 0 AND (city IS NULL OR v IS NOT 2))"},
	},
	// rollback.md's plan B runbook, on a split that goes right: a fifth
	// of the items without an address, as on the page (1000 items, not
	// its 5000: the page's max_write_rate of 500 would take 8 s).
	"rollback.md/split-address": {
		setup:      map[string]string{"users.db": usersSQL(1000)},
		runs:       []docRun{{env: "staging"}},
		unmigrated: map[string]string{"users.db": "SELECT count(*) FROM users WHERE address IS NOT NULL AND (city IS NULL OR address != upper(address) OR v IS NOT 3)"},
	},
	// registry.md's worked example as the page tells it: a rehearsal in
	// staging, then the protected prod run it lets start.
	"registry.md/users-email": {
		setup: map[string]string{"staging.db": emailsSQL, "prod.db": emailsSQL},
		runs: []docRun{
			{env: "prod", answers: "confirm_env: prod\n", exit: 2, says: `missing answer "unrehearsed"`},
			{env: "staging", mode: "rehearsal"},
			{env: "prod", answers: "confirm_env: prod\n"},
		},
		unmigrated: map[string]string{"prod.db": "SELECT count(*) FROM users WHERE email != lower(email) OR v IS NOT 2"},
	},
}

// docNotRun lists, with the reason, the complete examples this test lints
// only (runbook/docs_test.go) and does not run.
var docNotRun = map[string]string{
	"postgres.md/users-city": "needs a PostgreSQL server: test/acceptance TestPostgresDocsExample runs it",
}

// TestDocsExamplesRun runs every runnable runbook example of docs/ as
// written against the real binary, to a completed session whose journal
// verifies: a broken example fails naming its file and line.
func TestDocsExamplesRun(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, x := range docExamples(t) {
		key := x.file + "/" + x.name
		seen[key] = true
		recipe, ok := docRecipes[key]
		if !ok {
			if _, skip := docNotRun[key]; !skip {
				t.Errorf("%s: a complete example neither run (docRecipes) nor listed as not runnable (docNotRun)", x.where())
			}
			continue
		}
		t.Run(strings.ReplaceAll(key, "/", "_"), func(t *testing.T) {
			t.Parallel()
			runDocExample(t, x, recipe)
		})
	}
	for key := range docRecipes {
		if !seen[key] {
			t.Errorf("docRecipes: no complete example %s in docs/", key)
		}
	}
	for key := range docNotRun {
		if !seen[key] {
			t.Errorf("docNotRun: no complete example %s in docs/", key)
		}
	}
}

// runDocExample prepares what one example needs, runs it and checks the
// outcome and the journal.
func runDocExample(t *testing.T, x docExample, recipe docRecipe) {
	e := newEnv(t)
	for file, ddl := range recipe.setup {
		if ddl == fromDoc {
			ddl = docSetupSQL(t, x, file)
		}
		sqliteExec(t, filepath.Join(e.dir, file), ddl)
	}
	var hooks atomic.Int64 // requests the webhook received
	webhook := false
	for _, v := range recipe.vars {
		if strings.Contains(v, "$WEBHOOK") {
			srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hooks.Add(1) }))
			t.Cleanup(srv.Close)
			v, webhook = strings.ReplaceAll(v, "$WEBHOOK", srv.URL), true
		}
		e.vars = append(e.vars, v)
	}
	rb := e.writeFile("runbook.yaml", x.src)
	if r := e.run("lint", rb); r.Code != 0 {
		t.Fatalf("%s: lockstep lint: exit %d\n%s", x.where(), r.Code, r)
	}
	for i, run := range recipe.runs {
		args := []string{"run", rb, "--env", run.env, "--plain"}
		if run.mode != "" {
			args = append(args, "--mode", run.mode)
		}
		if run.answers != "" {
			args = append(args, "--answers", e.writeFile(fmt.Sprintf("answers-%d.yaml", i), run.answers))
		}
		r := e.run(args...)
		if r.Code != run.exit {
			t.Fatalf("%s: lockstep %s: exit %d, want %d\n%s", x.where(), strings.Join(args, " "), r.Code, run.exit, r)
		}
		if run.exit != 0 {
			if !strings.Contains(r.Stdout+r.Stderr, run.says) {
				t.Fatalf("%s: lockstep %s: the output does not say %s\n%s", x.where(), strings.Join(args, " "), run.says, r)
			}
			continue
		}
		if s := e.latest(); s.Outcome != "completed" {
			t.Fatalf("%s: lockstep %s: outcome %q, want completed\n%s", x.where(), strings.Join(args, " "), s.Outcome, r)
		}
	}
	if webhook && hooks.Load() == 0 {
		t.Errorf("%s: the webhook received nothing", x.where())
	}
	for file, query := range recipe.unmigrated {
		if n := sqliteCount(t, filepath.Join(e.dir, file), query); n != 0 {
			t.Errorf("%s: %d rows of %s not as the page says: %s", x.where(), n, file, query)
		}
	}
	if r := e.run("journal", "verify"); r.Code != 0 {
		t.Fatalf("%s: lockstep journal verify: exit %d\n%s", x.where(), r.Code, r)
	}
}

// sqliteExec runs statements on a SQLite file, creating it.
func sqliteExec(t *testing.T, path, statements string) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(statements); err != nil {
		t.Fatalf("set up %s: %v", filepath.Base(path), err)
	}
}

// sqliteCount runs a count query on a SQLite file.
func sqliteCount(t *testing.T, path, query string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %s: %v", filepath.Base(path), query, err)
	}
	return n
}

// TestExamplesOf checks the extraction: only complete runbooks, each with
// the line of its first line and its name.
func TestExamplesOf(t *testing.T) {
	doc := "# T\n\n```yaml\nsnapshot: {run: true}\n```\n\ntext\n```yaml\nlockstep: 1\nname: a\nphases: []\n```\n```yaml\nlockstep: 1\nname: b\n```\n"
	tests := []struct {
		i          int
		line       int
		name, head string
	}{
		{0, 9, "a", "lockstep: 1\nname: a\n"},
		{1, 14, "b", "lockstep: 1\nname: b\n"},
	}
	got := examplesOf("x.md", doc)
	if len(got) != len(tests) {
		t.Fatalf("%d examples, want %d: %+v", len(got), len(tests), got)
	}
	for _, tt := range tests {
		x := got[tt.i]
		if x.line != tt.line || x.name != tt.name || !strings.HasPrefix(x.src, tt.head) {
			t.Errorf("example %d: %+v, want line %d name %s", tt.i, x, tt.line, tt.name)
		}
		if want := fmt.Sprintf("docs/x.md:%d (%s)", tt.line, tt.name); x.where() != want {
			t.Errorf("where() = %q, want %q", x.where(), want)
		}
	}
}
