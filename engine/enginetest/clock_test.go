package enginetest_test

import (
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest"
)

var _ engine.Clock = (*enginetest.FakeClock)(nil)

func TestFakeClockAfter(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 24, 22, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		wait    time.Duration
		advance []time.Duration
		fired   bool
	}{
		{"zero fires at once", 0, nil, true},
		{"negative fires at once", -time.Second, nil, true},
		{"not yet", time.Minute, []time.Duration{59 * time.Second}, false},
		{"exactly at the deadline", time.Minute, []time.Duration{time.Minute}, true},
		{"in steps", time.Minute, []time.Duration{30 * time.Second, 30 * time.Second}, true},
		{"past it", time.Minute, []time.Duration{time.Hour}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := enginetest.NewFakeClock(t0)
			ch := c.After(tt.wait)
			for _, d := range tt.advance {
				c.Advance(d)
			}
			select {
			case got := <-ch:
				if !tt.fired {
					t.Fatalf("After(%v) fired at %v, want not fired", tt.wait, got)
				}
				if want := c.Now(); !got.Equal(want) {
					t.Errorf("After(%v) sent %v, want %v", tt.wait, got, want)
				}
			default:
				if tt.fired {
					t.Fatalf("After(%v) did not fire after %v", tt.wait, tt.advance)
				}
			}
		})
	}
}

func TestFakeClockBlockUntil(t *testing.T) {
	t.Parallel()
	c := enginetest.NewFakeClock(time.Unix(0, 0))
	done := make(chan time.Time)
	go func() { done <- <-c.After(time.Second) }()
	if !c.BlockUntil(1, 5*time.Second) {
		t.Fatal("BlockUntil(1) = false, want the goroutine's waiter")
	}
	c.Advance(time.Second)
	if got, want := <-done, time.Unix(1, 0); !got.Equal(want) {
		t.Errorf("After(1s) sent %v, want %v", got, want)
	}
	if got := c.Waiters(); got != 0 {
		t.Errorf("Waiters() = %d, want 0", got)
	}
	if c.BlockUntil(1, 10*time.Millisecond) {
		t.Error("BlockUntil(1) = true with no waiter, want false")
	}
}
