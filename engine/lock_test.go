package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/steps"
)

const lockSteps = `      - id: take
        kind: lock
        with: {ttl: 300ms, maintenance: {table: settings, key: {name: maintenance}, attribute: enabled}}
      - {id: give, kind: unlock}
`

// addSettings creates the maintenance table next to users.
func addSettings(t *testing.T, r *rig.Data) {
	t.Helper()
	db := r.SQLDB(t)
	if _, err := db.Exec(`CREATE TABLE settings (name TEXT PRIMARY KEY, enabled INTEGER);
		INSERT INTO settings VALUES ('maintenance', NULL)`); err != nil {
		t.Fatal(err)
	}
}

func maintenanceOn(t *testing.T, r *rig.Data) bool {
	t.Helper()
	db := r.SQLDB(t)
	var on sql.NullInt64
	if err := db.QueryRow(`SELECT enabled FROM settings WHERE name = 'maintenance'`).Scan(&on); err != nil {
		t.Fatal(err)
	}
	return on.Valid && on.Int64 == 1
}

func TestLockRefusesSecondSessionAndUnlocks(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "", lockSteps)
	r := rig.NewSQLite(t, rb, 10)
	addSettings(t, r)
	clock := enginetest.NewFakeClock(time.Now())
	take := r.StepContext("take")
	take.Clock = clock
	res, err := r.Run(take)
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	if lr := res.(engine.LockResult); lr.Lease.Holder != "alice" || lr.Lease.Dataset != "users-migration" || lr.Lease.Env != "test" {
		t.Errorf("lease = %+v", lr.Lease)
	}
	if !maintenanceOn(t, r) {
		t.Error("maintenance flag not set")
	}
	// Outlive the TTL (300ms) more than twice: the heartbeat must keep the lease.
	for range 7 {
		if !clock.BlockUntil(1, 5*time.Second) {
			t.Fatal("the lease's heartbeat never waited on the session's clock")
		}
		clock.Advance(100 * time.Millisecond)
	}
	if !clock.BlockUntil(1, 5*time.Second) { // the last renewal is done
		t.Fatal("the lease's heartbeat stopped")
	}
	other := rig.NewData(t, rb, r.St, t.TempDir())
	sc := other.StepContext("take")
	sc.Operator, sc.Clock = "bob", clock
	_, err = rig.ExecutorFor(sc.Step.Kind).Execute(r.Ctx, sc)
	var held *engine.LeaseHeldError
	if !errors.As(err, &held) || !strings.Contains(err.Error(), "held by alice") || !strings.Contains(err.Error(), "since") {
		t.Fatalf("second lock error = %v, want held by alice since …", err)
	}
	res, err = r.Run(r.StepContext("give"))
	if err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if ur := res.(steps.UnlockResult); len(ur.Released) != 1 || ur.MaintenanceCleared != 1 {
		t.Errorf("unlock = %+v", ur)
	}
	if maintenanceOn(t, r) {
		t.Error("maintenance flag still set after unlock")
	}
	if _, err := rig.ExecutorFor(sc.Step.Kind).Execute(r.Ctx, sc); err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	if err := other.Leases.Release(context.Background()); err != nil {
		t.Fatalf("ReleaseLeases: %v", err)
	}
	if n := len(other.Leases.Held()); n != 0 {
		t.Errorf("%d leases still held after ReleaseLeases", n)
	}
}

func TestLockTakesOverExpiredLeaseWithReason(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "", lockSteps)
	r := rig.NewSQLite(t, rb, 10)
	leaser := r.St.(engine.Leaser)
	old := engine.Lease{Dataset: "users-migration", Env: "test", Holder: "carol", Session: "crashed",
		Acquired: time.Now().Add(-time.Hour), Expires: time.Now().Add(-time.Minute)}
	if _, err := leaser.AcquireLease(r.Ctx, old, false); err != nil {
		t.Fatal(err)
	}
	steps := `      - {id: take, kind: lock}
`
	r.RB = rig.DataRunbook(t, 2, "", steps)
	sc := r.StepContext("take")
	clock := enginetest.NewFakeClock(time.Now())
	sc.Clock = clock
	var asked []engine.Prompt
	sc.Ask = rig.ReasonAnswer("carol's session crashed at 21:00", &asked)
	type outcome struct {
		res any
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := r.Run(sc)
		done <- outcome{res, err}
	}()
	// The taker waits out a full ttl on its clock: not a nanosecond less.
	if !clock.BlockUntil(1, 5*time.Second) {
		t.Fatal("the takeover never waited on the session's clock")
	}
	clock.Advance(engine.DefaultLeaseTTL - time.Nanosecond)
	select {
	case o := <-done:
		t.Fatalf("lock returned %v, %v before a full ttl %s had passed", o.res, o.err, engine.DefaultLeaseTTL)
	default:
	}
	clock.Advance(time.Nanosecond)
	o := <-done
	if o.err != nil {
		t.Fatalf("lock: %v", o.err)
	}
	defer r.Leases.Release(context.Background())
	lr := o.res.(engine.LockResult)
	if len(asked) != 1 || asked[0].Kind != engine.PromptReason || !lr.TakenOver || lr.PreviousHolder != "carol" {
		t.Fatalf("prompts %v, result %+v: want one reason prompt and a takeover", asked, lr)
	}
	decisions := r.EventsOf(engine.EvDecision)
	if len(decisions) != 1 || !strings.Contains(string(decisions[0].Data), "crashed at 21:00") {
		t.Errorf("decision events = %v, want the reason journaled", decisions)
	}
}

func TestLockResumeLeasesAfterRestart(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "", lockSteps)
	r := rig.NewSQLite(t, rb, 10)
	addSettings(t, r)
	if _, err := r.Run(r.StepContext("take")); err != nil {
		t.Fatalf("lock: %v", err)
	}
	// A crash: this process forgets the lease (heartbeat gone); the lease
	// row stays with the session.
	held := r.Leases.Held()
	if len(held) != 1 {
		t.Fatalf("HeldLeases = %v, want 1", held)
	}
	forgetLeases(t, r)
	if err := engine.ResumeLeases(r.Ctx, r.StepContext("give")); err != nil {
		t.Fatalf("ResumeLeases: %v", err)
	}
	if got := r.Leases.Held(); len(got) != 1 || got[0].Holder != "alice" {
		t.Fatalf("HeldLeases after resume = %v", got)
	}
	res, err := r.Run(r.StepContext("give"))
	if err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if ur := res.(steps.UnlockResult); len(ur.Released) != 1 || ur.MaintenanceCleared != 1 || maintenanceOn(t, r) {
		t.Errorf("unlock after resume = %+v (maintenance on %t)", ur, maintenanceOn(t, r))
	}
}

// forgetLeases stops the session's heartbeats as a crash would, without
// releasing: it releases and re-acquires the same lease row directly.
func forgetLeases(t *testing.T, r *rig.Data) {
	t.Helper()
	held := r.Leases.Held()
	if err := r.Leases.Release(r.Ctx); err != nil {
		t.Fatal(err)
	}
	for _, l := range held {
		if _, err := r.St.(engine.Leaser).AcquireLease(r.Ctx, l, false); err != nil {
			t.Fatal(err)
		}
	}
	// The crashed lock still holds its maintenance flag.
	if _, err := r.St.(engine.FlagHolder).HoldFlag(r.Ctx, "settings", engine.Item{"name": "maintenance"}, "enabled",
		"users-migration/test"); err != nil {
		t.Fatal(err)
	}
}
