package integration_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// blobCopySteps doubles the items that have a blob: each gets a copy.
const blobCopySteps = `      - id: copy
        kind: migrate
        with:
          where: "item.blob != nil"
          set: {copy: 'item.blob'}
          batch_size: 10
          segments: 1
`

// dryThenLive runs step id as a dry run, then live, and returns both
// results; a step that leaves items behind is expected (ErrItemsLeft).
func dryThenLive(t *testing.T, r *rig.Data, id string) (dry, live engine.MigrateCounts) {
	t.Helper()
	for i, mode := range []engine.Mode{engine.ModeDryRun, engine.ModeLive} {
		sc := r.StepContext(id)
		sc.Mode = mode
		res, err := r.Run(sc)
		if err != nil && !errors.Is(err, migrate.ErrItemsLeft) {
			t.Fatalf("%s run: %v", mode, err)
		}
		c := res.(migrate.Result).MigrateCounts
		t.Logf("%s: %+v", mode, c)
		if i == 0 {
			dry = c
		} else {
			live = c
		}
	}
	return dry, live
}

// TestDryRunPredictsItemSizeLimitDynamo: an item the write would push
// over DynamoDB's 400 KB fails in the dry run as it fails live.
func TestDryRunPredictsItemSizeLimitDynamo(t *testing.T) {
	t.Parallel()
	r := newDynamoRig(t, 2, "    max_write_rate: 0", blobCopySteps, 20, nil)
	for id, size := range map[string]int{"3": 150_000, "7": 190_000, "11": 250_000} {
		u := engine.Update{Key: engine.Item{"id": engine.Number(id)}, Set: engine.Attrs(map[string]any{"blob": strings.Repeat("x", size)})}
		if err := r.Seed.Update(r.Ctx, u); err != nil {
			t.Fatalf("seed blob of %s: %v", id, err)
		}
	}
	dry, live := dryThenLive(t, r, "copy")
	if live.Failures != 1 || live.Migrated != 2 {
		t.Errorf("live: failures %d, migrated %d; want 1 (item 11 over 400 KB), 2", live.Failures, live.Migrated)
	}
	if dry.Failures != live.Failures || dry.Migrated != live.Migrated {
		t.Errorf("dry run: failures %d, migrated %d; live: %d, %d: the dry run must predict the live run",
			dry.Failures, dry.Migrated, live.Failures, live.Migrated)
	}
}

// TestDryRunPredictsMissingColumnSQLite: a set of a column the table
// lacks fails in the dry run as it fails live.
func TestDryRunPredictsMissingColumnSQLite(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "    max_write_rate: 0", `      - id: nick
        kind: migrate
        with:
          where: "item.id <= 10"
          set: {nickname: 'item.name'}
`)
	r := rig.NewSQLite(t, rb, 30)
	dry, live := dryThenLive(t, r, "nick")
	if live.Failures != 10 {
		t.Errorf("live: failures %d, want 10 (no column nickname)", live.Failures)
	}
	if dry.Failures != live.Failures || dry.Migrated != live.Migrated {
		t.Errorf("dry run: failures %d, migrated %d; live: %d, %d: the dry run must predict the live run",
			dry.Failures, dry.Migrated, live.Failures, live.Migrated)
	}
}
