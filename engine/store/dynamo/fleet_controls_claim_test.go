package dynamo_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
)

// The worker side of docs/fleet.md's "Pause, rate, abort": the session
// sets the record's flags (TestFleetSessionControlsAndTotals); here a
// worker against the real control table must obey them. Its segment run
// stands in for the migrate executor, which asks the worker's control
// (Checkpoint) before every page, as in the tests beside it. A fake
// clock moves the worker's polls.

const controlsPoll = time.Second

// TestFleetWorkerCancelGivesTheSegmentBack: "`a` sets cancelled: each
// worker gives its segment back (open, its checkpoint kept) before its
// next page and exits 0".
func TestFleetWorkerCancelGivesTheSegmentBack(t *testing.T) {
	ctx := context.Background()
	ft, rec := newFleet(t) // 3 segments
	clock := enginetest.NewFakeClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	var ran []int
	w := &fleet.Worker{Control: ft, Fleet: rec.ID, ID: "w1", Clock: clock, Hint: 1, Poll: controlsPoll,
		Run: func(ctx context.Context, _ fleet.Record, r migrate.SegmentRun, _ *engine.Leases, ctl engine.Control) (engine.MigrateCounts, error) {
			ran = append(ran, r.Segment)
			c := engine.MigrateCounts{Scanned: 20, Migrated: 20}
			if err := r.Save(ctx, []byte("k20"), nil, c); err != nil {
				return c, err
			}
			if err := ft.SetFlags(ctx, rec.ID, fleet.Flags{Rate: rec.Rate, Cancelled: true}); err != nil {
				t.Fatal(err)
			}
			clock.Advance(controlsPoll) // the worker's next read of the record
			if err := ctl.Checkpoint(ctx); err != nil {
				return c, err // before the next page, as the executor does
			}
			t.Errorf("Checkpoint() = nil after the fleet was cancelled, want engine.ErrAborted")
			return c, r.Save(ctx, migrate.SegmentDoneCursor(), json.RawMessage(`{}`), c)
		}}
	err := w.Work(ctx)
	if err != nil || fleet.ExitCode(err) != fleet.ExitDone {
		t.Fatalf("Work() = %v (exit %d), want nil and exit 0 on a cancelled fleet", err, fleet.ExitCode(err))
	}
	if len(ran) != 1 {
		t.Errorf("segments run %v, want only the first: a cancelled fleet claims nothing more", ran)
	}
	segs, err := ft.Segments(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s := segs[1]; s.State != fleet.StateOpen || string(s.Cursor) != "k20" || s.Counts.Migrated != 20 {
		t.Errorf("segment 1 = %+v, want open again at its checkpoint k20 (20 migrated)", s)
	}
}

// TestFleetWorkerPauseWaitsHoldingItsClaim: "`p` sets the record's
// paused flag: every worker stops before its next page and waits, still
// holding its claim. `p` again clears it" and the worker goes on.
func TestFleetWorkerPauseWaitsHoldingItsClaim(t *testing.T) {
	ctx := context.Background()
	ft, rec := newFleet(t)
	clock := enginetest.NewFakeClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	paused := false
	w := &fleet.Worker{Control: ft, Fleet: rec.ID, ID: "w1", Clock: clock, Hint: 0, Poll: controlsPoll,
		Run: func(ctx context.Context, _ fleet.Record, r migrate.SegmentRun, _ *engine.Leases, ctl engine.Control) (engine.MigrateCounts, error) {
			c := engine.MigrateCounts{Scanned: 20, Migrated: 20}
			if err := r.Save(ctx, []byte("k20"), nil, c); err != nil {
				return c, err
			}
			if r.Segment == 0 {
				paused = true
				waitWhilePaused(t, ctx, ft, rec, clock, ctl)
			}
			return c, r.Save(ctx, migrate.SegmentDoneCursor(), json.RawMessage(`{}`), c)
		}}
	if err := w.Work(ctx); err != nil {
		t.Fatalf("Work() = %v (exit %d), want nil once resumed", err, fleet.ExitCode(err))
	}
	if !paused {
		t.Fatal("segment 0 never ran")
	}
	segs, _ := ft.Segments(ctx, rec.ID)
	for _, s := range segs {
		if s.State != fleet.StateDone {
			t.Errorf("segment %d = %+v, want done after the pause was lifted", s.N, s)
		}
	}
}

// waitWhilePaused pauses the fleet, checks that ctl.Checkpoint waits
// (the claim still the worker's), lifts the pause and checks it returns.
func waitWhilePaused(t *testing.T, ctx context.Context, ft *dynamo.FleetTable, rec fleet.Record, clock *enginetest.FakeClock, ctl engine.Control) {
	t.Helper()
	if err := ft.SetFlags(ctx, rec.ID, fleet.Flags{Rate: rec.Rate, Paused: true}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(controlsPoll)
	waiters := clock.Waiters()
	done := make(chan error, 1)
	go func() { done <- ctl.Checkpoint(ctx) }()
	if !clock.BlockUntil(waiters+1, 10*time.Second) {
		t.Fatal("Checkpoint() never waited on the paused fleet")
	}
	select {
	case err := <-done:
		t.Fatalf("Checkpoint() = %v while the fleet is paused, want it to wait", err)
	default:
	}
	segs, _ := ft.Segments(ctx, rec.ID)
	if s := segs[0]; s.State != fleet.StateClaimed || s.Owner != "w1" {
		t.Errorf("segment 0 while paused = %+v, want still claimed by w1", s)
	}
	if err := ft.SetFlags(ctx, rec.ID, fleet.Flags{Rate: rec.Rate}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(controlsPoll)
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("Checkpoint() = %v after the pause was lifted, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Checkpoint() still waiting after the pause was lifted")
	}
}

// TestFleetWorkerRateIsItsShare: "each worker writes at most rate /
// workers items per second (at least 1) ... A rate change in the session
// reaches every worker within its next read of the record (at most a
// quarter of the lease, 5 s at most)". The rate the worker's control
// gives the migrate executor's limiter is its share of the record's
// rate, re-read once the default poll (5 s for a 30 s lease) has passed.
func TestFleetWorkerRateIsItsShare(t *testing.T) {
	ctx := context.Background()
	ft, rec := newFleet(t) // rate 50, 2 workers, lease 30s
	clock := enginetest.NewFakeClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	var rates []int
	w := &fleet.Worker{Control: ft, Fleet: rec.ID, ID: "w1", Clock: clock, Hint: 0,
		Run: func(ctx context.Context, _ fleet.Record, r migrate.SegmentRun, _ *engine.Leases, ctl engine.Control) (engine.MigrateCounts, error) {
			if r.Segment != 0 {
				return engine.MigrateCounts{}, r.Save(ctx, migrate.SegmentDoneCursor(), json.RawMessage(`{}`), engine.MigrateCounts{})
			}
			page := func() {
				if err := ctl.Checkpoint(ctx); err != nil {
					t.Fatalf("Checkpoint() = %v", err)
				}
				rates = append(rates, ctl.Rate())
			}
			page()
			for _, rate := range []int{300, 1} {
				if err := ft.SetFlags(ctx, rec.ID, fleet.Flags{Rate: rate}); err != nil {
					t.Fatal(err)
				}
				clock.Advance(5 * time.Second)
				page()
			}
			return engine.MigrateCounts{}, r.Save(ctx, migrate.SegmentDoneCursor(), json.RawMessage(`{}`), engine.MigrateCounts{})
		}}
	if err := w.Work(ctx); err != nil {
		t.Fatalf("Work() = %v", err)
	}
	if want := []int{25, 150, 1}; !slices.Equal(rates, want) {
		t.Errorf("the worker's rate per page = %v, want %v (half the fleet's 50, 300, then at least 1 of 1)", rates, want)
	}
}
