package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/internal/sqlitetest"
	"github.com/lockstep-run/lockstep/runbook"
)

// sqlPathOpener opens stores the way cmd/lockstep does: a sqlite spec
// without a table is a database for SQL only.
func sqlPathOpener(_ context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
	if spec.Kind != runbook.StoreSQLite {
		return nil, fmt.Errorf("test opener: no %s store here", spec.Kind)
	}
	if spec.Table == "" {
		return sqlite.OpenSQL(spec.Path)
	}
	return sqlite.Open(spec)
}

// execFile runs statements on the SQLite file at path (created if missing).
func execFile(t *testing.T, path string, statements ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, st := range statements {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
}

// TestSQLStepPath: a sql step with `path:` runs on that SQLite file
// whatever the environment's store (none, DynamoDB, another SQLite file,
// the same one), commits live, leaves nothing in dry-run, and reports bad
// paths with the runbook position.
func TestSQLStepPath(t *testing.T) {
	t.Parallel()
	const create = `CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT)`
	tests := []struct {
		name    string
		store   string // the environment's store ("" for none); $ENV is the env db
		path    string // the step's path; $DIR is the temp dir
		prepare func(t *testing.T, dir string)
		mode    engine.Mode
		with    string // more `with:` keys
		// want: the tables of wantFile after the run ("-" when the file
		// must not exist); wantErr: the step fails with this text.
		wantFile, want, wantErr string
	}{
		{name: "no store: creates the table", path: "$DIR/side.db", mode: engine.ModeLive,
			wantFile: "side.db", want: "audit"},
		{name: "dynamodb store: creates the table", store: `{kind: dynamodb, table: users, region: eu-west-1}`,
			path: "$DIR/side.db", mode: engine.ModeLive, wantFile: "side.db", want: "audit"},
		{name: "other sqlite file whose users table lacks the key", store: `{kind: sqlite, path: "$ENV", table: users, key: [id]}`,
			path: "$DIR/side.db", mode: engine.ModeLive,
			prepare: func(t *testing.T, dir string) {
				execFile(t, filepath.Join(dir, "side.db"), "CREATE TABLE users (name TEXT)")
			},
			wantFile: "side.db", want: "audit,users"},
		{name: "the environment's own file through a variable", store: `{kind: sqlite, path: "$ENV", table: users, key: [id]}`,
			path: "${SIDE_DB}", mode: engine.ModeLive, wantFile: "env.db", want: "audit,lockstep_registry,users"}, // a live session records itself in its store's registry
		{name: "dry-run on a new file leaves no file", path: "$DIR/side.db", mode: engine.ModeDryRun,
			wantFile: "side.db", want: "-"},
		{name: "dry-run on an existing file leaves no table", path: "$DIR/side.db", mode: engine.ModeDryRun,
			prepare:  func(t *testing.T, dir string) { execFile(t, filepath.Join(dir, "side.db"), "CREATE TABLE keep (x)") },
			wantFile: "side.db", want: "keep"},
		{name: "missing directory", path: "$DIR/nodir/side.db", mode: engine.ModeLive,
			wantErr: "sql mk at test.yaml:9:9: open sqlite store: open sqlite database $DIR/nodir/side.db: directory $DIR/nodir does not exist (create it first)"},
		{name: "a directory, not a file", path: "$DIR", mode: engine.ModeLive,
			wantErr: "sql mk at test.yaml:9:9: open sqlite store: open sqlite database $DIR: is a directory"},
		{name: "not a database", path: "$DIR/notes.txt", mode: engine.ModeLive,
			prepare: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte(strings.Repeat("not sqlite\n", 200)), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "sql mk at test.yaml:9:9: open sqlite store: open sqlite database $DIR/notes.txt: file is not a database"},
		{name: "failed statement rolls back", path: "$DIR/side.db", mode: engine.ModeLive,
			prepare:  func(t *testing.T, dir string) { execFile(t, filepath.Join(dir, "side.db"), "CREATE TABLE keep (x)") },
			wantFile: "side.db", want: "keep", wantErr: "sql mk at test.yaml:9:9: exec sql statement 2 (INSERT INTO nope VALUES (1)): no such table: nope"},
		// PostgreSQL's settings are refused, not ignored, where they cannot apply.
		{name: "lock_timeout on sqlite", path: "$DIR/side.db", mode: engine.ModeLive, with: ", lock_timeout: 2s",
			wantFile: "side.db", want: "-", wantErr: "sql mk at test.yaml:9:9: transaction, lock_timeout and statement_timeout apply to PostgreSQL stores"},
		{name: "transaction: false on sqlite", path: "$DIR/side.db", mode: engine.ModeLive, with: ", transaction: false",
			wantFile: "side.db", want: "-", wantErr: "sql mk at test.yaml:9:9: transaction, lock_timeout and statement_timeout apply to PostgreSQL stores"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			envDB := filepath.Join(dir, "env.db")
			execFile(t, envDB, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, v INTEGER)")
			if tt.prepare != nil {
				tt.prepare(t, dir)
			}
			expand := strings.NewReplacer("$DIR", dir, "$ENV", envDB).Replace
			env := "{}"
			if tt.store != "" {
				env = "{store: " + expand(tt.store) + "}"
			}
			stmts := `["` + create + `"]`
			if tt.name == "failed statement rolls back" {
				stmts = `["` + create + `", "INSERT INTO nope VALUES (1)"]`
			}
			h := rig.NewHarness(t, fmt.Sprintf(`
lockstep: 1
name: t
title: SQL path
version: 1
environments: {test: %s}
phases:
  - name: p
    steps:
      - {id: mk, kind: sql, with: {path: "%s", statements: %s%s}}
`, env, expand(tt.path), stmts, tt.with), rig.Answers(map[string][]rig.Reply{"mk:failed": {{Ans: engine.Answer{Action: engine.ActionSkip, Reason: "expected"}}}}))
			h.Cfg.Mode, h.Cfg.Stores = tt.mode, sqlPathOpener
			h.Cfg.Getenv = func(k string) string { return map[string]string{"SIDE_DB": envDB}[k] }
			h.MustRun(engine.OutcomeCompleted)

			end := h.EndOf("mk")
			if tt.wantErr != "" {
				if msg, _ := end["error"].(string); end["status"] != "failed" || !strings.HasPrefix(msg, expand(tt.wantErr)) {
					t.Errorf("step.end = %v, want failed with %q", end, expand(tt.wantErr))
				}
			} else if end["status"] != "done" {
				t.Fatalf("step.end = %v, want done", end)
			} else if res := end["result"].(map[string]any); res["committed"] != (tt.mode == engine.ModeLive) {
				t.Errorf("result committed = %v, want %v", res["committed"], tt.mode == engine.ModeLive)
			}
			if tt.wantFile != "" {
				if got := sqlitetest.Tables(t, filepath.Join(dir, tt.wantFile)); got != tt.want {
					t.Errorf("tables of %s = %q, want %q", tt.wantFile, got, tt.want)
				}
				for _, f := range []string{"-wal", "-shm"} {
					if _, err := os.Stat(filepath.Join(dir, tt.wantFile+f)); tt.want == "-" && err == nil {
						t.Errorf("%s%s left behind", tt.wantFile, f)
					}
				}
			}
		})
	}
}
