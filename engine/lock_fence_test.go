package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// fenceSteps: lock with a ttl no heartbeat reaches during the test, so
// only the fence can notice a takeover; migrate 2 000 rows in pages of 50.
const fenceSteps = `      - id: take
        kind: lock
        with: {ttl: 1h}
      - id: backfill
        kind: migrate
        with:
          set: {street_name: '"x"'}
          batch_size: 50
          segments: 2
`

// pauseControl is an operator who pauses the session at its n-th safe
// point; while it is paused, during runs (another session's takeover).
type pauseControl struct {
	n      int64
	during func()
	calls  atomic.Int64
	once   sync.Once
}

func (c *pauseControl) Checkpoint(context.Context) error {
	if c.calls.Add(1) == c.n {
		c.once.Do(c.during)
	}
	return nil
}

func (c *pauseControl) Rate() int { return 0 }

// TestLockFenceSQLiteStopsWritesAtTakeover: the session is paused mid
// migration while another session takes its lease over. From then on it
// changes no row — the page in flight included, since the lease row is
// checked in the page's own transaction — and both sessions' journals
// count exactly the rows each changed.
func TestLockFenceSQLiteStopsWritesAtTakeover(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "    max_write_rate: 0", fenceSteps)
	r := rig.NewSQLite(t, rb, 2000)
	if _, err := r.Run(r.StepContext("take")); err != nil {
		t.Fatalf("lock: %v", err)
	}
	t.Cleanup(func() { _ = r.Leases.Release(r.Ctx) })
	held := r.Leases.Held()
	if len(held) != 1 {
		t.Fatalf("HeldLeases=%v, want one", held)
	}
	bobStore, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: filepath.Join(r.Dir, "data.db"), Table: "users", Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bobStore.Close() })

	atTakeover := -1
	sc := r.StepContext("backfill")
	sc.Control = &pauseControl{n: 9, during: func() {
		// Bob's clock is past alice's expiry: to him her lease expired.
		bob := engine.Lease{Dataset: held[0].Dataset, Env: held[0].Env, Holder: "bob", Session: "s-bob",
			Acquired: held[0].Expires.Add(time.Second), Expires: held[0].Expires.Add(2 * time.Hour)}
		if _, err := bobStore.AcquireLease(r.Ctx, bob, true); err != nil {
			t.Errorf("bob's takeover: %v", err)
		}
		atTakeover = migratedRows(t, r)
	}}
	res, err := r.Run(sc)
	if !errors.Is(err, engine.ErrLeaseLost) {
		t.Fatalf("migrate across a takeover: %v, want ErrLeaseLost", err)
	}
	after := migratedRows(t, r)
	if atTakeover <= 0 || atTakeover >= 2000 {
		t.Fatalf("rows written before the takeover = %d, want some and not all", atTakeover)
	}
	if after != atTakeover {
		t.Errorf("alice changed %d rows after bob took her lease over, want 0", after-atTakeover)
	}
	mr, ok := res.(migrate.Result)
	if !ok {
		t.Fatalf("migrate result %T, want migrate.Result", res)
	}
	if mr.Migrated != int64(after) {
		t.Errorf("alice's result counts %d migrated, rows she changed = %d", mr.Migrated, after)
	}
	if got := rig.JournaledMigrated(t, r); got != int64(after) {
		t.Errorf("alice's journal counts %d migrated, rows she changed = %d", got, after)
	}

	// Bob's session migrates the rest and counts exactly that.
	br := rig.NewData(t, rb, bobStore, t.TempDir())
	bres, err := br.Run(br.StepContext("backfill"))
	if err != nil {
		t.Fatalf("bob's migrate: %v", err)
	}
	if got, want := bres.(migrate.Result).Migrated, int64(2000-after); got != want {
		t.Errorf("bob's result counts %d migrated, want %d", got, want)
	}
	if got, want := rig.JournaledMigrated(t, br), int64(2000-after); got != want {
		t.Errorf("bob's journal counts %d migrated, want %d", got, want)
	}
	if n := migratedRows(t, r); n != 2000 {
		t.Errorf("%d rows migrated in all, want 2000", n)
	}
}
