package migrate_test

import (
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// stampSteps sets flag to 1, which a quarter of the items hold already,
// then a contract step drops name from every item at the version.
const stampSteps = `      - id: expand
        kind: migrate
        with:
          set: {flag: '1'}
          batch_size: 50
          segments: 2
      - id: drop-name
        kind: migrate
        with: {remove: [name]}
`

// presetFlag gives flag 1 to every fourth row: they are already in the
// new shape.
func presetFlag(t *testing.T, r *rig.Data) {
	t.Helper()
	if _, err := r.SQLDB(t).Exec(`UPDATE users SET flag = 1 WHERE id % 4 = 0`); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateStampsItemsAlreadyInShape: an item the transform leaves as
// it is still gets the target version (counted as unchanged), so a later
// contract step covers it too.
func TestMigrateStampsItemsAlreadyInShape(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "    max_write_rate: 0", stampSteps)
	r := rig.NewSQLite(t, rb, 200)
	presetFlag(t, r)
	res, err := r.Run(r.StepContext("expand"))
	if err != nil {
		t.Fatalf("expand: %v", err)
	}
	got := res.(migrate.Result).MigrateCounts
	if got.Migrated != 150 || got.Unchanged != 50 || got.Conflicts != 0 {
		t.Errorf("expand counts = %+v, want migrated 150, unchanged 50", got)
	}
	for id, it := range r.All() {
		if rig.AttrNum(it, "v") != 2 || rig.AttrNum(it, "flag") != 1 {
			t.Fatalf("item %s after expand = %v, want v 2, flag 1", id, it)
		}
	}
	if _, err := r.Run(r.StepContext("drop-name")); err != nil {
		t.Fatalf("drop-name: %v", err)
	}
	for id, it := range r.All() {
		if it["name"] != nil {
			t.Fatalf("item %s after drop-name = %v: the contract step skipped it", id, it)
		}
	}
}

// TestMigrateDryRunReportsUnchanged: a dry run counts the items already in
// the new shape as unchanged and writes nothing, not even their version.
func TestMigrateDryRunReportsUnchanged(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "    max_write_rate: 0", stampSteps)
	r := rig.NewSQLite(t, rb, 200)
	presetFlag(t, r)
	sc := r.StepContext("expand")
	sc.Mode = engine.ModeDryRun
	res, err := r.Run(sc)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	got := res.(migrate.Result)
	if got.Migrated != 150 || got.Unchanged != 50 {
		t.Errorf("dry-run counts = %+v, want migrated 150, unchanged 50", got.MigrateCounts)
	}
	for _, s := range got.Samples {
		if _, ok := s.After["flag"]; !ok {
			t.Errorf("sample %s shows no change of flag: a version-only write is not a sample", s.Key)
		}
	}
	for id, it := range r.All() {
		if it["v"] != nil {
			t.Fatalf("dry run wrote item %s: %v", id, it)
		}
	}
}
