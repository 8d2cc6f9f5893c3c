package engine_test

import (
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

func TestMigrateRateLimiterTokenAccounting(t *testing.T) {
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
			w := engine.NewWriteLimiter(func() int { return tt.ceiling })
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
	now := time.Now()
	ceiling := 200
	w := engine.NewWriteLimiter(func() int { return ceiling })
	w.Reserve(now)
	if got := w.Limit(); got != 200 {
		t.Fatalf("Limit() = %v, want 200", got)
	}
	w.Throttled(now)
	w.Throttled(now)
	if got := w.Limit(); got != 50 {
		t.Fatalf("after two throttles Limit() = %v, want 50", got)
	}
	for range 30 {
		w.Succeeded(now)
	}
	if got := w.Limit(); got != 110 {
		t.Fatalf("after 30 successes Limit() = %v, want 110 (additive +1%% of 200)", got)
	}
	for range 500 {
		w.Succeeded(now)
	}
	if got := w.Limit(); got != 200 {
		t.Fatalf("Limit() = %v, want capped at the ceiling 200", got)
	}
	if w.Throttles() != 2 {
		t.Errorf("Throttles() = %d, want 2", w.Throttles())
	}
	ceiling = 40 // the operator lowers the rate
	w.Reserve(now)
	if got := w.Limit(); got != 40 {
		t.Errorf("after override Limit() = %v, want 40", got)
	}
}
