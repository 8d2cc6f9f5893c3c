package engine_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// sqlUsersDB creates a SQLite database with a users table using the sqlite3
// CLI (the store opens existing tables only).
func sqlUsersDB(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("sqlite3"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sqlite3 CLI missing")
		}
		t.Skip("sqlite3 CLI not installed")
	}
	db := filepath.Join(t.TempDir(), "data.db")
	sqlite3Query(t, db, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, v INTEGER); INSERT INTO users VALUES (1, 'ada', NULL), (2, 'bob', NULL);")
	return db
}

func sqlite3Query(t *testing.T, db, sql string) string {
	t.Helper()
	out, err := exec.Command("sqlite3", db, sql).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %q: %v: %s", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

func sqliteOpener(_ context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
	return sqlite.Open(spec)
}

func dryRunbook(db, marker, file string) string {
	return `
lockstep: 1
name: t
title: Dry
version: 1
environments:
  test:
    store: {kind: sqlite, path: "` + db + `", table: users, key: [id]}
phases:
  - name: p
    steps:
      - {id: look, kind: manual, text: Look.}
      - {id: touch, kind: shell, with: {run: "touch ` + marker + `"}}
      - {id: probe, kind: shell, with: {run: "echo probing", dry_run: run}}
      - {id: upper, kind: sql, with: {statements: ["UPDATE users SET name = upper(name)", "SELECT name FROM users ORDER BY id"]}}
      - {id: tell, kind: notify, with: {channel: file, path: "` + file + `", template: "hello {{.Mode}}"}}
      - {id: snap, kind: backup}
      - {id: drill, kind: restore-drill, with: {from: snap}}
      - {id: take, kind: lock}
      - {id: settle, kind: wait, with: {duration: 1h}}
      - {id: free, kind: unlock}
      - {id: guarded, kind: shell, requires: [snap, take], with: {run: "touch ` + marker + `"}}
`
}

func TestDryRunSemantics(t *testing.T) {
	t.Parallel()
	db := sqlUsersDB(t)
	dir := t.TempDir()
	marker, file := filepath.Join(dir, "marker"), filepath.Join(dir, "notes")
	h := rig.NewHarness(t, dryRunbook(db, marker, file), rig.Answers(map[string][]rig.Reply{"look:manual": {{Ans: engine.Answer{Confirm: true}}}}))
	h.Cfg.Mode, h.Cfg.Stores = engine.ModeDryRun, sqliteOpener
	h.MustRun(engine.OutcomeCompleted)

	tests := []struct {
		step   string
		status string
		reason string
		check  func(t *testing.T)
	}{
		{"look", "done", "", nil},
		{"touch", "done", "", func(t *testing.T) {
			if _, err := os.Stat(marker); err == nil {
				t.Error("dry-run executed the shell command")
			}
			if got := h.Output("touch"); !strings.Contains(got, "would run: touch "+marker) {
				t.Errorf("output = %q, want would run", got)
			}
		}},
		{"probe", "done", "", func(t *testing.T) {
			if got := h.Output("probe"); !strings.Contains(got, "probing") {
				t.Errorf("dry_run: run step output = %q, want it executed", got)
			}
		}},
		{"upper", "done", "", func(t *testing.T) {
			if got := sqlite3Query(t, db, "SELECT name FROM users ORDER BY id"); got != "ada\nbob" {
				t.Errorf("table after dry-run sql = %q, want unchanged", got)
			}
			if res := h.EndOf("upper")["result"].(map[string]any); res["committed"] != false {
				t.Errorf("sql result = %v, want committed false", res)
			}
		}},
		{"tell", "done", "", func(t *testing.T) {
			if _, err := os.Stat(file); err == nil {
				t.Error("dry-run notify wrote its file")
			}
			var d struct {
				Message string
				Sent    bool
			}
			_ = h.Find(engine.EvNotify, "tell")[0].Decode(&d)
			if d.Message != "hello dry-run" || d.Sent {
				t.Errorf("notify event = %+v, want rendered, not sent", d)
			}
		}},
		{"snap", "skipped", "dry-run", nil},
		{"drill", "skipped", "dry-run", nil},
		{"take", "skipped", "dry-run", nil},
		{"settle", "skipped", "dry-run", nil},
		{"free", "skipped", "dry-run", nil},
		// Requiring a backup and a lock, which a dry-run skips, does not
		// hide what the step would do.
		{"guarded", "done", "", func(t *testing.T) {
			if got := h.Output("guarded"); !strings.Contains(got, "would run: touch "+marker) {
				t.Errorf("output = %q, want would run", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			end := h.EndOf(tt.step)
			if end["status"] != tt.status || (tt.reason != "" && end["reason"] != tt.reason) {
				t.Errorf("step.end = %v, want %s %s", end, tt.status, tt.reason)
			}
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
	if applied, _ := h.J.AppliedMigrations(context.Background(), "test", "t"); len(applied) != 0 {
		t.Errorf("dry-run recorded applied migrations: %+v", applied)
	}
}

func TestSQLLiveCommits(t *testing.T) {
	t.Parallel()
	db := sqlUsersDB(t)
	h := rig.NewHarness(t, `
lockstep: 1
name: t
title: SQL
version: 1
environments:
  test:
    store: {kind: sqlite, path: "`+db+`", table: users, key: [id]}
phases:
  - name: p
    steps:
      - {id: upper, kind: sql, with: {statements: ["UPDATE users SET name = upper(name)", "SELECT id, name FROM users ORDER BY id"]}}
      - {id: broken, kind: sql, with: {statements: ["UPDATE users SET name = 'x'", "UPDATE nope SET a = 1"]}}
`, rig.Answers(map[string][]rig.Reply{"broken:failed": {{Ans: engine.Answer{Action: engine.ActionSkip, Reason: "expected"}}}}))
	h.Cfg.Stores = sqliteOpener
	h.MustRun(engine.OutcomeCompleted)
	if got := sqlite3Query(t, db, "SELECT name FROM users ORDER BY id"); got != "ADA\nBOB" {
		t.Errorf("table = %q, want ADA, BOB (committed; the failed step's transaction rolled back)", got)
	}
	res := h.EndOf("upper")["result"].(map[string]any)
	results := res["results"].([]any)
	if len(results) != 2 || results[0].(map[string]any)["rows_affected"] != float64(2) {
		t.Errorf("sql results = %v", results)
	}
	if e := h.Find(engine.EvStepEnd, "broken"); len(e) == 0 || !strings.Contains(string(e[0].Data), "nope") {
		t.Errorf("broken step.end = %v", e)
	}
}
