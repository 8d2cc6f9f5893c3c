package engine

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Fencing: a page's writes carry the leases they are made under.
//
// A SQL store keeps its lease rows in the database it writes, so it can
// check them in the page's own transaction: a store that fences (see
// LeaseFences) commits a write only while every lease in the write's
// context still names the writing session, and otherwise fails the whole
// write with an error wrapping ErrLeaseLost. Nothing of that page is
// applied, so nothing of it is counted.
//
// A DynamoDB lease lives in another table and cannot be checked in the
// write, so the write's context is also cancelled once a lease goes
// unconfirmed past its renew margin (see heldLease.writable): no request
// is issued after the holder's own monotonic clock says a taker could
// have waited out the lease.

// fenceKey is the context key of the leases a write is fenced by.
type fenceKey struct{}

// WithLeaseFences returns ctx carrying the leases a write made with it
// must still hold when it commits.
func WithLeaseFences(ctx context.Context, ls ...Lease) context.Context {
	if len(ls) == 0 {
		return ctx
	}
	prev := LeaseFences(ctx)
	return context.WithValue(ctx, fenceKey{}, append(prev[:len(prev):len(prev)], ls...))
}

// LeaseFences returns the leases a write made with ctx is fenced by:
// stores that hold leases in the written database check in the write's
// transaction that each still names its session, and fail the write with
// an error wrapping ErrLeaseLost (a *LeaseLostError naming the holder)
// otherwise.
func LeaseFences(ctx context.Context) []Lease {
	ls, _ := ctx.Value(fenceKey{}).([]Lease)
	return ls
}

// errLeaseUnconfirmed is the cause of a write context cancelled because a
// lease went unconfirmed past its renew margin.
type errLeaseUnconfirmed struct {
	lease Lease
	since time.Duration
	ttl   time.Duration
}

func (e *errLeaseUnconfirmed) Error() string {
	return fmt.Sprintf("lease on %s@%s not confirmed for %s (ttl %s): it could expire before a write lands",
		e.lease.Dataset, e.lease.Env, e.since.Round(time.Millisecond), e.ttl)
}

// Is makes an unconfirmed lease stop the step as a lost one: another
// session may take it over as soon as it expires.
func (e *errLeaseUnconfirmed) Is(target error) bool { return target == ErrLeaseLost }

// leaseWriteContext returns the context for one page's writes under the
// session's leases: it carries those kept in store as fences, and it is
// cancelled, with the lease error as its cause, as soon as any of them is
// found lost or goes unconfirmed past its renew margin. stop releases it
// and returns err, replaced by the lease error when that is why the
// writes stopped.
func leaseWriteContext(ctx context.Context, leases *Leases, store Store) (context.Context, func(err error) error) {
	hs, n := leases.on(store)
	if len(hs) == 0 {
		return ctx, func(err error) error { return err }
	}
	ls := make([]Lease, 0, n)
	for _, h := range hs[:n] {
		ls = append(ls, h.current())
	}
	wctx, cancel := context.WithCancelCause(WithLeaseFences(ctx, ls...))
	done := make(chan struct{})
	for _, h := range hs {
		go h.watch(wctx, done, cancel)
	}
	return wctx, func(err error) error {
		close(done)
		cause := context.Cause(wctx)
		cancel(nil)
		if err != nil && errors.Is(cause, ErrLeaseLost) {
			return cause
		}
		return err
	}
}

// watch cancels ctx once the lease is lost or unconfirmed past its renew
// margin, until done is closed.
func (h *heldLease) watch(ctx context.Context, done <-chan struct{}, cancel context.CancelCauseFunc) {
	for {
		left, err := h.writable()
		if err != nil {
			cancel(err)
			return
		}
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-h.lostCh:
		case <-h.clock.After(left):
		}
	}
}

// renewMargin is how much of the ttl must be left since the store last
// confirmed a lease for the holder to issue writes: ttl/3, one heartbeat.
func renewMargin(ttl time.Duration) time.Duration { return ttl / 3 }

// writable returns how long the holder may still issue writes under the
// lease by its own monotonic clock, or why it may not: the lease is lost,
// or it was last confirmed more than ttl - renewMargin ago.
func (h *heldLease) writable() (time.Duration, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lost != nil {
		return 0, h.lost
	}
	since := h.clock.Now().Sub(h.renewed)
	left := h.ttl - renewMargin(h.ttl) - since
	if left <= 0 {
		return 0, &errLeaseUnconfirmed{lease: h.lease, since: since, ttl: h.ttl}
	}
	return left, nil
}

// current returns the lease as last confirmed.
func (h *heldLease) current() Lease {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lease
}
