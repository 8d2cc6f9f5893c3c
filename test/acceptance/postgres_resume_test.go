package acceptance

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestPostgresMigrateKilledOnce runs the counter migration over 20,000
// rows of a PostgreSQL table with the binary, kills it with SIGKILL
// halfway through its checkpoints, resumes it to the end: every counter
// is incremented exactly once, every row is at the target version, the
// resumed step continued from its checkpoints, and the DSN's password
// shows nowhere.
func TestPostgresMigrateKilledOnce(t *testing.T) {
	t.Parallel()
	const batch, segments = 100, 4
	h := newHarness(t)
	dsn := pgDB(t)
	h.vars = append(h.vars, "PG_DSN="+dsn)
	seeded := seedPostgres(t, dsn, "counters", counterItems)
	rb := h.writeFile("counter.yaml", counterRunbook("acc-postgres", postgresStore("counters"), 10_000, batch, segments))

	start := time.Now()
	p := h.start("run", rb, "--env", "test", "--plain")
	got := h.waitCheckpoints(p, "bump", counterItems/batch/2, 2*time.Minute)
	killed := p.kill9()
	t.Logf("killed after %d checkpoints (%v)", got, time.Since(start).Round(time.Millisecond))
	s := h.onlySession()
	if _, ended := lastStepEnd(t, h.journalDB(), s.ID, "bump"); ended || s.Outcome != "" {
		t.Fatalf("the kill did not interrupt the migration (outcome %q, step ended %v)", s.Outcome, ended)
	}
	if half := readPostgres(t, dsn, "counters"); countAt(half, targetVersion) == 0 {
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
	checkMigratedOnce(t, seeded, readPostgres(t, dsn, "counters"), nil)
	checkResumedResult(t, h, s.ID, counterItems, pagesInFlight*segments*batch)
	show := h.mustRun(0, time.Minute, "journal", "show", s.ID)
	h.mustRun(0, time.Minute, "journal", "verify", s.ID)
	checkRerunChangesNothing(t, h, rb, seeded, func() map[string]row { return readPostgres(t, dsn, "counters") })
	journal, err := os.ReadFile(h.journal)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"the journal": string(journal), "the killed run's output": killed.Stdout + killed.Stderr,
		"the resume's output": r.Stdout + r.Stderr, "journal show": show.Stdout} {
		if strings.Contains(text, pgPassword) {
			t.Errorf("%s holds the DSN's password", name)
		}
	}
}
