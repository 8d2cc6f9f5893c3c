package bench_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The packages BenchmarkStartup builds: lockstep itself and the
// hello-world cobra binary it is measured against.
const (
	lockstepPkg = "github.com/lockstep-run/lockstep/cmd/lockstep"
	helloPkg    = "./testdata/hello"
)

// startupRuns is how many times each contender starts per round.
const startupRuns = 20

// BenchmarkStartup measures (f): how long lockstep takes to start and do
// a small command, against a hello-world cobra binary printing its
// version, wall and CPU time per invocation in mirrored rounds.
func BenchmarkStartup(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		bin, hello := buildBinary(b, lockstepPkg), buildBinary(b, helloPkg)
		dir := b.TempDir()
		db := copyFile(b, sqliteTemplate(b, 1000), filepath.Join(dir, "data.db"))
		rb := filepath.Join(dir, "bench.yaml")
		// No default journal: lint reads the learnings of the journal it
		// finds, so one left on the machine by an operator's run would
		// make (f') measure that journal.
		state := filepath.Join(dir, "state")
		if err := os.WriteFile(rb, []byte(threeStepYAML(sqliteStore(db))), 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for _, c := range []struct {
			id, what, target string
			limit            float64 // 0: informational
			args             []string
		}{
			{"(f)", "`lockstep version` / hello-world cobra binary, time per start", "wall ≤ 2×", 2, []string{"version"}},
			{"(f')", "`lockstep lint` on a 3-step runbook / hello-world cobra binary", "wall ≤ 2.5×", 2.5, []string{"lint", rb}},
			{"(f'')", "`lockstep plan` of a 3-step runbook on SQLite / hello-world cobra binary", "", 0, []string{"plan", rb, "--env", "bench"}},
		} {
			res := runMirrored(b, starts(b, state, bin, c.args...), starts(b, state, hello, "version"))
			logRounds(b, []string{"lockstep", "hello"}, res)
			l, h := total(res[0]), total(res[1])
			wall, cpu := versus{res[0], res[1]}.cost()
			b.ReportMetric(wall.med, "ratio-"+c.args[0])
			r := row{id: c.id, what: c.what, figure: figure(wall, cpu, fmt.Sprintf("%.1f / %.1f ms per start", perStartMillis(l), perStartMillis(h)))}
			if c.limit > 0 {
				r.target, r.verdict = c.target, check(wall.med <= c.limit)
			}
			record(r)
		}
	}
}

// starts is a contender that runs bin with args startupRuns times in a
// row, each run's output discarded, and returns their number and total
// wall time (their CPU time is the children's, which runMirrored reads).
// state is XDG_STATE_HOME, where the default journal would be.
func starts(b *testing.B, state, bin string, args ...string) func(int) timed {
	return func(int) timed {
		var took time.Duration
		for range startupRuns {
			cmd := exec.Command(bin, args...)
			cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "LOCKSTEP_JOURNAL=") }),
				"NO_COLOR=1", "XDG_STATE_HOME="+state)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			took += time.Since(start)
			if err != nil {
				b.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out)
			}
		}
		return timed{startupRuns, took}
	}
}

func perStartMillis(s sample) float64 { return s.elapsed.Seconds() * 1000 / float64(s.items) }

// threeStepYAML is the benchmark runbook with a verify step and a manual
// step after the migration: three steps for lint and plan to read.
func threeStepYAML(store string) string {
	return runbookYAML(store, 0) + `      - id: all-done
        kind: verify
        with: {expect_none: "item.v == nil || item.v < 2"}
      - id: announce
        kind: manual
        text: Tell the team the backfill is done.
`
}
