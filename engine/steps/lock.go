package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// UnlockResult is the result of an unlock step.
type UnlockResult struct {
	Released           []engine.Lease `json:"released"`
	MaintenanceCleared int            `json:"maintenance_cleared"` // flags restored to their value before the lock
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
func runLock(ctx context.Context, sc *engine.StepContext) (any, error) {
	if sc.Leases == nil {
		return nil, fmt.Errorf("lock step %q: no lease registry in the step context", sc.Step.ID)
	}
	st, err := sc.EnvStore(ctx)
	if err != nil {
		return nil, err
	}
	leaser, ok := st.(engine.Leaser)
	if !ok {
		return nil, fmt.Errorf("lock step %q: the %s store cannot hold a lease", sc.Step.ID, sc.Env.Store.Kind)
	}
	spec := sc.Step.Lock
	if spec == nil {
		spec = &runbook.LockSpec{}
	}
	ttl := spec.TTL
	if ttl <= 0 {
		ttl = engine.DefaultLeaseTTL
	}
	now := sc.ClockOrSystem().Now()
	want := engine.Lease{Dataset: sc.Runbook.Name, Env: sc.Env.Name, Holder: sc.Operator, Session: sc.Session.ID,
		Acquired: now, Expires: now.Add(ttl)}
	res := engine.LockResult{TTLMS: ttl.Milliseconds()}
	got, err := leaser.AcquireLease(ctx, want, false)
	var held *engine.LeaseHeldError
	if errors.As(err, &held) && !held.Lease.Expires.After(now) {
		if res.Reason, err = engine.AskTakeover(ctx, sc, held.Lease); err != nil {
			return nil, err
		}
		res.TakenOver, res.PreviousHolder = true, held.Lease.Holder
		got, err = engine.TakeOver(ctx, sc, leaser, want, held.Lease, ttl)
	}
	if err != nil {
		return nil, fmt.Errorf("lock step %q: %w", sc.Step.ID, err)
	}
	res.Lease = got
	if m := spec.Maintenance; m != nil {
		res.Maintenance = &engine.MaintenanceState{Table: m.Table, Key: m.Key, Attribute: m.Attribute, On: true}
		hold, err := engine.HoldFlag(ctx, leaser, res.Maintenance, got)
		if err != nil {
			_ = leaser.ReleaseLease(context.WithoutCancel(ctx), got)
			return nil, fmt.Errorf("lock step %q: set maintenance flag: %w", sc.Step.ID, err)
		}
		res.Maintenance.Before, res.Maintenance.SharedWith = hold.Before, hold.Others
	}
	sc.Leases.HoldLock(leaser, sc.ClockOrSystem(), got, ttl, now, res.Maintenance)
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

// runUnlock releases the session's leases: those held by this process,
// or — after a resume in a new process — those recorded in the results of
// the runbook's lock steps.
func runUnlock(ctx context.Context, sc *engine.StepContext) (any, error) {
	hs := sc.Leases.ReleaseEach(ctx)
	res := UnlockResult{Released: []engine.Lease{}}
	var errs []error
	for _, h := range hs {
		l, fr, err := h.Lease, h.Flag, h.Err
		res.addFlag(fr)
		var rerr *engine.ReleaseError
		switch {
		case errors.As(err, &rerr):
			res.ReleaseFailed = append(res.ReleaseFailed, rerr.Error())
			if werr := warnRelease(sc, rerr); werr != nil {
				errs = append(errs, werr)
			}
		case errors.Is(err, engine.ErrLeaseLost):
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
func (r *UnlockResult) addFlag(fr engine.FlagRelease) {
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
func unlockFromResults(ctx context.Context, sc *engine.StepContext, res *UnlockResult) error {
	var leaser engine.Leaser
	for _, st := range sc.Runbook.Steps() {
		raw, ok := sc.Results[st.ID]
		if st.Kind != runbook.KindLock || !ok {
			continue
		}
		var lr engine.LockResult
		if json.Unmarshal(raw, &lr) != nil || lr.Lease.Session != sc.Session.ID {
			continue
		}
		if leaser == nil {
			s, err := sc.EnvStore(ctx)
			if err != nil {
				return err
			}
			if leaser, ok = s.(engine.Leaser); !ok {
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
			fr, err := engine.UnholdFlag(ctx, leaser, m, got)
			if err != nil {
				return fmt.Errorf("clear maintenance flag: %w", err)
			}
			res.addFlag(fr)
		}
		rctx, cancel := context.WithTimeout(ctx, max(time.Duration(lr.TTLMS)*time.Millisecond, time.Second))
		err = leaser.ReleaseLease(rctx, got)
		cancel()
		if err != nil {
			rerr := &engine.ReleaseError{Lease: got, Err: err}
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
func warnRelease(sc *engine.StepContext, rerr *engine.ReleaseError) error {
	if sc.Emit == nil {
		return nil
	}
	return sc.Emit(engine.NewEvent(sc.Step.ID, engine.Warning{Message: rerr.Error()}))
}

// describeFlagValue renders a flag's earlier value for the operator.
func describeFlagValue(v any) string {
	if v == nil {
		return "absent"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
