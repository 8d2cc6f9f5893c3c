package migrate_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// TestMigrateHelperTransform is not a test: the tests below run this
// binary with it as the external transform process (rig.TransformHelper).
func TestMigrateHelperTransform(t *testing.T) { rig.TransformHelper(t) }

// transformSteps runs the helper transform in mode, set in its own
// environment (a shell's) rather than the test's, so that the tests using
// it may run in parallel.
func transformSteps(mode string) string {
	return fmt.Sprintf(`      - id: ext
        kind: migrate
        with:
          transform: [sh, -c, 'LOCKSTEP_TEST_TRANSFORM=%s exec %q -test.run=^TestMigrateHelperTransform$']
          batch_size: 25
          segments: 2
`, mode, os.Args[0])
}

func TestMigrateExternalTransform(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 4, "", transformSteps("upper"))
	r := rig.NewSQLite(t, rb, 200)
	res, err := r.Run(r.StepContext("ext"))
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	got := res.(migrate.Result)
	if got.Migrated != 20 || got.Unchanged != 180 {
		t.Errorf("counts = %+v, want 20 migrated (names ending in 0), 180 unchanged", got.MigrateCounts)
	}
	for id, it := range r.All() {
		changed := strings.HasSuffix(id, "0")
		// Unchanged items get the version alone: every item is at 4.
		if rig.AttrNum(it, "v") != 4 || changed && (rig.AttrStr(it, "name") != "USER"+id || it["address"] != nil) {
			t.Fatalf("item %s = %v", id, it)
		}
	}
}

func TestMigrateExternalTransformCrashFailsWithStderr(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 4, "", transformSteps("crash"))
	r := rig.NewSQLite(t, rb, 100)
	_, err := r.Run(r.StepContext("ext"))
	if err == nil || errors.Is(err, engine.ErrPaused) || !strings.Contains(err.Error(), "boom: cannot parse address") {
		t.Fatalf("error = %v, want the step failed with the transform's stderr", err)
	}
}
