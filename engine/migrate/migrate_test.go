package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

func TestMigrateSQLiteSplitAndRerun(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 3, "    max_write_rate: 0", rig.SplitSteps)
	r := rig.NewSQLite(t, rb, 500)
	res, err := r.Run(r.StepContext("backfill"))
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	got := res.(migrate.Result)
	if got.Scanned != 500 || got.Migrated != 400 || got.NotMatched != 100 || got.Failures != 0 {
		t.Errorf("first run counts = %+v, want scanned 500, migrated 400, not_matched 100", got.MigrateCounts)
	}
	for id, it := range r.All() {
		var n int
		fmt.Sscan(id, &n)
		if n%5 == 0 {
			if rig.AttrStr(it, "street_name") != "" || rig.AttrNum(it, "v") != 0 {
				t.Fatalf("item %s without address was written: %v", id, it)
			}
			continue
		}
		if want := fmt.Sprintf("%d Main St", n); rig.AttrStr(it, "street_name") != want || rig.AttrNum(it, "v") != 3 {
			t.Fatalf("item %s = %v, want street_name %q and v 3", id, it, want)
		}
		if want := fmt.Sprintf("City%d", n%7); rig.AttrStr(it, "city") != want {
			t.Fatalf("item %s city = %q, want %q", id, rig.AttrStr(it, "city"), want)
		}
	}
	if len(r.EventsOf(engine.EvCheckpoint)) == 0 {
		t.Error("no checkpoint journaled")
	}
	res, err = r.Run(r.StepContext("backfill"))
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	got = res.(migrate.Result)
	if got.Migrated != 0 || got.Already != 400 {
		t.Errorf("re-run migrated %d, already %d; want 0 and 400", got.Migrated, got.Already)
	}
}

// TestMigrateWholeItemExpressions runs expressions that use item whole
// (get(item, k), len(item)) next to item.x, which the engine binds as
// variables: both forms see the same item.
func TestMigrateWholeItemExpressions(t *testing.T) {
	t.Parallel()
	steps := `      - id: backfill
        kind: migrate
        with:
          where: 'get(item, "address") != nil'
          set:
            street_name: 'trim(split(item.address, ",")[0])'
            city: 'len(item) > 1 ? trim(split(get(item, "address"), ",")[1]) : "?"'
`
	r := rig.NewSQLite(t, rig.DataRunbook(t, 3, "    max_write_rate: 0", steps), 100)
	res, err := r.Run(r.StepContext("backfill"))
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if got := res.(migrate.Result); got.Migrated != 80 || got.NotMatched != 20 {
		t.Errorf("counts = %+v, want migrated 80, not_matched 20", got.MigrateCounts)
	}
	for id, it := range r.All() {
		var n int
		fmt.Sscan(id, &n)
		if n%5 == 0 {
			continue
		}
		street, city := fmt.Sprintf("%d Main St", n), fmt.Sprintf("City%d", n%7)
		if rig.AttrStr(it, "street_name") != street || rig.AttrStr(it, "city") != city {
			t.Fatalf("item %s = %v, want street_name %q, city %q", id, it, street, city)
		}
	}
}

func TestMigrateResumeExactlyOnce(t *testing.T) {
	t.Parallel()
	for _, crashAfter := range []int{1, 7, 20} {
		t.Run(fmt.Sprintf("crash after %d checkpoints", crashAfter), func(t *testing.T) {
			rb := rig.DataRunbook(t, 2, "", rig.CounterSteps)
			r := rig.NewSQLite(t, rb, 2000)
			ctx, cancel := context.WithCancel(context.Background())
			sc := r.StepContext("bump")
			sc.Journal = &rig.CancelJournal{Journal: r.J, N: crashAfter, Cancel: cancel}
			if _, err := rig.ExecutorFor(sc.Step.Kind).Execute(ctx, sc); !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run error = %v, want context.Canceled", err)
			}
			cps, err := r.J.Checkpoints(r.Ctx, r.Session.ID, "bump")
			if err != nil || len(cps) == 0 {
				t.Fatalf("Checkpoints() = %v, %v; want some", cps, err)
			}
			sc = r.StepContext("bump")
			sc.Resumed, sc.Attempt = true, 2
			res, err := r.Run(sc)
			if err != nil {
				t.Fatalf("resumed run: %v", err)
			}
			got := res.(migrate.Result)
			if got.Scanned != 2000 || got.Migrated+got.Already != 2000 {
				t.Errorf("resumed counts = %+v, want scanned 2000 and migrated+already 2000", got.MigrateCounts)
			}
			for id, it := range r.All() {
				var n int64
				fmt.Sscan(id, &n)
				if rig.AttrNum(it, "count") != n+1 || rig.AttrNum(it, "v") != 2 {
					t.Fatalf("item %s: count %d v %d, want count %d v 2 (exactly once)", id, rig.AttrNum(it, "count"), rig.AttrNum(it, "v"), n+1)
				}
			}
		})
	}
}

// TestMigrateResumeKeepsSegmentation resumes a migrate step whose segment
// count has changed since it started (a new default, say): the resumed
// run scans in the 4 segments its checkpoints were made in, not in the 3
// it would choose now, and every item is migrated exactly once.
func TestMigrateResumeKeepsSegmentation(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "", rig.CounterSteps) // segments: 4
	r := rig.NewSQLite(t, rb, 2000)
	ctx, cancel := context.WithCancel(context.Background())
	sc := r.StepContext("bump")
	sc.Journal = &rig.CancelJournal{Journal: r.J, N: 9, Cancel: cancel}
	if _, err := rig.ExecutorFor(sc.Step.Kind).Execute(ctx, sc); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run error = %v, want context.Canceled", err)
	}
	sc = r.StepContext("bump")
	sc.Resumed, sc.Attempt = true, 2
	changed := *sc.Step.Migrate
	changed.Segments = 3
	sc.Step.Migrate = &changed
	res, err := r.Run(sc)
	if err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	got := res.(migrate.Result)
	if got.Segments != 4 || got.Scanned != 2000 || got.Migrated+got.Already != 2000 {
		t.Errorf("resumed result: %d segments, scanned %d, migrated+already %d; want 4, 2000, 2000",
			got.Segments, got.Scanned, got.Migrated+got.Already)
	}
	for id, it := range r.All() {
		var n int64
		fmt.Sscan(id, &n)
		if rig.AttrNum(it, "count") != n+1 || rig.AttrNum(it, "v") != 2 {
			t.Fatalf("item %s: count %d v %d, want count %d v 2 (exactly once)", id, rig.AttrNum(it, "count"), rig.AttrNum(it, "v"), n+1)
		}
	}
}

// racingStore simulates an application writing the address of every 10th
// item between the migration's read and its write.
type racingStore struct {
	engine.Store
	mu   sync.Mutex
	done map[string]bool
}

func (s *racingStore) race(ctx context.Context, u engine.Update) {
	id := fmt.Sprint(u.Key["id"])
	var n int
	fmt.Sscan(id, &n)
	s.mu.Lock()
	first := n%10 == 1 && !s.done[id]
	s.done[id] = true
	s.mu.Unlock()
	if first {
		_ = s.Store.Update(ctx, engine.Update{Key: u.Key, Set: engine.Attrs(map[string]any{"address": fmt.Sprintf("%d New Road, Town, 999", n)})})
	}
}

func (s *racingStore) Update(ctx context.Context, u engine.Update) error {
	s.race(ctx, u)
	return s.Store.Update(ctx, u)
}

// batchRacingStore also offers the batch path.
type batchRacingStore struct{ *racingStore }

func (s batchRacingStore) UpdateBatch(ctx context.Context, us []engine.Update) []error {
	for _, u := range us {
		s.race(ctx, u)
	}
	return s.Store.(engine.BatchUpdater).UpdateBatch(ctx, us)
}

func TestMigrateConcurrentWriterLosesNothing(t *testing.T) {
	t.Parallel()
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch=%t", batch), func(t *testing.T) {
			rb := rig.DataRunbook(t, 3, "", rig.SplitSteps)
			r := rig.NewSQLite(t, rb, 300)
			rs := &racingStore{Store: r.St, done: map[string]bool{}}
			r.St = rs
			if batch {
				r.St = batchRacingStore{rs}
			}
			res, err := r.Run(r.StepContext("backfill"))
			if err != nil {
				t.Fatalf("migrate: %v", err)
			}
			got := res.(migrate.Result)
			if got.Migrated != 240 || got.Conflicts != 30 || got.Unresolved != 0 {
				t.Errorf("counts = %+v, want migrated 240, conflicts 30", got.MigrateCounts)
			}
			if got.WriteTokens != 270 {
				t.Errorf("write tokens = %d, want 270: one per attempt (240 writes + 30 retries)", got.WriteTokens)
			}
			for id, it := range r.All() {
				var n int
				fmt.Sscan(id, &n)
				want := fmt.Sprintf("%d Main St", n)
				if n%10 == 1 {
					want = fmt.Sprintf("%d New Road", n)
				}
				if n%5 != 0 && rig.AttrStr(it, "street_name") != want {
					t.Fatalf("item %s street_name = %q, want %q (address %q)", id, rig.AttrStr(it, "street_name"), want, rig.AttrStr(it, "address"))
				}
			}
		})
	}
}

func TestMigrateDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 3, "", rig.SplitSteps)
	r := rig.NewSQLite(t, rb, 100)
	sc := r.StepContext("backfill")
	sc.Mode = engine.ModeDryRun
	res, err := r.Run(sc)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	got := res.(migrate.Result)
	if !got.DryRun || got.Migrated != 80 || len(got.Samples) != 5 {
		t.Fatalf("dry run = migrated %d, %d samples; want 80 and 5", got.Migrated, len(got.Samples))
	}
	s := got.Samples[0]
	if s.After["street_name"] == nil || s.Before["street_name"] != nil || s.After["v"] != 3 {
		t.Errorf("sample = %+v, want street_name added and v 3", s)
	}
	for id, it := range r.All() {
		if rig.AttrStr(it, "street_name") != "" || rig.AttrNum(it, "v") != 0 {
			t.Fatalf("dry run wrote item %s: %v", id, it)
		}
	}
	if n := len(r.EventsOf(engine.EvOutput)); n < 5 {
		t.Errorf("%d output events, want the sample diffs", n)
	}
}

func TestMigrateRollback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version int
		wantV   int64 // the rows' version before the migration, and after its rollback
	}{{3, 2}, {1, 0}}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("version %d", tt.version), func(t *testing.T) {
			rb := rig.DataRunbook(t, tt.version, "", rig.SplitSteps)
			r := rig.NewSQLite(t, rb, 100)
			if tt.wantV != 0 {
				if _, err := r.SQLDB(t).Exec(`UPDATE users SET v = ?`, tt.wantV); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := r.Run(r.StepContext("backfill")); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			sc := r.StepContext("backfill")
			sc.Of, sc.Step, sc.Rollback = sc.Step, sc.Step.Rollback, true
			res, err := r.Run(sc)
			if err != nil {
				t.Fatalf("rollback: %v", err)
			}
			if got := res.(migrate.Result); got.Migrated != 80 || got.Version != tt.wantV {
				t.Errorf("rollback migrated %d to version %d, want 80 to %d", got.Migrated, got.Version, tt.wantV)
			}
			for id, it := range r.All() {
				if rig.AttrStr(it, "street_name") != "" || rig.AttrStr(it, "city") != "" || rig.AttrNum(it, "v") != tt.wantV && rig.AttrStr(it, "address") != "" {
					t.Fatalf("item %s after rollback = %v", id, it)
				}
			}
		})
	}
}

func TestMigrateErrorBudgetPauses(t *testing.T) {
	t.Parallel()
	steps := `      - id: parse
        kind: migrate
        with:
          set: {count: 'int(item.name)'}
          error_budget: 5
          batch_size: 10
          segments: 1
`
	rb := rig.DataRunbook(t, 2, "", steps)
	r := rig.NewSQLite(t, rb, 100)
	res, err := r.Run(r.StepContext("parse"))
	if !errors.Is(err, engine.ErrPaused) || !strings.Contains(err.Error(), "error_budget 5") {
		t.Fatalf("error = %v, want a resumable pause naming error_budget 5", err)
	}
	if res == nil {
		t.Fatal("no result with the pause")
	}
	first := res.(migrate.Result)
	sc := r.StepContext("parse")
	sc.Resumed = true
	res, err = r.Run(sc)
	if !errors.Is(err, migrate.ErrErrorBudget) {
		t.Fatalf("resumed error = %v, want the budget again (not before a new page)", err)
	}
	if again := res.(migrate.Result); again.Scanned <= first.Scanned || again.Failures <= first.Failures {
		t.Errorf("resumed run scanned %d (failures %d), want more than %d (%d): it continues from the checkpoint",
			again.Scanned, again.Failures, first.Scanned, first.Failures)
	}
	warns := r.EventsOf(engine.EvWarning)
	if len(warns) < 6 || !strings.Contains(string(warns[0].Data), `"key":"id=1"`) {
		t.Errorf("warnings = %d (first %s), want each failure with its key", len(warns), warns[0].Data)
	}
}

func TestMigratePauseAndAbortAtBatchBoundary(t *testing.T) {
	t.Parallel()
	for _, stop := range []error{engine.ErrPaused, engine.ErrAborted} {
		t.Run(stop.Error(), func(t *testing.T) {
			rb := rig.DataRunbook(t, 2, "", rig.CounterSteps)
			r := rig.NewSQLite(t, rb, 1000)
			sc := r.StepContext("bump")
			sc.Control = &rig.Control{StopAt: 10, Err: stop}
			_, err := r.Run(sc)
			if !errors.Is(err, stop) {
				t.Fatalf("error = %v, want %v", err, stop)
			}
			migrated := 0
			for _, it := range r.All() {
				if rig.AttrNum(it, "v") == 2 {
					migrated++
				}
			}
			cps, _ := r.J.Checkpoints(r.Ctx, r.Session.ID, "bump")
			if migrated == 0 || migrated == 1000 || len(cps) == 0 {
				t.Fatalf("stopped with %d migrated and %d checkpoints; want part of the table, checkpointed", migrated, len(cps))
			}
			sc = r.StepContext("bump")
			sc.Resumed = true
			res, err := r.Run(sc)
			if err != nil {
				t.Fatalf("resume: %v", err)
			}
			// Every page written before the stop was checkpointed, so the
			// resumed run finds no item it already migrated, and the counts
			// (carried over from the checkpoints) add up.
			if got := res.(migrate.Result); got.Already != 0 || got.Migrated != 1000 {
				t.Errorf("resumed run: migrated %d, already %d in all; want 1000 and 0 (every written page checkpointed before the stop)",
					got.Migrated, got.Already)
			}
			for id, it := range r.All() {
				var n int64
				fmt.Sscan(id, &n)
				if rig.AttrNum(it, "count") != n+1 {
					t.Fatalf("item %s count %d, want %d", id, rig.AttrNum(it, "count"), n+1)
				}
			}
		})
	}
}

func TestMigrateRateOverride(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "    max_write_rate: 100000", rig.CounterSteps)
	r := rig.NewSQLite(t, rb, 200)
	sc := r.StepContext("bump")
	ctl := &rig.Control{}
	ctl.RateSet.Store(50000)
	sc.Control = ctl
	res, err := r.Run(sc)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.(migrate.Result).WriteLimit; got != 50000 {
		t.Errorf("write limit = %v, want the operator's 50000", got)
	}
}
