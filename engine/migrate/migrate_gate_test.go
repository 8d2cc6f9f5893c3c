package migrate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// errDiskFull is what SQLite says when the journal's filesystem is full.
var errDiskFull = errors.New("database or disk is full")

// fullJournal is the rig's journal whose disk fills up: after okCheckpoints
// checkpoints (or okAppends appends, through the step's Emit), every such
// write fails. When the first one fails it counts the rows already
// written (at version 2), so the test can tell what was written after.
type fullJournal struct {
	engine.Journal
	path                     string
	okCheckpoints, okAppends int64 // 0: never fails
	checkpoints, appends     atomic.Int64
	written                  func() int64

	failed        atomic.Bool
	once          sync.Once
	writtenAtFail atomic.Int64
}

// Path names the journal. The step calls it to build the journal-failure
// error, just before it closes its gate: that is when the engine knows
// of the failure, and when the rows written so far are counted. (Counted
// in fail(), the count raced with the way back from the failing write to
// the engine: under load, segments started pages before the engine could
// know.)
func (j *fullJournal) Path() string {
	if j.failed.Load() {
		j.once.Do(func() { j.writtenAtFail.Store(j.written()) })
	}
	return j.path
}

func (j *fullJournal) fail() error {
	j.failed.Store(true)
	return errDiskFull
}

func (j *fullJournal) SaveCheckpoint(ctx context.Context, s, step string, seg int, cur []byte, data any) error {
	if j.okCheckpoints > 0 && j.checkpoints.Add(1) > j.okCheckpoints {
		return fmt.Errorf("save checkpoint: commit: %w", j.fail())
	}
	return j.Journal.SaveCheckpoint(ctx, s, step, seg, cur, data)
}

// emit wraps the step's Emit.
func (j *fullJournal) emit(next func(engine.Event) error) func(engine.Event) error {
	return func(ev engine.Event) error {
		if j.okAppends > 0 && j.appends.Add(1) > j.okAppends {
			return fmt.Errorf("append %s event: %w", ev.Kind, j.fail())
		}
		return next(ev)
	}
}

// TestMigrateJournalFailureStopsEverySegmentWithinAPage: once a journal
// write fails (a checkpoint, or an event the step appends), no segment
// starts another page: the rows written beyond the last durable
// checkpoints, and after the failure, are at most one page per segment;
// the step stops resumably naming the journal, the cause and the fix, and
// a resume once the journal works again migrates every row exactly once.
func TestMigrateJournalFailureStopsEverySegmentWithinAPage(t *testing.T) {
	t.Parallel()
	const rows, batch, segments = 4000, 40, 4
	tests := []struct {
		name                     string
		set                      string
		okCheckpoints, okAppends int64
		resumeBatch              int // the resume's batch_size (0: the same)
		changed                  int64
	}{
		// 12 checkpoints: about two pages per segment went through.
		{"checkpoint fails", `{count: "item.count + 1"}`, 12, 0, 0, rows},
		// The resume reads smaller pages: the interrupted attempt's
		// writes are still all found.
		{"checkpoint fails, smaller pages on resume", `{count: "item.count + 1"}`, 12, 0, 7, rows},
		// Rows without an address fail the transform: each failure
		// appends a warning; the 40th append fails.
		{"append fails", `{count: "item.count + 1", city: "upper(item.address)"}`, 0, 40, 0, rows * 4 / 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			steps := fmt.Sprintf(`      - id: bump
        kind: migrate
        with:
          set: %s
          batch_size: %d
          segments: %d
          error_budget: 100000
`, tt.set, batch, segments)
			r := rig.NewSQLite(t, rig.DataRunbook(t, 2, "", steps), rows)
			db := r.SQLDB(t)
			written := func() int64 {
				var n int64
				if err := db.QueryRow(`SELECT count(*) FROM users WHERE v = 2`).Scan(&n); err != nil {
					t.Errorf("count written rows: %v", err)
				}
				return n
			}
			sc := r.StepContext("bump")
			fj := &fullJournal{Journal: r.J, path: "/x/journal.db", okCheckpoints: tt.okCheckpoints, okAppends: tt.okAppends, written: written}
			sc.Journal, sc.Emit = fj, fj.emit(sc.Emit)

			_, err := rig.ExecutorFor(sc.Step.Kind).Execute(context.Background(), sc)
			got := written()
			durable := durableMigrated(t, r)
			t.Logf("written %d rows: %d when the journal failed, %d covered by durable checkpoints", got, fj.writtenAtFail.Load(), durable)
			if beyond := got - durable; beyond > batch*segments {
				t.Errorf("%d rows written beyond the last durable checkpoints, want at most one page per segment (%d)", beyond, batch*segments)
			}
			// After the engine knew: the page in flight per segment, plus
			// one page for the count's own time (the gate closes when it
			// returns).
			if after := got - fj.writtenAtFail.Load(); after > batch*(segments+1) {
				t.Errorf("%d rows written after the journal failed, want at most one page per segment and one more (%d)", after, batch*(segments+1))
			}
			want := "journal /x/journal.db: "
			if err == nil || !errors.Is(err, engine.ErrPaused) || !strings.Contains(err.Error(), want) ||
				!strings.Contains(err.Error(), errDiskFull.Error()) || !strings.Contains(err.Error(), "lockstep resume "+r.Session.ID) {
				t.Fatalf("Execute() error = %v, want a resumable stop (ErrPaused) naming %q, the cause and `lockstep resume %s`", err, want, r.Session.ID)
			}

			// Space freed: the resume finishes, every row bumped once.
			sc = r.StepContext("bump")
			sc.Resumed, sc.Attempt = true, 2
			if tt.resumeBatch > 0 {
				smaller := *sc.Step.Migrate
				smaller.BatchSize = tt.resumeBatch
				sc.Step.Migrate = &smaller
			}
			res, err := r.Run(sc)
			if err != nil && !errors.Is(err, migrate.ErrItemsLeft) {
				t.Fatalf("resume: %v", err)
			}
			// What the stopped attempt wrote beyond its checkpoints is
			// its own: migrated (recovered), not already.
			if mr := res.(migrate.Result); mr.Migrated != tt.changed || mr.Already != 0 || mr.Recovered != got-durable {
				t.Errorf("resumed result migrated %d, already %d, recovered %d; want %d, 0, %d",
					mr.Migrated, mr.Already, mr.Recovered, tt.changed, got-durable)
			}
			for id, it := range r.All() {
				var n int64
				fmt.Sscan(id, &n)
				if tt.okAppends > 0 && n%5 == 0 {
					continue // no address: fails the transform every time
				}
				if rig.AttrNum(it, "count") != n+1 || rig.AttrNum(it, "v") != 2 {
					t.Fatalf("item %s: count %d v %d, want count %d v 2 (exactly once)", id, rig.AttrNum(it, "count"), rig.AttrNum(it, "v"), n+1)
				}
			}
		})
	}
}

// durableMigrated sums the migrated counts of each segment's last
// checkpoint in the (real) journal.
func durableMigrated(t *testing.T, r *rig.Data) int64 {
	t.Helper()
	last := map[int]int64{}
	for _, ev := range r.EventsOf(engine.EvCheckpoint) {
		var cp struct {
			Segment  int   `json:"segment"`
			Migrated int64 `json:"migrated"`
		}
		if err := json.Unmarshal(ev.Data, &cp); err != nil {
			t.Fatalf("checkpoint %s: %v", ev.Data, err)
		}
		last[cp.Segment] = cp.Migrated
	}
	var sum int64
	for _, n := range last {
		sum += n
	}
	return sum
}
