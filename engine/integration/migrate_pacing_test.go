package integration_test

import (
	"context"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestMigrateRateLimitSpreadsWrites: under max_write_rate, a second
// connection sees migrated rows appear steadily, not a page at a time:
// between two looks, no more rows appear than the limit lets through in
// the time between them (at least a second's worth, plus slack). The
// pages are the SQLite store's default (2,000 items), far above the rate.
//
// A behaviour test, not a speed test: the bound is generous (1.5× the
// rate plus one bucket) and the run takes about 6 s.
func TestMigrateRateLimitSpreadsWrites(t *testing.T) {
	t.Parallel()
	const rows, rate = 1200, 200
	steps := `      - id: bump
        kind: migrate
        with:
          set: {count: "item.count + 1"}
`
	r := rig.NewSQLite(t, rig.DataRunbook(t, 2, "    max_write_rate: 200", steps), rows)
	db := r.SQLDB(t)

	type sample struct {
		at time.Time
		n  int64
	}
	var samples []sample
	done := make(chan error, 1)
	go func() {
		_, err := r.Run(r.StepContext("bump"))
		done <- err
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("migrate: %v", err)
			}
			finished = true
		case <-tick.C:
		}
		var n int64
		if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM users WHERE v = 2`).Scan(&n); err != nil {
			t.Fatalf("count migrated rows: %v", err)
		}
		samples = append(samples, sample{time.Now(), n})
	}
	if last := samples[len(samples)-1].n; last != rows {
		t.Fatalf("%d rows migrated, want %d", last, rows)
	}
	var worst int64
	for i := 1; i < len(samples); i++ {
		jump := samples[i].n - samples[i-1].n
		dt := max(time.Second, samples[i].at.Sub(samples[i-1].at))
		if allowed := int64(1.5*rate*dt.Seconds()) + rate/10; jump > allowed {
			t.Errorf("%d rows appeared at once after %v (%d→%d), want at most %d at %d/s", jump,
				samples[i].at.Sub(samples[i-1].at).Round(time.Millisecond), samples[i-1].n, samples[i].n, allowed, rate)
		}
		worst = max(worst, jump)
	}
	t.Logf("%d samples over %v; largest jump %d rows", len(samples), samples[len(samples)-1].at.Sub(samples[0].at).Round(time.Millisecond), worst)
}
