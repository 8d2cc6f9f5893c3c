package acceptance

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// TestPostgresRestorePlanB is TestSQLiteRestorePlanB against a real
// PostgreSQL server: the application's writes since the migration are
// conflicts kept as it wrote them, every other row is restored exactly.
func TestPostgresRestorePlanB(t *testing.T) {
	t.Parallel()
	const n = 200
	h := newHarness(t)
	dsn := pgDB(t)
	h.vars = append(h.vars, "PG_DSN="+dsn)
	seeded := seedPostgres(t, dsn, "counters", n)
	rb := h.writeFile("plan-b.yaml", restoreRunbook("acc-restore-pg", postgresStore("counters"), 0, 50))
	answers := h.writeFile("answers.yaml", "undo: {choice: keep, reason: \"the app's writes win\"}\n")
	p := h.start("run", rb, "--env", "test", "--plain", "--answers", answers)
	h.waitStepEnd(p, "bump", 2*time.Minute)

	c := pgConn(t, dsn)
	ctx := context.Background()
	app := map[string]row{}
	for id, cnt := range seeded {
		k, _ := strconv.Atoi(id)
		switch {
		case k == 7:
			if _, err := c.Exec(ctx, `DELETE FROM counters WHERE id = 7`); err != nil {
				t.Fatal(err)
			}
			app[id] = row{}
		case k%25 == 0:
			if _, err := c.Exec(ctx, `UPDATE counters SET count = count + 1000 WHERE id = $1`, k); err != nil {
				t.Fatal(err)
			}
			app[id] = row{Count: cnt + 1 + 1000, V: targetVersion}
		}
	}
	h.writeFile("app-done", "")
	if r := p.Wait(2 * time.Minute); r.Code != 0 {
		t.Fatalf("run: exit %d, want 0\n%s", r.Code, r)
	}
	var res restoreResult
	if status := h.stepResult(h.onlySession().ID, "undo", &res); status != "done" {
		t.Fatalf("undo ended %q", status)
	}
	if res.Restored != n-int64(len(app)) || res.Conflicts != int64(len(app)) || res.Kept != int64(len(app)) || res.Deleted != 1 {
		t.Errorf("undo = %+v, want %d restored, %d conflicts kept (1 deleted)", res, n-len(app), len(app))
	}
	checkRestored(t, seeded, readPostgres(t, dsn, "counters"), app)
}
