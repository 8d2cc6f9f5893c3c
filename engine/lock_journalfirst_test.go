package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestLockTakeoverNotJournaledIsNotTaken: taking over another session's
// expired lease is journaled (a decision with the operator's reason and
// the previous holder) before the lease changes hands. When the journal
// refuses that decision, the lock step fails and the lease record is
// still the previous holder's, even once a full ttl has passed.
func TestLockTakeoverNotJournaledIsNotTaken(t *testing.T) {
	t.Parallel()
	r := rig.NewSQLite(t, rig.DataRunbook(t, 2, "", `      - {id: take, kind: lock, with: {ttl: 1s}}
`), 10)
	leaser := r.St.(engine.Leaser)
	old := engine.Lease{Dataset: "users-migration", Env: "test", Holder: "carol", Session: "crashed",
		Acquired: time.Now().Add(-time.Hour), Expires: time.Now().Add(-time.Minute)}
	if _, err := leaser.AcquireLease(r.Ctx, old, false); err != nil {
		t.Fatal(err)
	}
	sc := r.StepContext("take")
	clock := enginetest.NewFakeClock(time.Now())
	sc.Clock = clock
	var asked []engine.Prompt
	sc.Ask = rig.ReasonAnswer("carol's session crashed at 21:00", &asked)
	emit := sc.Emit
	sc.Emit = func(ev engine.Event) error {
		if ev.Kind == engine.EvDecision {
			return errRefused
		}
		return emit(ev)
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.Run(sc)
		done <- err
	}()
	// A takeover that did not wait for its record would wait out the
	// lease's ttl on the clock: let it, so that it shows.
	var err error
	deadline := time.Now().Add(5 * time.Second)
wait:
	for {
		select {
		case err = <-done:
			break wait
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock step did not return")
		}
		if clock.BlockUntil(1, 20*time.Millisecond) {
			clock.Advance(2 * time.Second)
		}
	}
	defer r.Leases.Release(context.Background())
	if !errors.Is(err, errRefused) {
		t.Errorf("lock error = %v, want the journal's", err)
	}
	if len(asked) != 1 {
		t.Fatalf("%d prompts, want the takeover reason asked once", len(asked))
	}
	probe := engine.Lease{Dataset: "users-migration", Env: "test", Holder: "dave", Session: "probe",
		Acquired: time.Now(), Expires: time.Now().Add(time.Minute)}
	_, perr := leaser.AcquireLease(r.Ctx, probe, false)
	var held *engine.LeaseHeldError
	if !errors.As(perr, &held) || held.Lease.Holder != "carol" {
		t.Errorf("lease after the refused takeover: %v, want still carol's", perr)
	}
}
