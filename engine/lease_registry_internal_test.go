package engine

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine/enginetest"
)

// countingLeaser is a Leaser that confirms every renewal and counts them.
type countingLeaser struct {
	Leaser
	renewed atomic.Int64
}

func (l *countingLeaser) RenewLease(_ context.Context, le Lease) (Lease, error) {
	l.renewed.Add(1)
	return le, nil
}

// TestLeasesHeartbeatStopsWithSession: a held lease's heartbeat runs on
// a context derived from the session's: it renews while the session runs
// and stops when the session's context is done, and each session sees
// only the leases it holds itself.
func TestLeasesHeartbeatStopsWithSession(t *testing.T) {
	t.Parallel()
	const ttl = 30 * time.Second // a heartbeat every 10s of the fake clock
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mine, other := NewLeases(ctx), NewLeases(context.Background())
	fake := &countingLeaser{}
	clock := enginetest.NewFakeClock(time.Date(2026, 5, 1, 22, 0, 0, 0, time.UTC))
	mine.hold(newHeldLease(fake, clock, Lease{Dataset: "users", Env: "local", Session: "s-1"}, ttl, clock.Now(), nil))
	if got := len(other.Held()); got != 0 {
		t.Errorf("another session's registry holds %d leases, want 0", got)
	}
	if got := len(mine.Held()); got != 1 {
		t.Fatalf("Held()=%d leases, want 1", got)
	}
	for beat := int64(1); beat <= 2; beat++ {
		if !clock.BlockUntil(1, 5*time.Second) {
			t.Fatalf("heartbeat %d never waited on the session's clock", beat)
		}
		clock.Advance(ttl / 3)
		pollUntil(t, func() bool { return fake.renewed.Load() >= beat }, "a heartbeat renewal while the session runs")
	}
	cancel()
	h := mine.list(false)[0]
	select {
	case <-h.done:
	case <-time.After(time.Second):
		t.Fatal("heartbeat still running 1s after the session's context was cancelled")
	}
	after := fake.renewed.Load()
	clock.Advance(5 * ttl)
	if got := fake.renewed.Load(); got != after {
		t.Errorf("RenewLease calls went from %d to %d after the session's context ended", after, got)
	}
}

// pollUntil polls cond for up to 2s.
func pollUntil(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
