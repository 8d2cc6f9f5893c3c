package integration_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// TestMigrateHelperTransform is not a test: the tests below run this
// binary with it as the external transform process (rig.TransformHelper).
func TestMigrateHelperTransform(t *testing.T) { rig.TransformHelper(t) }

// TestMigrateExternalTransformShortOutput: a transform that prints fewer
// lines than it received fails the step with what it returned and why —
// after TransformLineTimeout without a line (the process is killed) or as
// soon as its output ends — instead of blocking forever; a retry with a
// fixed transform completes.
func TestMigrateExternalTransformShortOutput(t *testing.T) {
	helper := fmt.Sprintf("[%q, \"-test.run=^TestMigrateHelperTransform$\"]", os.Args[0])
	// Through a shell that does not exec it: killing the shell alone
	// would leave the helper holding the pipes.
	viaShell := fmt.Sprintf("[sh, -c, '%q -test.run=^TestMigrateHelperTransform$; exit $?']", os.Args[0])
	tests := []struct {
		name, mode, argv string
		timeout          time.Duration
		want             string
		maxWait          time.Duration
	}{
		{"missing line", "skip5", helper, 2 * time.Second,
			"returned 9 of 10 lines, then none for 2s; it must print exactly one JSON line per input line, in order", 15 * time.Second},
		{"missing line, child of a shell", "skip5", viaShell, 2 * time.Second, "returned 9 of 10 lines, then none for 2s", 15 * time.Second},
		{"exits early", "exit9", helper, time.Minute, "returned 9 of 10 lines, then its output ended: EOF; it must print exactly one JSON line per input line, and exit only once its input ends; stderr: stopping early", 15 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("LOCKSTEP_TEST_TRANSFORM", tt.mode)
			pidfile := filepath.Join(t.TempDir(), "pid")
			t.Setenv("LOCKSTEP_TEST_PIDFILE", pidfile)
			steps := fmt.Sprintf(`      - id: ext
        kind: migrate
        with:
          transform: %s
          batch_size: 10
          segments: 1
`, tt.argv)
			r := rig.NewSQLite(t, rig.DataRunbook(t, 4, "", steps), 30)
			done := make(chan error, 1)
			start := time.Now()
			go func() {
				_, err := migrate.Executor{TransformLineTimeout: tt.timeout}.Execute(r.Ctx, r.StepContext("ext"))
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(tt.maxWait):
				t.Fatalf("migrate still running after %s: a transform that returns fewer lines hangs the step", tt.maxWait)
			}
			if err == nil || errors.Is(err, engine.ErrPaused) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("migrate error = %v, want the step failed with %q", err, tt.want)
			}
			t.Logf("migrate error: %v", err)
			if el := time.Since(start); el > tt.timeout+10*time.Second {
				t.Errorf("failed after %s", el)
			}
			b, rerr := os.ReadFile(pidfile)
			pid, _ := strconv.Atoi(string(b))
			if rerr != nil || pid <= 0 {
				t.Fatalf("transform pid: %v", rerr)
			}
			if !processEnds(pid, 2*time.Second) {
				t.Errorf("transform process %d still runs", pid)
			}
			// Retry with a transform that keeps the protocol.
			t.Setenv("LOCKSTEP_TEST_TRANSFORM", "upper")
			res, err := r.Run(r.StepContext("ext"))
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if got := res.(migrate.Result); got.Migrated != 3 || got.Scanned != 30 {
				t.Errorf("retry counts = %+v, want 3 migrated of 30", got.MigrateCounts)
			}
		})
	}
}

// processEnds reports whether process pid is gone or a zombie (killed,
// not yet reaped: an orphan's reaper may be slow) within d.
func processEnds(pid int, d time.Duration) bool {
	for end := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if _, rest, ok := strings.Cut(string(b), ") "); ok && strings.HasPrefix(rest, "Z") {
				return true
			}
		}
		if time.Now().After(end) {
			return false
		}
	}
}
