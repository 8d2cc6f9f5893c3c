package migrate_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// countingStore counts the single-item retries of the migrator.
type countingStore struct {
	*sqlite.Store
	updates atomic.Int64
}

func (s *countingStore) Update(ctx context.Context, u engine.Update) error {
	s.updates.Add(1)
	return s.Store.Update(ctx, u)
}

// TestMigrateRejectedItemsAreNotRetried: a write the store rejects for
// good (here a column the table lacks) fails the item at once, with the
// cause, instead of being retried with back-off: 1,000 such items took
// over a minute.
func TestMigrateRejectedItemsAreNotRetried(t *testing.T) {
	t.Parallel()
	steps := `      - {id: label, kind: migrate, with: {set: {label: 'item.name'}, batch_size: 50, error_budget: 1000}}
`
	rb := rig.DataRunbook(t, 2, "    max_write_rate: 0", steps)
	seed := rig.NewSQLite(t, rb, 200)
	st, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: filepath.Join(seed.Dir, "data.db"), Table: "users", Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs := &countingStore{Store: st}
	r := rig.NewData(t, rb, cs, t.TempDir())
	res, err := r.Run(r.StepContext("label"))
	if !errors.Is(err, migrate.ErrItemsLeft) {
		t.Fatalf("error = %v, want ErrItemsLeft", err)
	}
	if got := res.(migrate.Result); got.Failures != 200 {
		t.Errorf("failures = %d, want 200", got.Failures)
	}
	if n := cs.updates.Load(); n != 0 {
		t.Errorf("%d single-item retries of rejected writes, want none", n)
	}
	warns := r.EventsOf(engine.EvWarning)
	if len(warns) == 0 || !strings.Contains(engine.WarningText(warns[0]), `no such column`) {
		t.Errorf("first warning %q, want the missing column named", engine.WarningText(warns[0]))
	}
}
