package engine

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// LeaseTaker is implemented by Leasers that can take a lease over only
// if its record is still exactly the one the taker saw (same session,
// expiry and renewal count), in one conditional write.
type LeaseTaker interface {
	// TakeLease takes the lease l.Dataset/l.Env for l.Session if the
	// record is still seen; a lease released meanwhile is simply
	// acquired. A record that changed is a *LeaseHeldError naming its
	// holder.
	TakeLease(ctx context.Context, l Lease, seen Lease) (Lease, error)
}

// TakeOver takes over the lease seen, which looked expired, once the
// operator gave a reason (already journaled). Wall clocks of two machines
// may disagree, so expiry by this machine's clock is not enough: the taker
// waits out a full ttl on its own monotonic clock and takes the lease
// only if the record did not change meanwhile (no renewal, no new
// holder). A holder still alive renews within that ttl and keeps its
// lease; a holder stalled that long has stopped writing (see
// heldLease.writable).
func TakeOver(ctx context.Context, sc *StepContext, leaser Leaser, want, seen Lease, ttl time.Duration) (Lease, error) {
	if err := sc.EmitOutput(fmt.Sprintf("waiting %s (the lease's ttl) for the lease of %s (session %s) to stay unrenewed before taking it over",
		ttl, seen.Holder, seen.Session)); err != nil {
		return Lease{}, err
	}
	if err := Sleep(ctx, sc.ClockOrSystem(), ttl); err != nil {
		return Lease{}, fmt.Errorf("wait out the lease of %s: %w", seen.Holder, err)
	}
	now := sc.ClockOrSystem().Now()
	want.Acquired, want.Expires = now, now.Add(ttl)
	if lt, ok := leaser.(LeaseTaker); ok {
		got, err := lt.TakeLease(ctx, want, seen)
		return got, renewedMeanwhile(err, seen)
	}
	got, err := leaser.AcquireLease(ctx, want, false)
	var held *LeaseHeldError
	if !errors.As(err, &held) {
		return got, err
	}
	if !sameLeaseRecord(held.Lease, seen) {
		return Lease{}, renewedMeanwhile(err, seen)
	}
	// The store cannot take over conditionally on the record: a takeover
	// conditioned on expiry by this clock is the best it offers.
	want.Acquired = maxTime(want.Acquired, seen.Expires.Add(time.Nanosecond))
	return leaser.AcquireLease(ctx, want, true)
}

// renewedMeanwhile explains a *LeaseHeldError met after the wait: the
// holder is alive.
func renewedMeanwhile(err error, seen Lease) error {
	var held *LeaseHeldError
	if errors.As(err, &held) {
		return fmt.Errorf("the lease of %s (session %s) changed while its ttl was waited out, so its holder is alive: %w",
			seen.Holder, seen.Session, err)
	}
	return err
}

// sameLeaseRecord reports whether two reads of a lease record are equal.
func sameLeaseRecord(a, b Lease) bool {
	return a.Session == b.Session && a.Holder == b.Holder && a.Expires.Equal(b.Expires) && a.Renewals == b.Renewals
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
