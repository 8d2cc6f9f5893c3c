package engine_test

import (
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/steps"
)

const restoreSteps = `      - {id: snapshot, kind: backup, with: {native: false}}
      - id: backfill
        kind: migrate
        with:
          where: "item.address != nil"
          set: {city: 'trim(split(item.address, ",")[1])'}
      - {id: undo, kind: restore, with: {from: snapshot, batch_size: 25}}
`

// TestRestoreDryRunShowsCountsAndDiffs: a dry-run restore reads and
// classifies every backed-up item, shows the counts and sample diffs of
// restores and conflicts, and writes nothing.
func TestRestoreDryRunShowsCountsAndDiffs(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 3, "    max_write_rate: 0", restoreSteps)
	r := rig.NewSQLite(t, rb, 100)
	for _, id := range []string{"snapshot", "backfill"} {
		if _, err := r.Run(r.StepContext(id)); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	db := r.SQLDB(t)
	if _, err := db.Exec(`UPDATE users SET name = 'renamed by the app' WHERE id IN (1, 2, 3)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM users WHERE id = 4`); err != nil {
		t.Fatal(err)
	}
	before := versions(t, db)
	sc := r.StepContext("undo")
	sc.Mode = engine.ModeDryRun
	out, err := r.Run(sc)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	res := out.(steps.RestoreResult)
	// 100 rows, 20 without an address (never migrated), 4 touched by the app.
	if res.Restored != 76 || res.Unchanged != 20 || res.Conflicts != 4 || res.Deleted != 1 || !res.DryRun {
		t.Errorf("dry run = %+v, want 76 to restore, 20 unchanged, 4 conflicts (1 deleted)", res)
	}
	var restore, conflict bool
	for _, s := range res.Samples {
		restore = restore || s.Class == "restore" && s.Live["city"] != nil && s.Backup["city"] == nil
		conflict = conflict || s.Class == "conflict" && s.Live["name"] == "renamed by the app"
	}
	if !restore || !conflict {
		t.Errorf("samples = %+v, want a restore (city goes) and a conflict (the app's name)", res.Samples)
	}
	var said bool
	for _, ev := range r.EventsOf(engine.EvOutput) {
		said = said || strings.Contains(string(ev.Data), "76 to restore")
	}
	if !said {
		t.Error("the dry run does not print its counts")
	}
	after := versions(t, db)
	for id, v := range before {
		if after[id] != v {
			t.Fatalf("dry run changed row %d: version %v, was %v", id, after[id], v)
		}
	}
}
