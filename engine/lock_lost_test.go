package engine_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/steps"
)

// lockMigrateSteps lock, migrate 2 000 rows page by page, unlock.
const lockMigrateSteps = `      - id: take
        kind: lock
        with: {ttl: 300ms, maintenance: {table: settings, key: {name: maintenance}, attribute: enabled}}
      - id: backfill
        kind: migrate
        with:
          set: {street_name: '"x"'}
          batch_size: 50
          segments: 2
      - {id: give, kind: unlock}
`

// takeOverLease makes bob's session the holder of the rig's lease, as a
// second session does when this one stalled past its ttl.
func takeOverLease(t *testing.T, r *rig.Data) time.Time {
	t.Helper()
	db := r.SQLDB(t)
	at := time.Now()
	res, err := db.Exec(`UPDATE lockstep_leases SET holder = 'bob', session = 's-bob', acquired = ?, expires = ?`,
		at.UnixNano(), at.Add(time.Hour).UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("took over %d leases, want 1", n)
	}
	return at
}

func leaseRow(t *testing.T, r *rig.Data) string {
	t.Helper()
	db := r.SQLDB(t)
	var holder, session string
	if err := db.QueryRow(`SELECT holder, session FROM lockstep_leases`).Scan(&holder, &session); err != nil {
		return err.Error()
	}
	return holder + "/" + session
}

// onClock returns the rig's step context for id on clock.
func onClock(r *rig.Data, id string, clock engine.Clock) *engine.StepContext {
	sc := r.StepContext(id)
	sc.Clock = clock
	return sc
}

// pastRenewMargin moves clock past the renew margin (ttl/3) of the
// 300ms lease the rig's lock step holds, once its heartbeat waits: the
// next heartbeat or check asks the store again.
func pastRenewMargin(t *testing.T, clock *enginetest.FakeClock) {
	t.Helper()
	if !clock.BlockUntil(1, 5*time.Second) {
		t.Fatal("the lease's heartbeat never waited on the session's clock")
	}
	clock.Advance(150 * time.Millisecond)
}

func migratedRows(t *testing.T, r *rig.Data) int {
	t.Helper()
	n := 0
	for _, it := range r.All() {
		if rig.AttrStr(it, "street_name") != "" {
			n++
		}
	}
	return n
}

// TestLockLostLeaseStopsWritesAndKeepsTakersFlag: once another session
// took the lease over, this one writes nothing more, its unlock fails and
// neither the flag nor the new holder's lease is touched.
func TestLockLostLeaseStopsWritesAndKeepsTakersFlag(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "    max_write_rate: 0", lockMigrateSteps)
	r := rig.NewSQLite(t, rb, 2000)
	addSettings(t, r)
	clock := enginetest.NewFakeClock(time.Now())
	if _, err := r.Run(onClock(r, "take", clock)); err != nil {
		t.Fatalf("lock: %v", err)
	}
	t.Cleanup(func() { _ = r.Leases.Release(r.Ctx) })
	takeOverLease(t, r)
	pastRenewMargin(t, clock) // the heartbeat, or the check before the first write, finds the lease gone

	_, err := r.Run(onClock(r, "backfill", clock))
	if !errors.Is(err, engine.ErrLeaseLost) {
		t.Fatalf("migrate after takeover: %v, want ErrLeaseLost", err)
	}
	for _, want := range []string{"lease on users-migration@test was taken over by bob (session s-bob) at ",
		"stopped writing after 0 items", "resume is refused while another session holds the lease"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("migrate error %q does not say %q", err, want)
		}
	}
	if n := migratedRows(t, r); n != 0 {
		t.Errorf("%d rows written after the lease was lost, want 0", n)
	}

	res, err := r.Run(r.StepContext("give"))
	if !errors.Is(err, engine.ErrLeaseLost) {
		t.Errorf("unlock after takeover: %v (result %+v), want ErrLeaseLost", err, res)
	}
	if !maintenanceOn(t, r) {
		t.Error("unlock of a lost lease cleared the new holder's maintenance flag")
	}
	if got := leaseRow(t, r); got != "bob/s-bob" {
		t.Errorf("lease after unlock = %s, want bob's", got)
	}
	if err := r.Leases.Release(r.Ctx); err != nil && !errors.Is(err, engine.ErrLeaseLost) {
		t.Errorf("ReleaseLeases: %v", err)
	}
	if !maintenanceOn(t, r) || leaseRow(t, r) != "bob/s-bob" {
		t.Errorf("ReleaseLeases of a lost lease touched bob's flag or lease (flag %t, lease %s)", maintenanceOn(t, r), leaseRow(t, r))
	}
}

// TestLockLostLeaseReleaseNeverClearsFlag: the session ends (quit, abort)
// before any heartbeat noticed the takeover: the release must still find
// out and leave the flag and the lease alone.
func TestLockLostLeaseReleaseNeverClearsFlag(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "", lockSteps)
	r := rig.NewSQLite(t, rb, 10)
	addSettings(t, r)
	if _, err := r.Run(r.StepContext("take")); err != nil {
		t.Fatalf("lock: %v", err)
	}
	takeOverLease(t, r)
	err := r.Leases.Release(r.Ctx)
	if !errors.Is(err, engine.ErrLeaseLost) {
		t.Errorf("ReleaseLeases after takeover = %v, want ErrLeaseLost", err)
	}
	if !maintenanceOn(t, r) || leaseRow(t, r) != "bob/s-bob" {
		t.Errorf("release of a lost lease: flag on %t, lease %s; want on and bob's", maintenanceOn(t, r), leaseRow(t, r))
	}
}

// TestLockResumeReappliesMaintenanceFlag: a resumed session sets the flag
// again (the stop, or an operator, may have cleared it).
func TestLockResumeReappliesMaintenanceFlag(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "", lockMigrateSteps)
	r := rig.NewSQLite(t, rb, 10)
	addSettings(t, r)
	if _, err := r.Run(r.StepContext("take")); err != nil {
		t.Fatalf("lock: %v", err)
	}
	if err := r.Leases.Release(r.Ctx); err != nil { // the stop
		t.Fatal(err)
	}
	if err := r.St.(engine.Leaser).SetFlag(r.Ctx, "settings", engine.Item{"name": "maintenance"}, "enabled", false); err != nil {
		t.Fatal(err)
	}
	if err := engine.ResumeLeases(r.Ctx, r.StepContext("backfill")); err != nil {
		t.Fatalf("ResumeLeases: %v", err)
	}
	defer r.Leases.Release(r.Ctx)
	if !maintenanceOn(t, r) {
		t.Error("maintenance flag off after ResumeLeases, want on")
	}
	if got := leaseRow(t, r); got != "alice/"+r.Session.ID {
		t.Errorf("lease after resume = %s, want alice's", got)
	}
}

// TestLockSuspendLeasesKeepsFlagOn: a resumable stop gives the lease back
// but leaves the maintenance flag on; resuming takes both back and unlock
// clears the flag.
func TestLockSuspendLeasesKeepsFlagOn(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "", lockMigrateSteps)
	r := rig.NewSQLite(t, rb, 10)
	addSettings(t, r)
	if _, err := r.Run(r.StepContext("take")); err != nil {
		t.Fatalf("lock: %v", err)
	}
	flags, err := r.Leases.Suspend(r.Ctx)
	if err != nil || flags != 1 {
		t.Fatalf("SuspendLeases()=%d, %v; want 1 flag left on", flags, err)
	}
	if !maintenanceOn(t, r) {
		t.Error("maintenance flag cleared by SuspendLeases")
	}
	if got := leaseRow(t, r); !strings.Contains(got, "no rows") {
		t.Errorf("lease after SuspendLeases = %s, want none", got)
	}
	if err := engine.ResumeLeases(r.Ctx, r.StepContext("backfill")); err != nil {
		t.Fatalf("ResumeLeases: %v", err)
	}
	res, err := r.Run(r.StepContext("give"))
	if err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if ur := res.(steps.UnlockResult); len(ur.Released) != 1 || ur.MaintenanceCleared != 1 || maintenanceOn(t, r) {
		t.Errorf("unlock after resume = %+v, flag on %t; want released and cleared", ur, maintenanceOn(t, r))
	}
}

// TestLockResumeRefusedWhileTakenOver: a stopped session whose lease
// another session took meanwhile cannot resume, and its steps fail before
// running while this process still remembers the lost lease.
func TestLockResumeRefusedWhileTakenOver(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "", lockMigrateSteps)
	r := rig.NewSQLite(t, rb, 10)
	addSettings(t, r)
	clock := enginetest.NewFakeClock(time.Now())
	if _, err := r.Run(onClock(r, "take", clock)); err != nil {
		t.Fatalf("lock: %v", err)
	}
	takeOverLease(t, r)
	pastRenewMargin(t, clock) // the lease is confirmed again before a step
	err := engine.ResumeLeases(r.Ctx, onClock(r, "backfill", clock))
	if !errors.Is(err, engine.ErrLeaseLost) || !strings.Contains(err.Error(), "taken over by bob") {
		t.Fatalf("ResumeLeases with the lease taken over (same process) = %v, want ErrLeaseLost naming bob", err)
	}
	if _, err := r.Leases.Suspend(r.Ctx); !errors.Is(err, engine.ErrLeaseLost) {
		t.Errorf("SuspendLeases of a lost lease = %v, want ErrLeaseLost", err)
	}
	err = engine.ResumeLeases(r.Ctx, r.StepContext("backfill")) // a new process
	var held *engine.LeaseHeldError
	if !errors.As(err, &held) || !strings.Contains(err.Error(), "resume is refused while another session holds the lease") {
		t.Fatalf("ResumeLeases in a new process = %v, want *LeaseHeldError refusing the resume", err)
	}
	if n := len(r.Leases.Held()); n != 0 {
		t.Errorf("%d leases held after a refused resume", n)
	}
	if !maintenanceOn(t, r) || leaseRow(t, r) != "bob/s-bob" {
		t.Errorf("refused resume touched bob's flag or lease")
	}
}
