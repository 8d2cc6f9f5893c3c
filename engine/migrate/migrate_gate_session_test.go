package migrate_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/journal"
)

// diskFullJournal is a real journal on a disk that fills up after ok
// checkpoints: from then on every write fails, as SQLite's do.
type diskFullJournal struct {
	*journal.Journal
	ok    int64
	saved atomic.Int64
	full  atomic.Bool
}

func (j *diskFullJournal) SaveCheckpoint(ctx context.Context, s, step string, seg int, cur []byte, data any) error {
	if j.full.Load() || j.saved.Add(1) > j.ok {
		j.full.Store(true)
		return fmt.Errorf("save checkpoint: commit: %w", errDiskFull)
	}
	return j.Journal.SaveCheckpoint(ctx, s, step, seg, cur, data)
}

func (j *diskFullJournal) Append(ctx context.Context, ev engine.Event) (engine.Event, error) {
	if j.full.Load() {
		return ev, fmt.Errorf("append event: commit: %w", errDiskFull)
	}
	return j.Journal.Append(ctx, ev)
}

func (j *diskFullJournal) EndSession(ctx context.Context, id string, o engine.Outcome) error {
	if j.full.Load() {
		return fmt.Errorf("end session: %w", errDiskFull)
	}
	return j.Journal.EndSession(ctx, id, o)
}

// TestMigrateSessionStopsResumablyOnAFullJournal: a session whose journal
// fills up during a migrate step stops resumably (outcome stopped: the
// CLI exits 3), its error naming the journal file, the cause and the
// resume command; resumed once space is freed, it completes and every
// row is migrated exactly once.
func TestMigrateSessionStopsResumablyOnAFullJournal(t *testing.T) {
	t.Parallel()
	const rows = 2000
	rb := rig.DataRunbook(t, 2, "", rig.CounterSteps)
	r := rig.NewSQLite(t, rb, rows) // creates data.db
	cfg := rig.SQLiteSessionConfig(t, rb, filepath.Join(r.Dir, "data.db"))
	jr := cfg.Journal.(*journal.Journal)
	cfg.Journal = &diskFullJournal{Journal: jr, ok: 10}

	s, err := engine.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	out, err := s.Run(context.Background())
	want := []string{"journal " + jr.Path() + ": ", errDiskFull.Error(), "free space and run `lockstep resume " + s.ID() + "`"}
	if out != engine.OutcomeStopped || err == nil {
		t.Fatalf("Run() = %s, %v; want stopped (resumable) with the journal error", out, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Run() error %q does not say %q", err, w)
		}
	}

	cfg.Journal = jr // space freed
	s, err = engine.Resume(context.Background(), cfg, s.ID())
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if out, err := s.Run(context.Background()); out != engine.OutcomeCompleted || err != nil {
		t.Fatalf("resumed Run() = %s, %v; want completed", out, err)
	}
	for id, it := range rig.ScanItems(t, r.St, "id") {
		var n int64
		fmt.Sscan(id, &n)
		if rig.AttrNum(it, "count") != n+1 || rig.AttrNum(it, "v") != 2 {
			t.Fatalf("item %s: count %d v %d, want count %d v 2 (exactly once)", id, rig.AttrNum(it, "count"), rig.AttrNum(it, "v"), n+1)
		}
	}
}
