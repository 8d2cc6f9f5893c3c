package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine/enginetest"
)

// renewLeaser is a Leaser whose RenewLease fails as told (fault
// injection for heldLease.check; the stores are tested for real).
type renewLeaser struct {
	Leaser
	err     error
	renewed int
}

func (l *renewLeaser) RenewLease(_ context.Context, le Lease) (Lease, error) {
	l.renewed++
	if l.err != nil {
		return Lease{}, l.err
	}
	return le, nil
}

// TestHeldLeaseCheck: before a write, a lease not confirmed for ttl/3 —
// a process stopped past its ttl and woken before its heartbeat — is
// renewed synchronously, and a takeover found then stops the writes.
func TestHeldLeaseCheck(t *testing.T) {
	t.Parallel()
	const ttl = 3 * time.Second
	bob := Lease{Dataset: "users", Env: "local", Holder: "bob", Session: "s-bob", Acquired: time.Date(2026, 5, 1, 22, 0, 0, 0, time.UTC)}
	tests := []struct {
		name        string
		sinceRenew  time.Duration
		lost        bool
		renewErr    error
		wantRenewed int
		wantErr     string // "" = may write
	}{
		{"confirmed recently", ttl / 4, false, nil, 0, ""},
		{"stale, renewed", 2 * ttl, false, nil, 1, ""},
		{"stopped past ttl, taken over", 2 * ttl, false, &LeaseLostError{Holder: bob},
			1, "lease on users@local was taken over by bob (session s-bob) at 2026-05-01T22:00:00Z"},
		{"stale, store silent, within the renew margin", ttl / 2, false, errors.New("connection refused"), 1, ""},
		// A taker may take the lease once its ttl ran out: a write must
		// not be issued in the last renew margin (ttl/3) before that.
		{"stale, store silent past the renew margin", ttl * 3 / 4, false, errors.New("connection refused"), 1, "not confirmed for 2.25s"},
		{"stale, store silent past ttl", 2 * ttl, false, errors.New("connection refused"), 1, "not confirmed for"},
		{"known lost", 0, true, nil, 0, "was taken over by bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &renewLeaser{err: tt.renewErr}
			mine := Lease{Dataset: "users", Env: "local", Holder: "alice", Session: "s-alice"}
			clock := enginetest.NewFakeClock(time.Date(2026, 5, 1, 22, 0, 0, 0, time.UTC))
			h := newHeldLease(fake, clock, mine, ttl, clock.Now().Add(-tt.sinceRenew), nil)
			if tt.lost {
				h.lost = &LeaseLostError{Lease: mine, Holder: bob}
			}
			err := h.check(context.Background())
			if fake.renewed != tt.wantRenewed {
				t.Errorf("RenewLease calls=%d, want %d", fake.renewed, tt.wantRenewed)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("check()=%v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("check()=%v, want an error containing %q", err, tt.wantErr)
			}
			if errors.Is(tt.renewErr, ErrLeaseLost) && h.check(context.Background()) == nil {
				t.Error("a lease found lost was trusted again")
			}
		})
	}
}
