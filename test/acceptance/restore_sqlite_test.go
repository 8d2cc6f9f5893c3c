package acceptance

import (
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSQLiteRestorePlanB: migrate, let "the application" change some of
// the migrated rows (and delete one), then restore the backup. Rows the
// migration left untouched since are restored exactly; the changed ones
// are conflicts, left as the application wrote them when the operator
// keeps them, and put back too when the operator answers restore.
func TestSQLiteRestorePlanB(t *testing.T) {
	t.Parallel()
	for _, choice := range []string{"keep", "restore", ""} {
		t.Run("choice "+choice, func(t *testing.T) {
			t.Parallel()
			const n = 300
			h := newHarness(t)
			data := filepath.Join(h.dir, "data.db")
			seeded := seedSQLite(t, data, "counters", n)
			rb := h.writeFile("plan-b.yaml", restoreRunbook("acc-restore-"+choice, sqliteStore(data, "counters"), 0, 50))
			answers := h.writeFile("answers.yaml", "undo: {choice: "+choice+", reason: \"app writes reviewed\"}\n")
			if choice == "" {
				answers = h.writeFile("answers.yaml", "bump: {retry: true}\n")
			}
			p := h.start("run", rb, "--env", "test", "--plain", "--answers", answers)
			h.waitStepEnd(p, "bump", 2*time.Minute)

			app := appWritesSQLite(t, data, seeded)
			h.writeFile("app-done", "")
			if choice == "" { // no answer: stop before writing anything, naming the key
				r := p.Wait(2 * time.Minute)
				if r.Code != 2 || !strings.Contains(r.Stdout+r.Stderr, "undo.choice") {
					t.Fatalf("run without an answer: exit %d, want 2 naming undo.choice\n%s", r.Code, r)
				}
				for id, got := range readSQLite(t, data, "counters") {
					if w, ok := app[id]; got.V != targetVersion || ok && got != w {
						t.Fatalf("item %s = %+v: the restore wrote without an answer", id, got)
					}
				}
				return
			}
			if r := p.Wait(2 * time.Minute); r.Code != 0 {
				t.Fatalf("run: exit %d, want 0\n%s", r.Code, r)
			}
			s := h.onlySession()
			var res restoreResult
			if status := h.stepResult(s.ID, "undo", &res); status != "done" {
				t.Fatalf("undo ended %q", status)
			}
			if res.Restored != n-int64(len(app)) || res.Conflicts != int64(len(app)) || res.Deleted != 1 {
				t.Errorf("undo = %+v, want %d restored, %d conflicts (1 deleted)", res, n-len(app), len(app))
			}
			want := app
			if choice == "restore" {
				want = nil
				if res.Forced != int64(len(app)) || res.Decision != "restore" {
					t.Errorf("undo = %+v, want the %d conflicts restored anyway", res, len(app))
				}
			} else if res.Kept != int64(len(app)) {
				t.Errorf("undo = %+v, want the %d conflicts kept", res, len(app))
			}
			checkRestored(t, seeded, readSQLite(t, data, "counters"), want)
		})
	}
}

// appWritesSQLite is the application writing after the migration: it
// adds 1000 to every tenth migrated row and deletes row 7. It returns
// what those rows hold now (deleted: the zero row).
func appWritesSQLite(t *testing.T, path string, seeded map[string]int64) map[string]row {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	app := map[string]row{}
	for id, c := range seeded {
		k, _ := strconv.Atoi(id)
		switch {
		case k == 7:
			if _, err := db.Exec(`DELETE FROM counters WHERE id = 7`); err != nil {
				t.Fatal(err)
			}
			app[id] = row{}
		case k%10 == 0:
			if _, err := db.Exec(`UPDATE counters SET count = count + 1000 WHERE id = ?`, k); err != nil {
				t.Fatal(err)
			}
			app[id] = row{Count: c + 1 + 1000, V: targetVersion}
		}
	}
	return app
}
