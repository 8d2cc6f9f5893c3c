package integration_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/runbook"
)

// lateSteps bumps a counter, ten items a page: not idempotent by itself.
const lateSteps = `      - id: bump
        kind: migrate
        with:
          set: {count: "item.count + 1"}
          batch_size: 10
`

// lateWrite holds one write of a stalled worker in flight (the store
// wrapper of the first worker) until the worker that took its segment
// over sends its own write of that item (the second worker's wrapper):
// then the held write lands, and only once it has landed does the
// second write go. Everything else reaches dynalite untouched.
type lateWrite struct {
	holdAt  int64 // the first worker's write to hold (1-based)
	writes  atomic.Int64
	once    sync.Once
	key     chan engine.Item // the held write's key, sent once held
	release chan struct{}    // closed when the second worker writes that item
	landed  chan struct{}    // closed once the held write was applied
	heldKey engine.Item
}

func newLateWrite(holdAt int64) *lateWrite {
	return &lateWrite{holdAt: holdAt, key: make(chan engine.Item, 1), release: make(chan struct{}), landed: make(chan struct{})}
}

// stalled is the first worker's store.
type stalled struct {
	engine.Store
	w *lateWrite
}

func (s stalled) Update(ctx context.Context, u engine.Update) error {
	if s.w.writes.Add(1) != s.w.holdAt {
		return s.Store.Update(ctx, u)
	}
	s.w.key <- u.Key
	<-s.w.release
	defer close(s.w.landed)
	return s.Store.Update(ctx, u)
}

// retrying is the second worker's store.
type retrying struct {
	engine.Store
	w *lateWrite
}

func (s retrying) Update(ctx context.Context, u engine.Update) error {
	if engine.EqualValues(u.Key["id"], s.w.heldKey["id"]) {
		s.w.once.Do(func() { close(s.w.release) })
		<-s.w.landed
	}
	return s.Store.Update(ctx, u)
}

// TestFleetStalledWriteLandingLateCountsOnce: worker A stalls with the
// first write of its second page in flight; worker B sees A's claim
// stand still for a whole lease, takes the segment over and redoes that
// page from A's checkpoint. A's write lands after B read the item at the
// old version and before B's own guarded write, which then fails its
// condition: the re-read finds the item migrated by the interrupted
// attempt's intent, so it counts once, as migrated (and recovered) — not
// as already there, nor as a conflict. A's next checkpoint fails its
// claim and A exits 75. Deterministic: the fake clocks and the held
// write order every step (commit 718259b).
func TestFleetStalledWriteLandingLateCountsOnce(t *testing.T) {
	t.Parallel()
	const n, page = 30, 10
	const lease = 30 * time.Second
	r := newDynamoRig(t, 2, "", lateSteps, n, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := dynamo.NewClient(ctx, &runbook.StoreSpec{Region: "us-east-1", Endpoint: r.RB.Env("test").Store.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	ctl := dynamo.NewFleetTable(client, fmt.Sprintf("fleet_late_%d", dynamoTables.Add(1)))
	rec := fleet.Record{ID: "late", Runbook: r.RB.Source, SHA256: fleet.SHA256(r.RB.Source), Path: "test.yaml", Step: "bump",
		Env: "test", Session: r.Session.ID, Mode: string(engine.ModeLive), Segments: 1, Workers: 2, Lease: lease, Created: time.Now()}
	if err := ctl.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	w := newLateWrite(page + 1) // the first write of the second page
	worker := func(id string, clock *enginetest.FakeClock, st engine.Store) *fleet.Worker {
		return &fleet.Worker{Control: ctl, Fleet: rec.ID, ID: id, Clock: clock, Hint: 0, Poll: time.Second,
			Run: func(ctx context.Context, _ fleet.Record, run migrate.SegmentRun, leases *engine.Leases, c engine.Control) (engine.MigrateCounts, error) {
				sc := r.StepContext("bump")
				sc.Journal, sc.Emit, sc.Progress = nil, nil, nil
				sc.Store = func(context.Context) (engine.Store, error) { return st, nil }
				sc.Clock, sc.Leases, sc.Control = clock, leases, c
				return migrate.Executor{}.RunSegment(ctx, sc, run)
			}}
	}
	t0 := time.Now()
	clockA, clockB := enginetest.NewFakeClock(t0), enginetest.NewFakeClock(t0)
	errA, errB := make(chan error, 1), make(chan error, 1)

	// A's clock never moves: stalled, it neither renews its claim nor
	// knows that it lost it.
	go func() { errA <- worker("A", clockA, stalled{r.St, w}).Work(ctx) }()
	select {
	case w.heldKey = <-w.key:
	case err := <-errA:
		t.Fatalf("worker A ended before its write was held: %v", err)
	case <-ctx.Done():
		t.Fatal("worker A never sent the write to hold")
	}
	// B sees A's claim, waits a lease by its own clock and takes it over.
	go func() { errB <- worker("B", clockB, retrying{r.St, w}).Work(ctx) }()
	if !clockB.BlockUntil(1, 30*time.Second) {
		t.Fatal("worker B does not wait for A's claim to expire")
	}
	clockB.Advance(lease)

	if err := <-errB; err != nil {
		t.Fatalf("worker B: Work() = %v, want nil", err)
	}
	if err := <-errA; !errors.Is(err, fleet.ErrClaimLost) || fleet.ExitCode(err) != fleet.ExitRetry {
		t.Errorf("worker A: Work() = %v (exit %d), want its claim lost, exit 75", err, fleet.ExitCode(err))
	}
	select {
	case <-w.landed:
	default:
		t.Fatal("A's held write never landed: B did not redo A's page")
	}
	segs, err := ctl.Segments(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	s := segs[0]
	if s.State != fleet.StateDone || s.Owner != "B" || s.Claim != 2 {
		t.Errorf("segment = %s by %s under claim %d, want done by B under claim 2", s.State, s.Owner, s.Claim)
	}
	got := s.Counts
	want := engine.MigrateCounts{Scanned: n, Migrated: n, Recovered: page}
	if got.Scanned != want.Scanned || got.Migrated != want.Migrated || got.Recovered != want.Recovered ||
		got.Already != 0 || got.Conflicts != 0 || got.Failures != 0 || got.Unresolved != 0 {
		t.Errorf("segment counts = scanned %d, migrated %d, recovered %d, already %d, conflicts %d, failures %d, unresolved %d;"+
			" want scanned %d, migrated %d, recovered %d, none already, conflicting or failed",
			got.Scanned, got.Migrated, got.Recovered, got.Already, got.Conflicts, got.Failures, got.Unresolved,
			want.Scanned, want.Migrated, want.Recovered)
	}
	assertCountedOnce(t, r.Seed, n, 2)
}
