package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// claimLease is a worker's claim on one segment seen as an engine lease:
// held in the segment's engine.Leases, it is renewed every lease/3 by
// the engine's heartbeat, and the migrate writer checks it before each
// page and stops issuing writes once it went unconfirmed past its renew
// margin, exactly as for a session's lease.
type claimLease struct {
	c     Control
	fleet string
	n     int
	claim int64
	clock engine.Clock
}

var _ engine.Leaser = (*claimLease)(nil)

// AcquireLease returns l: the claim was taken by Control.Claim.
func (cl *claimLease) AcquireLease(_ context.Context, l engine.Lease, _ bool) (engine.Lease, error) {
	return l, nil
}

// RenewLease bumps the segment's beat under the claim; a claim moved on
// is an *engine.LeaseLostError.
func (cl *claimLease) RenewLease(ctx context.Context, l engine.Lease) (engine.Lease, error) {
	err := cl.c.Renew(ctx, cl.fleet, cl.n, cl.claim, cl.clock.Now())
	if errors.Is(err, ErrClaimLost) {
		return l, &engine.LeaseLostError{}
	}
	if err != nil {
		return l, err
	}
	l.Renewals++
	return l, nil
}

// ReleaseLease does nothing: Finish gives the segment back.
func (cl *claimLease) ReleaseLease(context.Context, engine.Lease) error { return nil }

// SetFlag is not supported on a claim.
func (cl *claimLease) SetFlag(context.Context, string, engine.Item, string, bool) error {
	return engine.ErrUnsupported
}

// control is the fleet's pause, cancel and rate seen by one worker's
// migrate writer as an engine.Control; it reads the fleet record at
// most once per poll.
type control struct {
	c       Control
	fleet   string
	workers int
	clock   engine.Clock
	poll    time.Duration

	mu    sync.Mutex
	flags Flags
	read  time.Time
}

var _ engine.Control = (*control)(nil)

// refresh rereads the record's flags once poll has passed. The read
// holds no lock: Rate is asked before every write.
func (ct *control) refresh(ctx context.Context) (Flags, error) {
	ct.mu.Lock()
	flags, now := ct.flags, ct.clock.Now()
	due := ct.read.IsZero() || now.Sub(ct.read) >= ct.poll
	ct.mu.Unlock()
	if !due {
		return flags, nil
	}
	r, err := ct.c.Record(ctx, ct.fleet)
	if err != nil {
		return flags, fmt.Errorf("read fleet controls: %w", err)
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	ct.flags, ct.read = r.Flags, now
	return ct.flags, nil
}

// Checkpoint blocks while the fleet is paused and returns
// engine.ErrAborted once it is cancelled.
func (ct *control) Checkpoint(ctx context.Context) error {
	for {
		f, err := ct.refresh(ctx)
		if err != nil {
			return err
		}
		switch {
		case f.Cancelled:
			return engine.ErrAborted
		case !f.Paused:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ct.clock.After(ct.poll):
		}
	}
}

// Rate is this worker's share of the fleet's rate.
func (ct *control) Rate() int {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return Share(ct.flags.Rate, ct.workers)
}
