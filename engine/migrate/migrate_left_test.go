package migrate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// TestMigrateItemsLeftFailTheStep: a run that scanned the whole table but
// left items unmigrated (here 20 of 100 rows have no address, so the
// expression fails on them, within the error budget) fails instead of
// ending done; once the data is fixed, a retry (a fresh run) migrates
// exactly the items left behind.
func TestMigrateItemsLeftFailTheStep(t *testing.T) {
	t.Parallel()
	steps := `      - id: upper
        kind: migrate
        with:
          set: {street_name: 'upper(item.address)'}
          batch_size: 10
`
	rb := rig.DataRunbook(t, 2, "", steps)
	r := rig.NewSQLite(t, rb, 100)
	res, err := r.Run(r.StepContext("upper"))
	if !errors.Is(err, migrate.ErrItemsLeft) || !strings.Contains(err.Error(), "20 item(s) failed") {
		t.Fatalf("error = %v, want ErrItemsLeft naming 20 failed items", err)
	}
	if got := res.(migrate.Result); got.Migrated != 80 || got.Failures != 20 {
		t.Fatalf("counts = %+v, want 80 migrated and 20 failures", got.MigrateCounts)
	}
	warn := r.EventsOf(engine.EvWarning)
	if len(warn) != 20 || !strings.Contains(engine.WarningText(warn[0]), "id=5") {
		t.Fatalf("warnings = %d, first %q: want one per failed item with its key", len(warn), engine.WarningText(warn[0]))
	}

	db := r.SQLDB(t)
	if _, err := db.Exec(`UPDATE users SET address = 'fixed ' || id WHERE address IS NULL`); err != nil {
		t.Fatal(err)
	}
	res, err = r.Run(r.StepContext("upper"))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got := res.(migrate.Result); got.Migrated != 20 || got.Already != 80 || got.Failures != 0 {
		t.Errorf("retry counts = %+v, want the 20 left behind migrated and 80 already done", got.MigrateCounts)
	}
	for id, it := range r.All() {
		if rig.AttrNum(it, "v") != 2 || rig.AttrStr(it, "street_name") == "" {
			t.Fatalf("item %s not migrated after the retry: %v", id, it)
		}
	}
}
