package dynamo_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// TestFleetWorkerSpentErrorBudgetIsPermanent holds docs/fleet.md's exit
// codes: "a segment spent its error budget (the segment is marked
// `failed`)" is a permanent error, exit 65, which launchers do not
// retry — not 75, which they do. The segment's run (standing in for the
// migrate executor, as in the tests beside it) checkpoints, then spends
// its budget; the control table must hold the segment failed at that
// checkpoint, with the reason, and no later segment is claimed.
func TestFleetWorkerSpentErrorBudgetIsPermanent(t *testing.T) {
	ctx := context.Background()
	ft, rec := newFleet(t) // 3 segments
	var ran []int
	w := &fleet.Worker{Control: ft, Fleet: rec.ID, ID: "w1", Clock: engine.SystemClock{}, Hint: 1,
		Run: func(ctx context.Context, _ fleet.Record, r migrate.SegmentRun, _ *engine.Leases, _ engine.Control) (engine.MigrateCounts, error) {
			ran = append(ran, r.Segment)
			c := engine.MigrateCounts{Scanned: 40, Migrated: 30, Failures: 10}
			if err := r.Save(ctx, []byte("k40"), nil, c); err != nil {
				return c, err
			}
			return c, fmt.Errorf("segment %d: 10 items failed: %w", r.Segment, migrate.ErrErrorBudget)
		}}
	err := w.Work(ctx)
	if got := fleet.ExitCode(err); got != fleet.ExitDataError {
		t.Fatalf("Work() = %v (exit %d), want exit %d: a spent error budget is not retried", err, got, fleet.ExitDataError)
	}
	if len(ran) != 1 || ran[0] != 1 {
		t.Errorf("segments run %v, want only the hinted 1: the worker stops at a permanent error", ran)
	}
	segs, err := ft.Segments(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	s := segs[1]
	if s.State != fleet.StateFailed || string(s.Cursor) != "k40" || !strings.Contains(s.Error, "error budget") {
		t.Errorf("segment 1 = %+v, want failed at its checkpoint k40 with the error budget named", s)
	}
	for _, o := range []fleet.Segment{segs[0], segs[2]} {
		if o.State == fleet.StateFailed || o.State == fleet.StateDone {
			t.Errorf("segment %d = %+v, want it left for another worker", o.N, o)
		}
	}
}
