package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

const lockSteps = `      - id: take
        kind: lock
        with: {ttl: 300ms, maintenance: {table: settings, key: {name: maintenance}, attribute: enabled}}
      - {id: give, kind: unlock}
`

// addSettings creates the maintenance table next to users.
func addSettings(t *testing.T, r *dataRig) {
	t.Helper()
	db := r.sqlDB(t)
	if _, err := db.Exec(`CREATE TABLE settings (name TEXT PRIMARY KEY, enabled INTEGER);
		INSERT INTO settings VALUES ('maintenance', NULL)`); err != nil {
		t.Fatal(err)
	}
}

func maintenanceOn(t *testing.T, r *dataRig) bool {
	t.Helper()
	db := r.sqlDB(t)
	var on sql.NullInt64
	if err := db.QueryRow(`SELECT enabled FROM settings WHERE name = 'maintenance'`).Scan(&on); err != nil {
		t.Fatal(err)
	}
	return on.Valid && on.Int64 == 1
}

func TestLockRefusesSecondSessionAndUnlocks(t *testing.T) {
	rb := dataRunbook(t, 2, "", lockSteps)
	r := newSQLiteRig(t, rb, 10)
	addSettings(t, r)
	res, err := r.run(r.stepContext("take"))
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	if lr := res.(engine.LockResult); lr.Lease.Holder != "alice" || lr.Lease.Dataset != "users-migration" || lr.Lease.Env != "test" {
		t.Errorf("lease = %+v", lr.Lease)
	}
	if !maintenanceOn(t, r) {
		t.Error("maintenance flag not set")
	}
	// Outlive the TTL: the heartbeat must keep the lease.
	time.Sleep(700 * time.Millisecond)
	other := newDataRig(t, rb, r.st, t.TempDir())
	sc := other.stepContext("take")
	sc.Operator = "bob"
	_, err = engine.ExecutorFor(sc.Step.Kind).Execute(r.ctx, sc)
	var held *engine.LeaseHeldError
	if !errors.As(err, &held) || !strings.Contains(err.Error(), "held by alice") || !strings.Contains(err.Error(), "since") {
		t.Fatalf("second lock error = %v, want held by alice since …", err)
	}
	res, err = r.run(r.stepContext("give"))
	if err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if ur := res.(engine.UnlockResult); len(ur.Released) != 1 || ur.MaintenanceCleared != 1 {
		t.Errorf("unlock = %+v", ur)
	}
	if maintenanceOn(t, r) {
		t.Error("maintenance flag still set after unlock")
	}
	if _, err := engine.ExecutorFor(sc.Step.Kind).Execute(r.ctx, sc); err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	if err := other.leases.Release(context.Background()); err != nil {
		t.Fatalf("ReleaseLeases: %v", err)
	}
	if n := len(other.leases.Held()); n != 0 {
		t.Errorf("%d leases still held after ReleaseLeases", n)
	}
}

// reasonPrompter answers the takeover prompt.
func reasonAnswer(reason string, asked *[]engine.Prompt) func(context.Context, engine.Prompt) (engine.Answer, error) {
	return func(_ context.Context, p engine.Prompt) (engine.Answer, error) {
		*asked = append(*asked, p)
		return engine.Answer{Reason: reason}, nil
	}
}

func TestLockTakesOverExpiredLeaseWithReason(t *testing.T) {
	rb := dataRunbook(t, 2, "", lockSteps)
	r := newSQLiteRig(t, rb, 10)
	leaser := r.st.(engine.Leaser)
	old := engine.Lease{Dataset: "users-migration", Env: "test", Holder: "carol", Session: "crashed",
		Acquired: time.Now().Add(-time.Hour), Expires: time.Now().Add(-time.Minute)}
	if _, err := leaser.AcquireLease(r.ctx, old, false); err != nil {
		t.Fatal(err)
	}
	steps := `      - {id: take, kind: lock}
`
	r.rb = dataRunbook(t, 2, "", steps)
	sc := r.stepContext("take")
	clock := &sleepClock{now: time.Now()}
	sc.Clock = clock
	var asked []engine.Prompt
	sc.Ask = reasonAnswer("carol's session crashed at 21:00", &asked)
	res, err := r.run(sc)
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	defer r.leases.Release(context.Background())
	lr := res.(engine.LockResult)
	if len(asked) != 1 || asked[0].Kind != engine.PromptReason || !lr.TakenOver || lr.PreviousHolder != "carol" {
		t.Fatalf("prompts %v, result %+v: want one reason prompt and a takeover", asked, lr)
	}
	if got := clock.slept(); got != engine.DefaultLeaseTTL {
		t.Errorf("waited %s before taking the lease over, want a full ttl %s", got, engine.DefaultLeaseTTL)
	}
	decisions := r.eventsOf(engine.EvDecision)
	if len(decisions) != 1 || !strings.Contains(string(decisions[0].Data), "crashed at 21:00") {
		t.Errorf("decision events = %v, want the reason journaled", decisions)
	}
}

func TestLockResumeLeasesAfterRestart(t *testing.T) {
	rb := dataRunbook(t, 2, "", lockSteps)
	r := newSQLiteRig(t, rb, 10)
	addSettings(t, r)
	if _, err := r.run(r.stepContext("take")); err != nil {
		t.Fatalf("lock: %v", err)
	}
	// A crash: this process forgets the lease (heartbeat gone); the lease
	// row stays with the session.
	held := r.leases.Held()
	if len(held) != 1 {
		t.Fatalf("HeldLeases = %v, want 1", held)
	}
	forgetLeases(t, r)
	if err := engine.ResumeLeases(r.ctx, r.stepContext("give")); err != nil {
		t.Fatalf("ResumeLeases: %v", err)
	}
	if got := r.leases.Held(); len(got) != 1 || got[0].Holder != "alice" {
		t.Fatalf("HeldLeases after resume = %v", got)
	}
	res, err := r.run(r.stepContext("give"))
	if err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if ur := res.(engine.UnlockResult); len(ur.Released) != 1 || ur.MaintenanceCleared != 1 || maintenanceOn(t, r) {
		t.Errorf("unlock after resume = %+v (maintenance on %t)", ur, maintenanceOn(t, r))
	}
}

// forgetLeases stops the session's heartbeats as a crash would, without
// releasing: it releases and re-acquires the same lease row directly.
func forgetLeases(t *testing.T, r *dataRig) {
	t.Helper()
	held := r.leases.Held()
	if err := r.leases.Release(r.ctx); err != nil {
		t.Fatal(err)
	}
	for _, l := range held {
		if _, err := r.st.(engine.Leaser).AcquireLease(r.ctx, l, false); err != nil {
			t.Fatal(err)
		}
	}
	// The crashed lock still holds its maintenance flag.
	if _, err := r.st.(engine.FlagHolder).HoldFlag(r.ctx, "settings", engine.Item{"name": "maintenance"}, "enabled",
		"users-migration/test"); err != nil {
		t.Fatal(err)
	}
}

// sleepClock is a fake engine.Clock whose Sleep advances it at once.
type sleepClock struct {
	mu    sync.Mutex
	now   time.Time
	total time.Duration
}

func (c *sleepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *sleepClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now, c.total = c.now.Add(d), c.total+d
	return ctx.Err()
}

// slept is how long the clock was asked to sleep in all.
func (c *sleepClock) slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}
