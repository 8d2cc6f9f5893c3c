package throttle_test

import (
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine/throttle"
)

// TestWriteLimiterBatchesAsSingles: ReserveN and SucceededN leave the
// limiter as the same number of Reserve and Succeeded calls do, limited
// or not, with throttles to recover from or not.
func TestWriteLimiterBatchesAsSingles(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		ceiling   int
		throttled bool
		n         int
	}{
		{"unlimited", 0, false, 5000},
		{"100 per second", 100, false, 250},
		{"unlimited after throttles", 0, true, 3000},
		{"limited after throttles", 500, true, 700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			single := throttle.NewWriteLimiter(func() int { return tt.ceiling })
			batch := throttle.NewWriteLimiter(func() int { return tt.ceiling })
			at := t0
			for _, w := range []*throttle.WriteLimiter{single, batch} {
				w.Reserve(at) // the first write applies the ceiling
				if tt.throttled {
					w.Succeeded(at)
					w.Throttled(at.Add(600 * time.Millisecond))
					w.Throttled(at.Add(1200 * time.Millisecond))
				}
			}
			at = t0.Add(2 * time.Second)
			var last time.Duration
			for range tt.n {
				last = single.Reserve(at)
			}
			if got := batch.ReserveN(at, tt.n); got != last {
				t.Errorf("ReserveN() = %v, want %v (the last of %d Reserve)", got, last, tt.n)
			}
			for i := range 3 {
				now := at.Add(time.Duration(i) * 700 * time.Millisecond)
				for range tt.n {
					single.Succeeded(now)
				}
				batch.SucceededN(tt.n, now)
			}
			end := at.Add(3 * time.Second)
			if s, b := single.Rate(end), batch.Rate(end); s != b {
				t.Errorf("Rate() after SucceededN = %v, want %v", b, s)
			}
			if s, b := single.Limit(), batch.Limit(); s != b {
				t.Errorf("Limit() after SucceededN = %v, want %v", b, s)
			}
			if s, b := single.Taken(), batch.Taken(); s != b {
				t.Errorf("Taken() = %d, want %d", b, s)
			}
		})
	}
}
