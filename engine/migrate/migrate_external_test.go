package migrate_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// TestMigrateHelperTransform is not a test: run by the tests below as the
// external transform process (the test binary itself), it reads typed JSON
// lines and writes one transformed line per line in.
func TestMigrateHelperTransform(t *testing.T) {
	mode := os.Getenv("LOCKSTEP_TEST_TRANSFORM")
	if mode == "" {
		t.Skip("helper process for external transform tests")
	}
	if f := os.Getenv("LOCKSTEP_TEST_PIDFILE"); f != "" {
		_ = os.WriteFile(f, []byte(strconv.Itoa(os.Getpid())), 0o600)
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	for n := 1; in.Scan(); n++ {
		it, err := engine.UnmarshalItem(in.Bytes())
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad input:", err)
			os.Exit(2)
		}
		switch mode {
		case "crash":
			if n == 3 {
				fmt.Fprintln(os.Stderr, "boom: cannot parse address of", it["id"])
				os.Exit(3)
			}
		case "skip5": // forgets one line and waits for more input
			if n == 5 {
				continue
			}
		case "exit9": // prints 9 lines, then exits
			if n == 10 {
				fmt.Fprintln(os.Stderr, "stopping early")
				os.Exit(0)
			}
		case "upper":
			if s, ok := it["name"].(string); ok && strings.HasSuffix(s, "0") {
				it["name"] = strings.ToUpper(s)
				delete(it, "address")
			}
		}
		b, _ := engine.MarshalItem(it)
		out.Write(append(b, '\n'))
		out.Flush()
	}
	os.Exit(0)
}

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
