package acceptance

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSQLiteMigrateKilledOnce runs the counter migration over 20,000 rows
// of a SQLite file with the binary, kills it with SIGKILL halfway through
// its checkpoints, resumes it to the end: every counter is incremented
// exactly once, every row is at the target version, and the resumed step
// continued from its checkpoints.
func TestSQLiteMigrateKilledOnce(t *testing.T) {
	t.Parallel()
	const batch, segments = 100, 4
	h := newHarness(t)
	data := filepath.Join(h.dir, "data.db")
	seeded := seedSQLite(t, data, "counters", counterItems)
	rb := h.writeFile("counter.yaml", counterRunbook("acc-sqlite", sqliteStore(data, "counters"), 10_000, batch, segments))

	start := time.Now()
	p := h.start("run", rb, "--env", "test", "--plain")
	got := h.waitCheckpoints(p, "bump", counterItems/batch/2, 2*time.Minute)
	p.kill9()
	t.Logf("killed after %d checkpoints (%v)", got, time.Since(start).Round(time.Millisecond))
	s := h.onlySession()
	if _, ended := lastStepEnd(t, h.journalDB(), s.ID, "bump"); ended || s.Outcome != "" {
		t.Fatalf("the kill did not interrupt the migration (outcome %q, step ended %v)", s.Outcome, ended)
	}
	if half := readSQLite(t, data, "counters"); countAt(half, targetVersion) == 0 {
		t.Fatal("no row migrated before the kill")
	}

	r := h.mustRun(0, 3*time.Minute, "resume", s.ID, "--plain")
	t.Logf("finished after %v", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(r.Stdout, "resuming") {
		t.Errorf("the resume does not say it continues from checkpoints\n%s", r)
	}
	if s := h.onlySession(); s.Outcome != "completed" {
		t.Errorf("session outcome %q, want completed", s.Outcome)
	}
	checkMigratedOnce(t, seeded, readSQLite(t, data, "counters"), nil)
	checkResumedResult(t, h, s.ID, counterItems, pagesInFlight*segments*batch)
	h.mustRun(0, time.Minute, "journal", "verify", s.ID) // the hash chain survived the kill
	checkRerunChangesNothing(t, h, rb, seeded, func() map[string]row { return readSQLite(t, data, "counters") })
}

// checkRerunChangesNothing runs the migration again in a new session: it
// finds every item already at the target version and writes nothing.
func checkRerunChangesNothing(t *testing.T, h *harness, rb string, seeded map[string]int64, read func() map[string]row) {
	t.Helper()
	r := h.mustRun(0, 3*time.Minute, "run", rb, "--env", "test", "--plain")
	list := h.sessions()
	id := list[len(list)-1].ID
	var res migrateResult
	if status := h.stepResult(id, "bump", &res); status != "done" || res.Migrated != 0 || res.Scanned != int64(len(seeded)) {
		t.Errorf("re-run: bump ended %q with %+v, want done, %d scanned, 0 migrated\n%s", status, res, len(seeded), r)
	}
	checkMigratedOnce(t, seeded, read(), nil)
}

// countAt counts the rows at version v.
func countAt(rows map[string]row, v int64) int {
	n := 0
	for _, r := range rows {
		if r.V == v {
			n++
		}
	}
	return n
}
