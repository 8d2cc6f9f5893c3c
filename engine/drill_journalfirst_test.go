package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
)

// scratchCounter is the SQLite store counting the scratch tables a drill
// creates and drops.
type scratchCounter struct {
	*sqlite.Store
	created, dropped atomic.Int32
}

func (s *scratchCounter) CreateScratch(ctx context.Context, name string) (engine.Store, error) {
	s.created.Add(1)
	return s.Store.CreateScratch(ctx, name)
}

func (s *scratchCounter) DropScratch(ctx context.Context, name string) error {
	s.dropped.Add(1)
	return s.Store.DropScratch(ctx, name)
}

// TestDrillScratchTableNotJournaledIsNotTouched: a restore drill names
// the scratch table it is about to drop and create in the journal first,
// so that a crash leaves a record of what to clean up. When the journal
// refuses that line, no scratch table is dropped or created.
func TestDrillScratchTableNotJournaledIsNotTouched(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "", `      - {id: snapshot, kind: backup, with: {native: false}}
      - {id: drill, kind: restore-drill, with: {from: snapshot}}
`)
	r := rig.NewSQLite(t, rb, 50)
	if _, err := r.Run(r.StepContext("snapshot")); err != nil {
		t.Fatalf("backup: %v", err)
	}
	st := &scratchCounter{Store: r.St.(*sqlite.Store)}
	sc := r.StepContext("drill")
	sc.Store = func(context.Context) (engine.Store, error) { return st, nil }
	var refused atomic.Int32
	emit := sc.Emit
	sc.Emit = func(ev engine.Event) error {
		if ev.Kind == engine.EvOutput && strings.Contains(string(ev.Data), "scratch table") {
			refused.Add(1)
			return errRefused
		}
		return emit(ev)
	}
	if _, err := r.Run(sc); !errors.Is(err, errRefused) {
		t.Errorf("drill error = %v, want the journal's", err)
	}
	if refused.Load() == 0 {
		t.Fatal("the drill never journaled its scratch table")
	}
	if c, d := st.created.Load(), st.dropped.Load(); c != 0 || d != 0 {
		t.Errorf("%d scratch table(s) created, %d dropped though the journal refused to name them", c, d)
	}
}
