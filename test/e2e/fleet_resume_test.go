package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// running reports whether process pid still runs (a zombie has ended).
func running(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

// TestFleetResumeAfterSessionKill9: kill -9 of the session (the fleet's
// coordinator) while its local workers run. The workers do not depend on
// the session — as on Batch or Kubernetes, they share the segments
// through the control table — so they go on and exit 0 once no segment
// is left; `lockstep resume` continues the same fleet with workers of its
// own. No segment is done or journaled twice, the totals are exact and
// the journal verifies. The kill's point comes from a seed
// (E2E_FLEET_SEED=N replays one).
func TestFleetResumeAfterSessionKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dynalite and 9 lockstep processes")
	}
	seed := fleetSeeds(t, 1)[0]
	rng := rand.New(rand.NewPCG(seed, 14))
	journal, delay := 1+rng.IntN(6), time.Duration(rng.IntN(300))*time.Millisecond
	t.Logf("kill -9 of the session after %d segments journaled + %s: replay with %s=%d", journal, delay, seedVar, seed)
	began := time.Now()
	r := newFleetRigOn(t, dynalite.Start(t), "e2e_resume", smallItems)
	first := r.startRun("run", testdata(t, "fleet_small.yaml"), "--env", "local", "--plain")
	var old []worker
	until(t, 30*time.Second, "the workers", func() bool { old = workers(t, first.pid); return len(old) == smallWorkers })
	id := old[0].fleet
	// Kill it once it journaled segments (at a point drawn from the
	// seed), so that the resumed session must not journal those again.
	session := r.e.latest()
	until(t, 60*time.Second, fmt.Sprintf("%d segments journaled", journal), func() bool {
		_, evs := r.stepResult(session.ID)
		return len(evs) >= journal
	})
	time.Sleep(delay)
	old = workers(t, first.pid)
	if res := first.Stop(syscall.SIGKILL); res.Code != -int(syscall.SIGKILL) {
		t.Fatalf("lockstep run: exit %d after SIGKILL", res.Code)
	}
	_, journaled := r.stepResult(session.ID)
	doneAtKill := r.doneCount(id)
	if session = r.e.latest(); session.Outcome != "" {
		t.Fatalf("killed session outcome %q, want \"\" (never ended)", session.Outcome)
	}
	alive := 0
	for _, w := range old {
		if running(w.pid) {
			alive++
		}
	}
	t.Logf("session killed with %d of %d segments done (%d journaled), %d of its workers running", doneAtKill, smallSegments, len(journaled), alive)

	resumed := r.startRun("resume", session.ID, "--plain")
	res := resumed.Wait(90 * time.Second)
	if res.Code != 0 {
		t.Fatalf("lockstep resume: %s", res)
	}
	if want := fmt.Sprintf("fleet %s: %d segments", id, smallSegments); !strings.Contains(res.Stdout, want) {
		t.Errorf("the resumed session did not continue fleet %s (want %q)\n%s", id, want, res)
	}
	// The dead session's workers stop by themselves: no work is left.
	until(t, 30*time.Second, "the dead session's workers to exit", func() bool {
		for _, w := range old {
			if running(w.pid) {
				return false
			}
		}
		return true
	})
	if got := r.e.latest(); got.ID != session.ID || got.Outcome != "completed" {
		t.Errorf("session %s outcome %q, want %s completed", got.ID, got.Outcome, session.ID)
	}
	r.checkRun(session.ID, id, smallItems, smallSegments)
	t.Logf("fleet resumed after kill -9 of its session: %s in all", time.Since(began).Round(time.Millisecond))
}
