package throttle_test

import (
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine/throttle"
)

func TestMigrateRateLimiterTokenAccounting(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		ceiling int
		takes   int
		want    time.Duration // delay of the last reservation, all taken at t0
	}{
		{"unlimited", 0, 1000, 0},
		{"10 per second", 10, 21, 2 * time.Second}, // burst 1: the 21st token is due at 2 s
		{"100 per second", 100, 110, 1 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := throttle.NewWriteLimiter(func() int { return tt.ceiling })
			var last time.Duration
			for range tt.takes {
				last = w.Reserve(t0)
			}
			if diff := last - tt.want; diff < -time.Millisecond || diff > time.Millisecond {
				t.Errorf("delay of token %d = %v, want %v", tt.takes, last, tt.want)
			}
			if got := w.Taken(); got != int64(tt.takes) {
				t.Errorf("Taken() = %d, want %d", got, tt.takes)
			}
		})
	}
}

func TestMigrateRateLimiterAIMD(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return now.Add(d) }
	ceiling := 200
	w := throttle.NewWriteLimiter(func() int { return ceiling })
	w.Reserve(now)
	if got := w.Limit(); got != 200 {
		t.Fatalf("Limit() = %v, want 200", got)
	}
	steps := []struct {
		name  string
		do    func()
		limit float64
	}{
		{"throttles within an epoch wait for its end", func() { w.Throttled(at(0)); w.Throttled(at(100 * time.Millisecond)) }, 200},
		{"an epoch of only throttles halves the rate", func() { w.Throttled(at(600 * time.Millisecond)) }, 100},
		{"successes within 50ms add nothing", func() { w.Succeeded(at(620 * time.Millisecond)) }, 100},
		{"one second of successes adds 25% of the ceiling", func() { w.Succeeded(at(1600 * time.Millisecond)) }, 150},
		{"recovery is capped at the ceiling", func() { w.Succeeded(at(20 * time.Second)) }, 200},
	}
	for _, st := range steps {
		st.do()
		if got := w.Limit(); got != st.limit {
			t.Fatalf("%s: Limit() = %v, want %v", st.name, got, st.limit)
		}
	}
	if w.Throttles() != 3 {
		t.Errorf("Throttles() = %d, want 3", w.Throttles())
	}
	ceiling = 40 // the operator lowers the rate
	w.Reserve(at(21 * time.Second))
	if got := w.Limit(); got != 40 {
		t.Errorf("after override Limit() = %v, want 40", got)
	}
}

// simulate feeds the limiter one write per millisecond from start for d,
// throttling those for which throttled(i) is true; it returns the end.
func simulate(w *throttle.WriteLimiter, start time.Time, d time.Duration, throttled func(i int) bool) time.Time {
	n := int(d / time.Millisecond)
	for i := range n {
		ts := start.Add(time.Duration(i) * time.Millisecond)
		w.Reserve(ts)
		if throttled(i) {
			w.Throttled(ts)
		} else {
			w.Succeeded(ts)
		}
	}
	return start.Add(d)
}

func TestMigrateRateLimiterUnderThrottling(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := throttle.NewWriteLimiter(func() int { return 0 })
	t1 := simulate(w, t0, 2*time.Second, func(int) bool { return false })
	if got := w.Limit(); got != 0 {
		t.Fatalf("without throttles Limit() = %v, want 0 (unlimited)", got)
	}
	// 3% of writes throttled at random for 10 s: the rate must hold near
	// where it was (sporadic throttles are retried per item), not collapse.
	t2 := simulate(w, t1, 10*time.Second, func(i int) bool { return i%33 == 0 })
	if got := w.Limit(); got != 0 && got < 700 {
		t.Errorf("under 3%% throttles Limit() = %v, want it to hold near 1000 items/s", got)
	}
	// Every write throttled for 3 s: the table is at capacity, back off hard.
	t3 := simulate(w, t2, 3*time.Second, func(int) bool { return true })
	if got := w.Limit(); got == 0 || got > 100 {
		t.Errorf("under 100%% throttles Limit() = %v, want below 100 items/s", got)
	}
	// Then no throttles: additive recovery back to unlimited.
	simulate(w, t3, 20*time.Second, func(int) bool { return false })
	if got := w.Limit(); got != 0 {
		t.Errorf("after 20 s without throttles Limit() = %v, want 0 (unlimited)", got)
	}
}
