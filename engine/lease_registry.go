package engine

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Leases are the migration leases one session holds, each kept alive by a
// heartbeat. The session owns its registry (nothing is shared across
// sessions in the process) and hands it to executors as
// StepContext.Leases. Heartbeats run on contexts derived from the one
// the registry was made with, so they stop with the session.
type Leases struct {
	mu   sync.Mutex
	ctx  context.Context // parent of the heartbeats' contexts
	held []*heldLease
}

// NewLeases returns an empty registry whose heartbeats stop when ctx is done.
func NewLeases(ctx context.Context) *Leases { return &Leases{ctx: ctx} }

// bind makes ctx the parent of heartbeats started from now on: the
// session binds its run's context, so they stop with the run.
func (r *Leases) bind(ctx context.Context) {
	r.mu.Lock()
	r.ctx = ctx
	r.mu.Unlock()
}

// hold starts h's heartbeat and keeps it in the registry.
func (r *Leases) hold(h *heldLease) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h.start(r.ctx)
	r.held = append(r.held, h)
}

// Hold keeps l, confirmed by leaser at confirmed (read on clock), alive
// with a heartbeat every ttl/3, and fences data steps' writes by it as
// by a lock step's lease: a fleet worker holds its segment claim so.
func (r *Leases) Hold(leaser Leaser, clock Clock, l Lease, ttl time.Duration, confirmed time.Time) {
	r.hold(newHeldLease(leaser, clock, l, ttl, confirmed, nil))
}

// HoldLock keeps l, confirmed by leaser at confirmed (read on clock),
// alive with a heartbeat every ttl/3, with the maintenance flag maint
// (nil: none) its lock step set: the lock step's lease, which fences the
// session's data steps' writes and is released (flag restored) by unlock
// or when the session ends.
func (r *Leases) HoldLock(leaser Leaser, clock Clock, l Lease, ttl time.Duration, confirmed time.Time, maint *MaintenanceState) {
	r.hold(newHeldLease(leaser, clock, l, ttl, confirmed, maint))
}

// LeaseRelease is what releasing one held lease did (ReleaseEach).
type LeaseRelease struct {
	Lease Lease
	Flag  FlagRelease
	// Err is nil when the lease was released; a *ReleaseError when the
	// store would not delete its record (it expires on its own);
	// ErrLeaseLost when another session took it over, its flag and
	// record left alone; or why it could not be confirmed.
	Err error
}

// ReleaseEach releases every lease held, as Release does, forgets them
// and reports each: an unlock step's work.
func (r *Leases) ReleaseEach(ctx context.Context) []LeaseRelease {
	var out []LeaseRelease
	for _, h := range r.list(true) {
		l, fr, err := h.release(ctx, false)
		out = append(out, LeaseRelease{Lease: l, Flag: fr, Err: err})
	}
	return out
}

// list returns the held leases; take also forgets them. A nil registry
// holds nothing.
func (r *Leases) list(take bool) []*heldLease {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	hs := append([]*heldLease(nil), r.held...)
	if take {
		r.held = nil
	}
	return hs
}

// on returns the held leases, those kept in store itself first (n of them).
func (r *Leases) on(store Store) (hs []*heldLease, n int) {
	all := r.list(false)
	in := func(h *heldLease) bool { return sameStore(h.leaser, store) }
	for _, h := range all {
		if in(h) {
			hs = append(hs, h)
		}
	}
	n = len(hs)
	for _, h := range all {
		if !in(h) {
			hs = append(hs, h)
		}
	}
	return hs, n
}

// Check returns nil while the session may write: every lease it holds is
// confirmed (see heldLease.check). A lease taken over by another session
// is a *LeaseLostError.
func (r *Leases) Check(ctx context.Context) error {
	for _, h := range r.list(false) {
		if err := h.check(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Release releases every lease held (stopping heartbeats and clearing
// maintenance flags). The session calls it when it completes, fails,
// aborts or rolls back; it is safe to call more than once. A lease
// another session took over is left alone with its flag and reported as
// ErrLeaseLost.
func (r *Leases) Release(ctx context.Context) error {
	var errs []error
	for _, h := range r.list(true) {
		if _, _, err := h.release(ctx, false); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Suspend gives back the leases held but leaves their maintenance flags
// on, for a resumable stop (quit, interrupt, pause): the migration is
// incomplete, so the application stays in maintenance until the session
// resumes (ResumeLeases) and ends. It returns how many flags it left on.
func (r *Leases) Suspend(ctx context.Context) (int, error) {
	var errs []error
	flags := 0
	for _, h := range r.list(true) {
		if _, _, err := h.release(ctx, true); err != nil {
			errs = append(errs, err)
			continue
		}
		if h.flagOn() {
			flags++
		}
	}
	return flags, errors.Join(errs...)
}

// Held returns the leases held, as last confirmed.
func (r *Leases) Held() []Lease {
	var out []Lease
	for _, h := range r.list(false) {
		out = append(out, h.current())
	}
	return out
}
