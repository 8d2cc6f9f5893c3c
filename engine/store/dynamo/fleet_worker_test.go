package dynamo_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// The worker's protocol against the real control table: its RunFunc
// stands in for the migrate executor (RunSegment is exercised by
// test/e2e's fleet test) and reports through the same Save.

func TestFleetWorkerRunsEverySegmentFromItsHint(t *testing.T) {
	ctx := context.Background()
	ft, rec := newFleet(t) // 3 segments
	var order []int
	w := &fleet.Worker{Control: ft, Fleet: rec.ID, ID: "w1", Clock: engine.SystemClock{}, Hint: 2,
		Run: func(ctx context.Context, _ fleet.Record, r migrate.SegmentRun, _ *engine.Leases, _ engine.Control) (engine.MigrateCounts, error) {
			order = append(order, r.Segment)
			c := engine.MigrateCounts{Scanned: int64(10 + r.Segment), Migrated: int64(r.Segment)}
			return c, r.Save(ctx, migrate.SegmentDoneCursor(), json.RawMessage(`{}`), c)
		}}
	if err := w.Work(ctx); err != nil {
		t.Fatalf("Work() = %v, want nil (exit %d)", err, fleet.ExitCode(err))
	}
	if len(order) != 3 || order[0] != 2 {
		t.Errorf("segments run in order %v, want 3 starting with the hint 2", order)
	}
	segs, _ := ft.Segments(ctx, rec.ID)
	for _, s := range segs {
		if s.State != fleet.StateDone || s.Owner != "w1" || s.Counts.Scanned != int64(10+s.N) {
			t.Errorf("segment %d = %+v, want done by w1 with %d scanned", s.N, s, 10+s.N)
		}
	}
}

// TestFleetWorkerStopsOnALostClaim: once another worker claimed its
// segment, the worker's next checkpoint fails and it exits 75.
func TestFleetWorkerStopsOnALostClaim(t *testing.T) {
	ctx := context.Background()
	ft, rec := newFleet(t)
	var saveErr error
	w := &fleet.Worker{Control: ft, Fleet: rec.ID, ID: "old", Clock: engine.SystemClock{}, Hint: 0,
		Run: func(ctx context.Context, _ fleet.Record, r migrate.SegmentRun, _ *engine.Leases, _ engine.Control) (engine.MigrateCounts, error) {
			if err := r.Save(ctx, []byte("k1"), nil, engine.MigrateCounts{Scanned: 5}); err != nil {
				return engine.MigrateCounts{}, err
			}
			segs, _ := ft.Segments(ctx, rec.ID) // another worker takes it over
			if _, err := ft.Claim(ctx, rec.ID, segs[r.Segment], "new", time.Now()); err != nil {
				t.Fatalf("Claim(new) = %v", err)
			}
			saveErr = r.Save(ctx, []byte("k2"), nil, engine.MigrateCounts{Scanned: 9})
			return engine.MigrateCounts{}, saveErr
		}}
	err := w.Work(ctx)
	if !errors.Is(saveErr, fleet.ErrClaimLost) || fleet.ExitCode(err) != fleet.ExitRetry {
		t.Fatalf("checkpoint after the takeover = %v; Work() = %v (exit %d), want ErrClaimLost and exit 75", saveErr, err, fleet.ExitCode(err))
	}
	segs, _ := ft.Segments(ctx, rec.ID)
	if s := segs[0]; s.Owner != "new" || s.Claim != 2 || string(s.Cursor) != "k1" || s.State != fleet.StateClaimed {
		t.Errorf("segment 0 = %+v, want claimed by new (claim 2) at the old worker's last checkpoint k1", s)
	}
}

func TestFleetWorkerRefusesAChangedRunbook(t *testing.T) {
	ctx := context.Background()
	ft, rec := newFleet(t)
	rec.ID, rec.SHA256 = "tampered", fleet.SHA256([]byte("another runbook"))
	if err := ft.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	w := &fleet.Worker{Control: ft, Fleet: rec.ID, ID: "w", Clock: engine.SystemClock{}, Hint: -1,
		Run: func(context.Context, fleet.Record, migrate.SegmentRun, *engine.Leases, engine.Control) (engine.MigrateCounts, error) {
			t.Fatal("a segment ran under a runbook that does not match its SHA-256")
			return engine.MigrateCounts{}, nil
		}}
	if err := w.Work(ctx); !errors.Is(err, fleet.ErrRunbookChanged) || fleet.ExitCode(err) != fleet.ExitDataError {
		t.Errorf("Work() = %v (exit %d), want ErrRunbookChanged and exit 65", err, fleet.ExitCode(err))
	}
}
