package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

// LeaseLostHint tells the operator what a lost lease means for the session.
const LeaseLostHint = "this session can no longer write — resume is refused while another session holds the lease"

// LeaseLostError is ErrLeaseLost saying who holds the lease now. Stores
// return it from RenewLease and ReleaseLease with Holder set (zero when no
// lease is recorded); the engine adds Lease, the lease the session held.
type LeaseLostError struct {
	Lease  Lease // the lease that was lost; zero from a store
	Holder Lease // the lease now recorded; zero when there is none
}

func (e *LeaseLostError) Error() string {
	on := e.Lease.Dataset + "@" + e.Lease.Env
	switch {
	case e.Lease.Dataset == "" && e.Holder.Session == "":
		return "lease lost: no lease held"
	case e.Lease.Dataset == "":
		return fmt.Sprintf("lease lost: now held by %s (session %s)", e.Holder.Holder, e.Holder.Session)
	case e.Holder.Session == "":
		return "lease on " + on + " was lost: no session holds it any more"
	}
	return fmt.Sprintf("lease on %s was taken over by %s (session %s) at %s", on, e.Holder.Holder, e.Holder.Session,
		e.Holder.Acquired.UTC().Format(time.RFC3339))
}

// Is makes a *LeaseLostError match ErrLeaseLost.
func (e *LeaseLostError) Is(target error) bool { return target == ErrLeaseLost }

// lostLease is the engine's *LeaseLostError for mine from a store's error.
func lostLease(mine Lease, err error) *LeaseLostError {
	out := &LeaseLostError{Lease: mine}
	var le *LeaseLostError
	if errors.As(err, &le) {
		out.Holder = le.Holder
	}
	return out
}

// heldLease is a lease this process holds, kept alive by a heartbeat.
// Writers call check before each write batch: a lease found lost is never
// renewed again, and its maintenance flag and record are left alone.
type heldLease struct {
	leaser Leaser
	clock  Clock // heartbeats and "since confirmed" are read on it
	ttl    time.Duration
	maint  *MaintenanceState
	stop   context.CancelFunc
	done   chan struct{}

	renewMu sync.Mutex // one renewal at a time: the heartbeat's or a writer's

	mu      sync.Mutex
	lease   Lease
	renewed time.Time // when the store last confirmed the lease (monotonic)
	lost    *LeaseLostError
	lostCh  chan struct{} // closed once lost is set
}

func newHeldLease(leaser Leaser, clock Clock, l Lease, ttl time.Duration, confirmed time.Time, maint *MaintenanceState) *heldLease {
	if clock == nil {
		clock = SystemClock{}
	}
	return &heldLease{leaser: leaser, clock: clock, ttl: ttl, lease: l, renewed: confirmed, maint: maint, lostCh: make(chan struct{})}
}

// sameStore reports whether a and b are the same store: the same pointer
// (stores are pointers; anything else is never taken for the same, as
// comparing it could panic).
func sameStore(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	return va.Kind() == reflect.Pointer && vb.Kind() == reflect.Pointer && va.Type() == vb.Type() && va.Pointer() == vb.Pointer()
}

// start runs the heartbeat: renew every ttl/3 until stopped, lost or
// parent is done.
func (h *heldLease) start(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	h.stop, h.done = cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		every := max(h.ttl/3, 10*time.Millisecond)
		next := h.clock.Now().Add(every)
		for {
			// A ticker's schedule: the next beat is due every after the
			// last one was due, not after the renewal returned.
			select {
			case <-ctx.Done():
				return
			case <-h.clock.After(next.Sub(h.clock.Now())):
			}
			next = next.Add(every)
			if now := h.clock.Now(); next.Before(now) { // beats missed: one at once, the rest dropped, as a ticker does
				next = now
			}
			if err := h.renew(ctx); errors.Is(err, ErrLeaseLost) {
				return
			}
		}
	}()
}

// renew extends the lease by ttl from now; a lease found lost stays lost.
func (h *heldLease) renew(ctx context.Context) error {
	h.renewMu.Lock()
	defer h.renewMu.Unlock()
	h.mu.Lock()
	l, lost := h.lease, h.lost
	h.mu.Unlock()
	if lost != nil {
		return lost
	}
	// A renewal answered after the renew margin is no use: bound it.
	ctx, cancel := context.WithTimeout(ctx, max(h.ttl-renewMargin(h.ttl), time.Second))
	defer cancel()
	asked := h.clock.Now()
	l.Expires = asked.Add(h.ttl)
	got, err := h.leaser.RenewLease(ctx, l)
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err == nil:
		h.lease, h.renewed = got, asked
		return nil
	case errors.Is(err, ErrLeaseLost):
		h.lost = lostLease(h.lease, err)
		close(h.lostCh)
		return h.lost
	}
	return fmt.Errorf("renew lease on %s@%s: %w", l.Dataset, l.Env, err)
}

// check returns nil while the session may write under the lease: it is
// not known lost, and the store confirmed it at most one heartbeat
// (ttl/3) ago. Past that (a process stopped longer than a heartbeat, say)
// it renews first. A store that does not answer is trusted only while
// more than renewMargin of the ttl is left since the last confirmation
// (by this process's monotonic clock): a taker may take the lease once
// its ttl ran out, and a write must land before that.
func (h *heldLease) check(ctx context.Context) error {
	h.mu.Lock()
	lost, since := h.lost, h.clock.Now().Sub(h.renewed)
	h.mu.Unlock()
	switch {
	case lost != nil:
		return lost
	case since <= renewMargin(h.ttl):
		return nil
	}
	err := h.renew(ctx)
	if err == nil || errors.Is(err, ErrLeaseLost) {
		return err
	}
	if _, werr := h.writable(); werr != nil {
		return fmt.Errorf("%w: %w", werr, err)
	}
	return nil
}

// release stops the heartbeat and, once the store confirms the session
// still holds the lease, lets go of the maintenance flag (unless
// keepFlag: the flag is restored only when no other lock holds it) and
// gives the lease up. A lost lease is left alone: its flag and record
// are the new holder's.
//
// It never takes longer than the ttl: by then the lease expires anyway.
// A lease record the store would not delete is a *ReleaseError.
func (h *heldLease) release(ctx context.Context, keepFlag bool) (Lease, FlagRelease, error) {
	h.stop()
	<-h.done
	ctx, cancel := context.WithTimeout(ctx, h.ttl)
	defer cancel()
	if err := h.renew(ctx); err != nil {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.lease, FlagRelease{}, err
	}
	h.mu.Lock()
	l := h.lease
	h.mu.Unlock()
	var fr FlagRelease
	if h.maint != nil && h.maint.On && !keepFlag {
		var err error
		if fr, err = UnholdFlag(ctx, h.leaser, h.maint, l); err != nil {
			return l, fr, fmt.Errorf("clear maintenance flag: %w", err)
		}
		h.maint.On = false
	}
	if err := h.leaser.ReleaseLease(ctx, l); err != nil {
		if errors.Is(err, ErrLeaseLost) {
			return l, fr, lostLease(l, err)
		}
		return l, fr, &ReleaseError{Lease: l, Err: err}
	}
	return l, fr, nil
}

// ReleaseError is a lease record the store would not delete (after its
// retries): the lease is given up all the same, its maintenance flag
// already let go, and the record expires on its own.
type ReleaseError struct {
	Lease Lease
	Err   error
}

func (e *ReleaseError) Error() string {
	return fmt.Sprintf("release lease on %s@%s: %v; it expires on its own at %s", e.Lease.Dataset, e.Lease.Env, e.Err,
		e.Lease.Expires.UTC().Format(time.RFC3339))
}

// Unwrap returns the store's error.
func (e *ReleaseError) Unwrap() error { return e.Err }

// flagOn reports a maintenance flag this lease set and has not cleared.
func (h *heldLease) flagOn() bool { return h.maint != nil && h.maint.On }

// ResumeLeases runs before each step. When the session holds leases in
// this process it confirms them (a lease taken over fails the step). After
// a resume in a new process it re-takes the leases of the session's
// completed lock steps (their results in sc.Results) unless an unlock step
// already ran, sets their maintenance flags again and restarts their
// heartbeats. A lease another session holds is a *LeaseHeldError; an
// expired one is taken over only with a reason from the operator.
func ResumeLeases(ctx context.Context, sc *StepContext) error {
	if sc.Runbook == nil {
		return nil
	}
	if hs := sc.Leases.list(false); len(hs) > 0 {
		if err := sc.Leases.Check(ctx); err != nil {
			if errors.Is(err, ErrLeaseLost) {
				return fmt.Errorf("%w; %s", err, LeaseLostHint)
			}
			return fmt.Errorf("check lease: %w", err)
		}
		return nil
	}
	locks := resumableLocks(sc)
	if len(locks) == 0 {
		return nil
	}
	if sc.Leases == nil {
		return errors.New("resume leases: no lease registry in the step context")
	}
	s, err := sc.EnvStore(ctx)
	if err != nil {
		return err
	}
	leaser, ok := s.(Leaser)
	if !ok {
		return errors.New("resume leases: store cannot hold a lease")
	}
	for _, lr := range locks {
		if err := resumeLease(ctx, sc, leaser, lr); err != nil {
			return err
		}
	}
	return nil
}

// resumableLocks are the results of the session's lock steps, none when
// an unlock step already ran.
func resumableLocks(sc *StepContext) []LockResult {
	var locks []LockResult
	for _, st := range sc.Runbook.Steps() {
		raw, ok := sc.Results[st.ID]
		if !ok {
			continue
		}
		if st.Kind == runbook.KindUnlock {
			return nil
		}
		var lr LockResult
		if st.Kind == runbook.KindLock && json.Unmarshal(raw, &lr) == nil && lr.Lease.Session == sc.Session.ID {
			locks = append(locks, lr)
		}
	}
	return locks
}

// resumeLease re-takes one lock step's lease and sets its flag again.
func resumeLease(ctx context.Context, sc *StepContext, leaser Leaser, lr LockResult) error {
	ttl := time.Duration(lr.TTLMS) * time.Millisecond
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	l := lr.Lease
	asked := sc.ClockOrSystem().Now()
	l.Acquired, l.Expires = asked, asked.Add(ttl)
	got, err := leaser.AcquireLease(ctx, l, false)
	var held *LeaseHeldError
	if errors.As(err, &held) && !held.Lease.Expires.After(l.Acquired) {
		if _, err = AskTakeover(ctx, sc, held.Lease); err != nil {
			return err
		}
		got, err = TakeOver(ctx, sc, leaser, l, held.Lease, ttl)
	}
	if errors.As(err, &held) {
		return fmt.Errorf("resume lease: %w; resume is refused while another session holds the lease", err)
	}
	if err != nil {
		return fmt.Errorf("resume lease: %w", err)
	}
	var maint *MaintenanceState
	if m := lr.Maintenance; m != nil {
		maint = &MaintenanceState{Table: m.Table, Key: m.Key, Attribute: m.Attribute, On: true}
		if _, err := HoldFlag(ctx, leaser, maint, got); err != nil {
			_ = leaser.ReleaseLease(context.WithoutCancel(ctx), got)
			return fmt.Errorf("resume lease: set maintenance flag %s: %w", m.Attribute, err)
		}
	}
	sc.Leases.hold(newHeldLease(leaser, sc.ClockOrSystem(), got, ttl, asked, maint))
	return nil
}
