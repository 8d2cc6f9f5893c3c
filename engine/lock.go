package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

func init() {
	Register(runbook.KindLock, ExecutorFunc(runLock))
	Register(runbook.KindUnlock, ExecutorFunc(runUnlock))
}

// DefaultLeaseTTL is a lock's lease duration when the step sets no ttl.
const DefaultLeaseTTL = 5 * time.Minute

// LockResult is the result of a lock step.
type LockResult struct {
	Lease          Lease             `json:"lease"`
	TTLMS          int64             `json:"ttl_ms"`
	Maintenance    *MaintenanceState `json:"maintenance,omitempty"`
	TakenOver      bool              `json:"taken_over,omitempty"`
	PreviousHolder string            `json:"previous_holder,omitempty"`
	Reason         string            `json:"reason,omitempty"` // why the expired lease was taken over
}

// MaintenanceState is the maintenance flag a lock set.
type MaintenanceState struct {
	Table     string            `json:"table"`
	Key       map[string]string `json:"key"`
	Attribute string            `json:"attribute"`
	On        bool              `json:"on"`
}

// UnlockResult is the result of an unlock step.
type UnlockResult struct {
	Released           []Lease `json:"released"`
	MaintenanceCleared int     `json:"maintenance_cleared"`
	LeaseLost          string  `json:"lease_lost,omitempty"` // a heartbeat found the lease gone
}

// heldLease is a lease this process holds, kept alive by a heartbeat.
type heldLease struct {
	leaser Leaser
	ttl    time.Duration
	maint  *MaintenanceState
	stop   context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	lease Lease
	lost  error
}

// leases are the held leases by session id.
var leases = struct {
	mu sync.Mutex
	m  map[string][]*heldLease
}{m: map[string][]*heldLease{}}

// runLock acquires the migration lease of the runbook's dataset in the
// environment; an expired lease of another session is taken over after
// the operator gives a reason.
func runLock(ctx context.Context, sc *StepContext) (any, error) {
	st, err := openStore(ctx, sc)
	if err != nil {
		return nil, err
	}
	leaser, ok := st.(Leaser)
	if !ok {
		return nil, fmt.Errorf("lock step %q: the %s store cannot hold a lease", sc.Step.ID, sc.Env.Store.Kind)
	}
	spec := sc.Step.Lock
	if spec == nil {
		spec = &runbook.LockSpec{}
	}
	ttl := spec.TTL
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	now := stepNow(sc)
	want := Lease{Dataset: sc.Runbook.Name, Env: sc.Env.Name, Holder: sc.Operator, Session: sc.Session.ID,
		Acquired: now, Expires: now.Add(ttl)}
	res := LockResult{TTLMS: ttl.Milliseconds()}
	got, err := leaser.AcquireLease(ctx, want, false)
	var held *LeaseHeldError
	if errors.As(err, &held) && !held.Lease.Expires.After(now) {
		if res.Reason, err = askTakeover(ctx, sc, held.Lease); err != nil {
			return nil, err
		}
		res.TakenOver, res.PreviousHolder = true, held.Lease.Holder
		got, err = leaser.AcquireLease(ctx, want, true)
	}
	if err != nil {
		return nil, fmt.Errorf("lock step %q: %w", sc.Step.ID, err)
	}
	res.Lease = got
	h := &heldLease{leaser: leaser, ttl: ttl, lease: got}
	if m := spec.Maintenance; m != nil {
		h.maint = &MaintenanceState{Table: m.Table, Key: m.Key, Attribute: m.Attribute, On: true}
		if err := leaser.SetFlag(ctx, m.Table, flagKey(m.Key), m.Attribute, true); err != nil {
			_ = leaser.ReleaseLease(context.WithoutCancel(ctx), got)
			return nil, fmt.Errorf("lock step %q: set maintenance flag: %w", sc.Step.ID, err)
		}
		res.Maintenance = h.maint
	}
	h.start()
	leases.mu.Lock()
	leases.m[sc.Session.ID] = append(leases.m[sc.Session.ID], h)
	leases.mu.Unlock()
	msg := fmt.Sprintf("lease on %s/%s held by %s until %s (renewed every %s)", got.Dataset, got.Env, got.Holder,
		got.Expires.UTC().Format(time.RFC3339), ttl/3)
	if res.Maintenance != nil {
		msg += fmt.Sprintf("; maintenance flag %s set", res.Maintenance.Attribute)
	}
	if err := emitOutput(sc, msg); err != nil {
		return nil, err
	}
	return res, nil
}

// askTakeover asks why the expired lease may be taken over and journals
// the answer before acting on it.
func askTakeover(ctx context.Context, sc *StepContext, old Lease) (string, error) {
	if sc.Ask == nil {
		return "", fmt.Errorf("lock step %q: %w", sc.Step.ID, &LeaseHeldError{Lease: old})
	}
	a, err := sc.Ask(ctx, Prompt{Kind: PromptReason, Step: sc.Step.ID,
		Title: fmt.Sprintf("Take over the expired lease of %s?", old.Holder),
		Text: fmt.Sprintf("Session %s of %s held the lease on %s/%s since %s; it expired at %s. "+
			"Give a reason to take it over.", old.Session, old.Holder, old.Dataset, old.Env,
			old.Acquired.UTC().Format(time.RFC3339), old.Expires.UTC().Format(time.RFC3339)),
		Key: sc.Step.ID + ".reason"})
	if err != nil {
		return "", err
	}
	if a.Reason == "" {
		return "", fmt.Errorf("lock step %q: taking over the expired lease of %s needs a reason", sc.Step.ID, old.Holder)
	}
	if sc.Emit != nil {
		if err := sc.Emit(NewEvent(EvDecision, sc.Step.ID, map[string]any{
			"choice": "take over expired lease", "reason": a.Reason, "previous_holder": old.Holder,
			"previous_session": old.Session})); err != nil {
			return "", err
		}
	}
	return a.Reason, nil
}

// start runs the heartbeat: renew every ttl/3 until stopped or lost.
func (h *heldLease) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.stop, h.done = cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		t := time.NewTicker(max(h.ttl/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			h.mu.Lock()
			l := h.lease
			h.mu.Unlock()
			l.Expires = time.Now().Add(h.ttl)
			got, err := h.leaser.RenewLease(ctx, l)
			h.mu.Lock()
			switch {
			case err == nil:
				h.lease = got
			case errors.Is(err, ErrLeaseLost):
				h.lost = err
				h.mu.Unlock()
				return
			}
			h.mu.Unlock()
		}
	}()
}

// release stops the heartbeat, clears the maintenance flag and gives the
// lease up.
func (h *heldLease) release(ctx context.Context) (Lease, bool, error) {
	h.stop()
	<-h.done
	var errs []error
	cleared := false
	if h.maint != nil && h.maint.On {
		if err := h.leaser.SetFlag(ctx, h.maint.Table, flagKey(h.maint.Key), h.maint.Attribute, false); err != nil {
			errs = append(errs, fmt.Errorf("clear maintenance flag: %w", err))
		} else {
			h.maint.On, cleared = false, true
		}
	}
	h.mu.Lock()
	l, lost := h.lease, h.lost
	h.mu.Unlock()
	if lost != nil {
		errs = append(errs, lost)
	} else if err := h.leaser.ReleaseLease(ctx, l); err != nil {
		errs = append(errs, err)
	}
	return l, cleared, errors.Join(errs...)
}

// ReleaseLeases releases every lease the session holds in this process
// (stopping heartbeats and clearing maintenance flags). The session calls
// it when it completes, aborts, quits or rolls back; it is safe to call
// more than once.
func ReleaseLeases(ctx context.Context, sessionID string) error {
	leases.mu.Lock()
	hs := leases.m[sessionID]
	delete(leases.m, sessionID)
	leases.mu.Unlock()
	var errs []error
	for _, h := range hs {
		if _, _, err := h.release(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// HeldLeases returns the leases the session holds in this process.
func HeldLeases(sessionID string) []Lease {
	leases.mu.Lock()
	defer leases.mu.Unlock()
	var out []Lease
	for _, h := range leases.m[sessionID] {
		h.mu.Lock()
		out = append(out, h.lease)
		h.mu.Unlock()
	}
	return out
}

// runUnlock releases the session's leases: those held by this process,
// or — after a resume in a new process — those recorded in the results of
// the runbook's lock steps.
func runUnlock(ctx context.Context, sc *StepContext) (any, error) {
	leases.mu.Lock()
	hs := leases.m[sc.Session.ID]
	delete(leases.m, sc.Session.ID)
	leases.mu.Unlock()
	res := UnlockResult{Released: []Lease{}}
	var errs []error
	for _, h := range hs {
		l, cleared, err := h.release(ctx)
		if cleared {
			res.MaintenanceCleared++
		}
		switch {
		case errors.Is(err, ErrLeaseLost):
			res.LeaseLost = err.Error()
		case err != nil:
			errs = append(errs, err)
		default:
			res.Released = append(res.Released, l)
		}
	}
	if len(hs) == 0 {
		if err := unlockFromResults(ctx, sc, &res); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("unlock step %q: %w", sc.Step.ID, err)
	}
	_ = emitOutput(sc, fmt.Sprintf("released %d lease(s); cleared %d maintenance flag(s)", len(res.Released), res.MaintenanceCleared))
	return res, nil
}

// unlockFromResults releases the leases recorded by earlier lock steps.
func unlockFromResults(ctx context.Context, sc *StepContext, res *UnlockResult) error {
	var leaser Leaser
	for _, st := range sc.Runbook.Steps() {
		raw, ok := sc.Results[st.ID]
		if st.Kind != runbook.KindLock || !ok {
			continue
		}
		var lr LockResult
		if json.Unmarshal(raw, &lr) != nil || lr.Lease.Session != sc.Session.ID {
			continue
		}
		if leaser == nil {
			s, err := openStore(ctx, sc)
			if err != nil {
				return err
			}
			if leaser, ok = s.(Leaser); !ok {
				return errors.New("store cannot hold a lease")
			}
		}
		if m := lr.Maintenance; m != nil {
			if err := leaser.SetFlag(ctx, m.Table, flagKey(m.Key), m.Attribute, false); err != nil {
				return fmt.Errorf("clear maintenance flag: %w", err)
			}
			res.MaintenanceCleared++
		}
		if err := leaser.ReleaseLease(ctx, lr.Lease); err != nil {
			return err
		}
		res.Released = append(res.Released, lr.Lease)
	}
	return nil
}

// flagKey turns a maintenance key (strings from YAML) into an item key.
func flagKey(k map[string]string) Item {
	it := Item{}
	for a, v := range k {
		it[a] = v
	}
	return it
}

func stepNow(sc *StepContext) time.Time {
	if sc.Clock != nil {
		return sc.Clock.Now()
	}
	return time.Now()
}

// ResumeLeases re-takes, after a resume in a new process, the leases the
// session's completed lock steps hold (their results in sc.Results) unless
// an unlock step already ran, and restarts their heartbeats. The session
// calls it once when it resumes, with the context of any step. A lease
// another session took meanwhile is a *LeaseHeldError.
func ResumeLeases(ctx context.Context, sc *StepContext) error {
	if sc.Runbook == nil || len(HeldLeases(sc.Session.ID)) > 0 {
		return nil
	}
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
	if len(locks) == 0 {
		return nil
	}
	s, err := openStore(ctx, sc)
	if err != nil {
		return err
	}
	leaser, ok := s.(Leaser)
	if !ok {
		return errors.New("resume leases: store cannot hold a lease")
	}
	for _, lr := range locks {
		ttl := time.Duration(lr.TTLMS) * time.Millisecond
		if ttl <= 0 {
			ttl = DefaultLeaseTTL
		}
		l := lr.Lease
		l.Expires = time.Now().Add(ttl)
		got, err := leaser.AcquireLease(ctx, l, true)
		if err != nil {
			return fmt.Errorf("resume lease: %w", err)
		}
		h := &heldLease{leaser: leaser, ttl: ttl, lease: got, maint: lr.Maintenance}
		h.start()
		leases.mu.Lock()
		leases.m[sc.Session.ID] = append(leases.m[sc.Session.ID], h)
		leases.mu.Unlock()
	}
	return nil
}
