package migrate_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// heldStore holds every batch write until released.
type heldStore struct {
	*sqlite.Store
	release chan struct{}
}

func (s *heldStore) UpdateBatch(ctx context.Context, us []engine.Update) []error {
	<-s.release
	return s.Store.UpdateBatch(ctx, us)
}

// PushdownPage sends every page down the per-row path, whose writes the
// store holds (a pushed-down page is read and written in one statement).
func (s *heldStore) PushdownPage(context.Context, engine.PushdownRequest, func(engine.PushdownPlan) error) (engine.PushdownResult, error) {
	return engine.PushdownResult{Fallback: "held"}, nil
}

// TestMigrateProgressCountsSettledItems: progress counts an item as done
// once it is written (or skipped, or failed), not when its page is read:
// a page still being written shows as read but not done, so the bar never
// reaches 100 % while writes go on.
func TestMigrateProgressCountsSettledItems(t *testing.T) {
	t.Parallel()
	steps := `      - {id: label, kind: migrate, with: {set: {city: '"x"'}, batch_size: 100, segments: 1}}
`
	rb := rig.DataRunbook(t, 2, "    max_write_rate: 0", steps)
	seed := rig.NewSQLite(t, rb, 100)
	st, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: filepath.Join(seed.Dir, "data.db"), Table: "users", Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hs := &heldStore{Store: st, release: make(chan struct{})}
	r := rig.NewData(t, rb, hs, t.TempDir())
	sc := r.StepContext("label")
	type prog struct{ Done, Scanned, Total int64 }
	seen := make(chan prog, 100)
	sc.Progress = func(ev engine.Event) {
		var p prog
		if json.Unmarshal(ev.Data, &p) == nil {
			select {
			case seen <- p:
			default:
			}
		}
	}
	done := make(chan error, 1)
	go func() { _, err := r.Run(sc); done <- err }()
	deadline := time.After(30 * time.Second)
	for held := false; !held; {
		select {
		case p := <-seen:
			if p.Scanned == 100 {
				held = true
				if p.Done != 0 {
					t.Errorf("progress while the page is being written: done %d of %d, want 0", p.Done, p.Total)
				}
			}
		case <-deadline:
			t.Fatal("no progress with the page read")
		}
	}
	close(hs.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
