package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

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
	// Before is the flag's value before the first lock holding it set it:
	// what the last lock to let it go restores. nil (JSON null) when the
	// attribute was absent (NULL in SQLite), and then it is removed.
	Before any `json:"before"`
	// SharedWith are the other locks (dataset/env) that held the flag when
	// this one set it: it stays on until the last of them lets it go.
	SharedWith []string `json:"shared_with,omitempty"`
}

// UnlockResult is the result of an unlock step.
type UnlockResult struct {
	Released           []Lease `json:"released"`
	MaintenanceCleared int     `json:"maintenance_cleared"` // flags restored to their value before the lock
	// MaintenanceLeftOn are the other locks (dataset/env) still holding a
	// flag this unlock let go: it stays on until the last of them unlocks.
	MaintenanceLeftOn []string `json:"maintenance_left_on,omitempty"`
	LeaseLost         string   `json:"lease_lost,omitempty"` // a heartbeat found the lease gone
	// ReleaseFailed are the leases whose record the store would not
	// delete (journaled as warnings): they expire on their own.
	ReleaseFailed []string `json:"release_failed,omitempty"`
}

// runLock acquires the migration lease of the runbook's dataset in the
// environment; an expired lease of another session is taken over after
// the operator gives a reason and the lease stayed unrenewed for a full
// ttl (takeOver).
func runLock(ctx context.Context, sc *StepContext) (any, error) {
	if sc.Leases == nil {
		return nil, fmt.Errorf("lock step %q: no lease registry in the step context", sc.Step.ID)
	}
	st, err := sc.EnvStore(ctx)
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
	now := sc.ClockOrSystem().Now()
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
		got, err = takeOver(ctx, sc, leaser, want, held.Lease, ttl)
	}
	if err != nil {
		return nil, fmt.Errorf("lock step %q: %w", sc.Step.ID, err)
	}
	res.Lease = got
	if m := spec.Maintenance; m != nil {
		res.Maintenance = &MaintenanceState{Table: m.Table, Key: m.Key, Attribute: m.Attribute, On: true}
		hold, err := holdFlag(ctx, leaser, res.Maintenance, got)
		if err != nil {
			_ = leaser.ReleaseLease(context.WithoutCancel(ctx), got)
			return nil, fmt.Errorf("lock step %q: set maintenance flag: %w", sc.Step.ID, err)
		}
		res.Maintenance.Before, res.Maintenance.SharedWith = hold.Before, hold.Others
	}
	sc.Leases.hold(newHeldLease(leaser, sc.ClockOrSystem(), got, ttl, now, res.Maintenance))
	msg := fmt.Sprintf("lease on %s/%s held by %s until %s (renewed every %s)", got.Dataset, got.Env, got.Holder,
		got.Expires.UTC().Format(time.RFC3339), ttl/3)
	if m := res.Maintenance; m != nil {
		msg += fmt.Sprintf("; maintenance flag %s set (was %s)", m.Attribute, describeFlagValue(m.Before))
		if len(m.SharedWith) > 0 {
			msg += fmt.Sprintf(", also held by %s", strings.Join(m.SharedWith, ", "))
		}
	}
	if err := sc.EmitOutput(msg); err != nil {
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
		if err := sc.Emit(NewEvent(sc.Step.ID, Decided{
			Choice: "take over expired lease", Reason: a.Reason, PreviousHolder: old.Holder,
			PreviousSession: old.Session})); err != nil {
			return "", err
		}
	}
	return a.Reason, nil
}

// runUnlock releases the session's leases: those held by this process,
// or — after a resume in a new process — those recorded in the results of
// the runbook's lock steps.
func runUnlock(ctx context.Context, sc *StepContext) (any, error) {
	hs := sc.Leases.list(true)
	res := UnlockResult{Released: []Lease{}}
	var errs []error
	for _, h := range hs {
		l, fr, err := h.release(ctx, false)
		res.addFlag(fr)
		var rerr *releaseError
		switch {
		case errors.As(err, &rerr):
			res.ReleaseFailed = append(res.ReleaseFailed, rerr.Error())
			if werr := warnRelease(sc, rerr); werr != nil {
				errs = append(errs, werr)
			}
		case errors.Is(err, ErrLeaseLost):
			res.LeaseLost = err.Error()
			errs = append(errs, fmt.Errorf("%w; its maintenance flag and lease record, now the new holder's, were left alone", err))
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
	msg := fmt.Sprintf("released %d lease(s); cleared %d maintenance flag(s)", len(res.Released), res.MaintenanceCleared)
	if len(res.MaintenanceLeftOn) > 0 {
		msg += fmt.Sprintf("; maintenance flag left on: still held by %s", strings.Join(res.MaintenanceLeftOn, ", "))
	}
	if len(res.ReleaseFailed) > 0 {
		msg += fmt.Sprintf("; %d lease record(s) left to expire: %s", len(res.ReleaseFailed), strings.Join(res.ReleaseFailed, "; "))
	}
	_ = sc.EmitOutput(msg)
	return res, nil
}

// addFlag counts what letting go of one maintenance flag did.
func (r *UnlockResult) addFlag(fr flagRelease) {
	if fr.Restored {
		r.MaintenanceCleared++
	}
	for _, o := range fr.Others {
		if !slices.Contains(r.MaintenanceLeftOn, o) {
			r.MaintenanceLeftOn = append(r.MaintenanceLeftOn, o)
		}
	}
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
			s, err := sc.EnvStore(ctx)
			if err != nil {
				return err
			}
			if leaser, ok = s.(Leaser); !ok {
				return errors.New("store cannot hold a lease")
			}
		}
		// Clear the flag only while holding the lease: another session
		// holding it now owns the flag.
		l := lr.Lease
		now := sc.ClockOrSystem().Now()
		l.Acquired, l.Expires = now, now.Add(time.Duration(lr.TTLMS)*time.Millisecond)
		got, err := leaser.AcquireLease(ctx, l, false)
		if err != nil {
			return fmt.Errorf("confirm lease before unlock: %w", err)
		}
		if m := lr.Maintenance; m != nil {
			fr, err := unholdFlag(ctx, leaser, m, got)
			if err != nil {
				return fmt.Errorf("clear maintenance flag: %w", err)
			}
			res.addFlag(fr)
		}
		rctx, cancel := context.WithTimeout(ctx, max(time.Duration(lr.TTLMS)*time.Millisecond, time.Second))
		err = leaser.ReleaseLease(rctx, got)
		cancel()
		if err != nil {
			rerr := &releaseError{lease: got, err: err}
			res.ReleaseFailed = append(res.ReleaseFailed, rerr.Error())
			if werr := warnRelease(sc, rerr); werr != nil {
				return werr
			}
			continue
		}
		res.Released = append(res.Released, got)
	}
	return nil
}

// warnRelease journals a lease record left behind as a warning.
func warnRelease(sc *StepContext, rerr *releaseError) error {
	if sc.Emit == nil {
		return nil
	}
	return sc.Emit(NewEvent(sc.Step.ID, Warning{Message: rerr.Error()}))
}

// flagKey turns a maintenance key (strings from YAML) into an item key.
func flagKey(k map[string]string) Item {
	it := Item{}
	for a, v := range k {
		it[a] = v
	}
	return it
}

// ClockOrSystem returns the session's Clock, or the system clock when none
// is set (an executor run outside a session, in a test).
func (sc *StepContext) ClockOrSystem() Clock {
	if sc.Clock != nil {
		return sc.Clock
	}
	return SystemClock{}
}
