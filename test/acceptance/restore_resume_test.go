package acceptance

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSQLiteRestoreKilledOnce kills lockstep with SIGKILL in the middle
// of a restore and resumes it: every item ends as backed up, and the
// counts account for each item once — restored before the kill, recovered
// from the batch in flight, or restored after — none written twice.
func TestSQLiteRestoreKilledOnce(t *testing.T) {
	t.Parallel()
	const n, batch = 4000, 50
	h := newHarness(t)
	data := filepath.Join(h.dir, "data.db")
	seeded := seedSQLite(t, data, "counters", n)
	h.writeFile("app-done", "") // no application writes
	rb := h.writeFile("plan-b.yaml", restoreRunbook("acc-restore-kill", sqliteStore(data, "counters"), 500, batch))

	p := h.start("run", rb, "--env", "test", "--plain")
	got := h.waitCheckpoints(p, "undo", n/batch/3, 2*time.Minute)
	p.kill9()
	s := h.onlySession()
	if _, ended := lastStepEnd(t, h.journalDB(), s.ID, "undo"); ended {
		t.Fatal("the kill did not interrupt the restore")
	}
	half := readSQLite(t, data, "counters")
	if countAt(half, seedVersion) == 0 || countAt(half, targetVersion) == 0 {
		t.Fatalf("killed after %d checkpoints, but the table is not half restored", got)
	}

	r := h.mustRun(0, 3*time.Minute, "resume", s.ID, "--plain")
	if !strings.Contains(r.Stdout, "resuming at line") {
		t.Errorf("the resume does not say it continues from its checkpoint\n%s", r)
	}
	var res restoreResult
	if status := h.stepResult(s.ID, "undo", &res); status != "done" {
		t.Fatalf("undo ended %q", status)
	}
	if res.Restored != n || res.Unchanged != 0 || res.Conflicts != 0 || !res.Resumed || res.Recovered > batch {
		t.Errorf("undo = %+v, want all %d restored once (at most %d recovered), none unchanged", res, n, batch)
	}
	checkRestored(t, seeded, readSQLite(t, data, "counters"), nil)
	h.mustRun(0, time.Minute, "journal", "verify", s.ID)
}
