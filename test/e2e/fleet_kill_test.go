package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/internal/dynalite"
	"github.com/lockstep-run/lockstep/internal/testbin"
)

// The small fleet of testdata/fleet_small.yaml.
const (
	smallItems    = 1600
	smallSegments = 16
	smallWorkers  = 4
)

// seedVar replays one seed of the seeded fleet tests.
const seedVar = "E2E_FLEET_SEED"

// fleetSeeds returns the seeds of a seeded fleet test: $E2E_FLEET_SEED
// alone when set, else n seeds from the clock, each logged so that a
// failure can be replayed.
func fleetSeeds(t *testing.T, n int) []uint64 {
	t.Helper()
	if s := os.Getenv(seedVar); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", seedVar, s, err)
		}
		return []uint64{seed}
	}
	base := uint64(time.Now().UnixNano()) % 1_000_000
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = base + uint64(i)
	}
	return seeds
}

// killPoint is one SIGKILL of a fleet worker: the worker of launcher
// index index, once done segments are done and delay has passed.
type killPoint struct {
	index, done int
	delay       time.Duration
}

func (p killPoint) String() string {
	return fmt.Sprintf("worker %d after %d segments done + %s", p.index, p.done, p.delay)
}

// killPoints draws n kill points from seed, in the order they come.
func killPoints(seed uint64, n int) []killPoint {
	rng := rand.New(rand.NewPCG(seed, 14))
	pts := make([]killPoint, n)
	for i := range pts {
		pts[i] = killPoint{index: rng.IntN(smallWorkers), done: rng.IntN(smallSegments * 3 / 4),
			delay: time.Duration(rng.IntN(500)) * time.Millisecond}
	}
	slices.SortStableFunc(pts, func(a, b killPoint) int { return a.done - b.done })
	return pts
}

// fleetRun is a `lockstep run` of a fleet runbook, started in a process
// group of its own (so its workers die with it when the test ends).
type fleetRun struct {
	*testbin.Proc
	pid int
}

func (r *fleetRig) startRun(args ...string) fleetRun {
	r.t.Helper()
	cmd := r.e.command(context.Background(), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := testbin.Start(r.t, cmd)
	r.t.Cleanup(func() {
		if r.t.Failed() {
			r.t.Logf("%s:\n%s", p.Name(), p.Output())
		}
	})
	return fleetRun{Proc: p, pid: cmd.Process.Pid}
}

// doneCount returns how many of the fleet's segments are done.
func (r *fleetRig) doneCount(id string) (n int) {
	for _, s := range r.segments(id) {
		if s.State == fleet.StateDone {
			n++
		}
	}
	return n
}

// TestFleetWorkersKilledAtSeededPoints SIGKILLs two workers of a local
// fleet (16 segments, 4 workers) at points drawn from a seed — which
// launcher index, after how many segments done, how long after — over
// several seeds: a worker killed before its first claim, mid-segment or
// as it finishes one. The launcher restarts each; every item ends
// incremented exactly once, every segment done, the totals exact and the
// journal verified. E2E_FLEET_SEED=N replays one seed.
func TestFleetWorkersKilledAtSeededPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dynalite and 5 lockstep processes per seed")
	}
	endpoint := dynalite.Start(t)
	for i, seed := range fleetSeeds(t, 3) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Logf("replay with %s=%d", seedVar, seed)
			killAtPoints(t, newFleetRigOn(t, endpoint, fmt.Sprintf("e2e_kill_%d", i), smallItems), killPoints(seed, 2))
		})
	}
}

func killAtPoints(t *testing.T, r *fleetRig, points []killPoint) {
	began := time.Now()
	run := r.startRun("run", testdata(t, "fleet_small.yaml"), "--env", "local", "--plain")
	var ws []worker
	until(t, 30*time.Second, "the workers", func() bool { ws = workers(t, run.pid); return len(ws) == smallWorkers })
	id := ws[0].fleet
	var killed []int
	for _, p := range points {
		until(t, 60*time.Second, fmt.Sprintf("%d segments done", p.done), func() bool { return r.doneCount(id) >= p.done })
		time.Sleep(p.delay)
		// The worker of that index, or (it may have exited, its work
		// done, or be between two runs) the next one alive.
		alive := workers(t, run.pid)
		slices.SortFunc(alive, func(a, b worker) int {
			return (a.index-p.index+smallWorkers)%smallWorkers - (b.index-p.index+smallWorkers)%smallWorkers
		})
		for _, w := range alive {
			if running(w.pid) && syscall.Kill(w.pid, syscall.SIGKILL) == nil {
				t.Logf("%s: killed worker %d (pid %d) with %d segments done", p, w.index, w.pid, r.doneCount(id))
				killed = append(killed, w.pid)
				break
			}
		}
	}
	res := run.Wait(90 * time.Second)
	if res.Code != 0 {
		t.Fatalf("lockstep run: %s", res)
	}
	for _, pid := range killed {
		// A worker may have ended on its own just before the signal.
		m := regexp.MustCompile(fmt.Sprintf(`\(pid %d\) exited with status (-?\d+)`, pid)).FindStringSubmatch(res.Stdout)
		switch {
		case m == nil:
			t.Errorf("the session did not report the exit of worker pid %d", pid)
		case m[1] != "-1":
			t.Logf("worker pid %d had exited with status %s before the kill", pid, m[1])
		}
	}
	if len(killed) == 0 {
		t.Logf("no worker was alive to kill at %v", points)
	}
	r.checkRun(r.e.latest().ID, id, smallItems, smallSegments)
	t.Logf("fleet run of %d items with %d workers killed: %s", smallItems, len(killed), time.Since(began).Round(time.Millisecond))
}
