package throttle_test

import (
	"math"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine/throttle"
)

// TestMigrateRateLimiterReportsWhatGetsThrough: Rate is the successful
// writes per second over the last seconds, whatever the ceiling or the
// effective limit says — the figure an operator needs when the store,
// not the limit, sets the pace.
func TestMigrateRateLimiterReportsWhatGetsThrough(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		ceiling   int
		every     time.Duration // one write every
		for_      time.Duration
		throttled func(i int) bool
		idle      time.Duration // then nothing for
		want      float64
		wantLimit float64
	}{
		{"below the ceiling", 1000, 10 * time.Millisecond, 3 * time.Second, nil, 0, 100, 1000},
		{"half throttled, unlimited", 0, time.Millisecond, 3 * time.Second, func(i int) bool { return i%2 == 0 }, 0, 500, -1},
		{"just started", 1000, 10 * time.Millisecond, 500 * time.Millisecond, nil, 0, 100, 1000},
		{"stalled", 1000, 10 * time.Millisecond, 3 * time.Second, nil, 3 * time.Second, 0, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := throttle.NewWriteLimiter(func() int { return tt.ceiling })
			n := int(tt.for_ / tt.every)
			for i := range n {
				ts := t0.Add(time.Duration(i) * tt.every)
				w.Reserve(ts)
				if tt.throttled != nil && tt.throttled(i) {
					w.Throttled(ts)
				} else {
					w.Succeeded(ts)
				}
			}
			now := t0.Add(tt.for_ + tt.idle)
			if got := w.Rate(now); math.Abs(got-tt.want) > 0.1*tt.want+0.01 {
				t.Errorf("Rate() = %.1f items/s, want %.0f ±10%%", got, tt.want)
			}
			if tt.wantLimit >= 0 {
				if got := w.Limit(); got != tt.wantLimit {
					t.Errorf("Limit() = %v, want %v (the limit is not the measure)", got, tt.wantLimit)
				}
			}
		})
	}
}
