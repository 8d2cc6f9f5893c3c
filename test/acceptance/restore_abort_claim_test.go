package acceptance

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSQLiteRestoreAbortWritesNothing holds docs/rollback.md: asked once
// about the conflicts (items the application changed since the
// migration), "`abort` writes nothing". The built binary migrates, the
// application changes some rows and deletes one, and the restore is
// answered abort: the session ends aborted (exit 1) with every row as
// the migration and the application left it, the deleted row still gone,
// and its journaled result says none was restored.
func TestSQLiteRestoreAbortWritesNothing(t *testing.T) {
	t.Parallel()
	const n = 300
	h := newHarness(t)
	data := filepath.Join(h.dir, "data.db")
	seeded := seedSQLite(t, data, "counters", n)
	rb := h.writeFile("plan-b.yaml", restoreRunbook("acc-restore-abort", sqliteStore(data, "counters"), 0, 50))
	answers := h.writeFile("answers.yaml", "undo: {choice: abort, reason: \"restore nothing: ask the app team\", abort: true}\n")
	p := h.start("run", rb, "--env", "test", "--plain", "--answers", answers)
	h.waitStepEnd(p, "bump", 2*time.Minute)
	app := appWritesSQLite(t, data, seeded)
	h.writeFile("app-done", "")
	r := p.Wait(2 * time.Minute)
	if r.Code != 1 || !strings.Contains(r.Stdout+r.Stderr, "abort") {
		t.Fatalf("run answered abort: exit %d, want 1 (aborted)\n%s", r.Code, r)
	}
	got := readSQLite(t, data, "counters")
	if len(got) != n-1 {
		t.Errorf("%d rows after the aborted restore, want %d (the deleted row stays deleted)", len(got), n-1)
	}
	bad := 0
	for id, c := range seeded {
		want, ok := app[id]
		if !ok {
			want = row{Count: c + 1, V: targetVersion} // as the migration left it
		}
		if g, present := got[id]; present && g != want || !present && want != (row{}) {
			if bad++; bad <= 3 {
				t.Errorf("item %s = %+v (present %v) after the aborted restore, want %+v", id, g, present, want)
			}
		}
	}
	if bad > 3 {
		t.Errorf("... %d items in all changed by an aborted restore", bad)
	}
	s := h.onlySession()
	var res restoreResult
	if status := h.stepResult(s.ID, "undo", &res); status == "done" || res.Decision != "abort" || res.Restored != 0 || res.Forced != 0 {
		t.Errorf("undo ended %q with %+v, want it failed on the abort decision, nothing restored or forced", status, res)
	}
}
