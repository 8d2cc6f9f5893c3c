package acceptance

import (
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// counterItems is the size of the counter datasets of the kill/resume tests.
const counterItems = 20_000

// TestDynamoMigrateKilledThreeTimes runs the counter migration over 20,000
// dynalite items with the binary, kills it with SIGKILL after the first
// checkpoint, after a third and after two thirds of them, resumes each
// time, and finishes: every counter is incremented exactly once and every
// item is at the target version, and the resumed step continued from its
// checkpoints instead of starting over.
func TestDynamoMigrateKilledThreeTimes(t *testing.T) {
	t.Parallel()
	const batch, segments = 100, 4
	endpoint := dynalite.Start(t)
	c := dynamoClient(t, endpoint)
	seeded := randomCounts(t, counterItems, "item-")
	start := time.Now()
	seedDynamo(t, c, "counters", seeded)
	t.Logf("seeded %d items in %v", counterItems, time.Since(start).Round(time.Millisecond))

	h := newHarness(t)
	rb := h.writeFile("counter.yaml", counterRunbook("acc-counter", dynamoStore(endpoint, "counters"), 0, batch, segments))
	pages := counterItems / batch // about one checkpoint per page
	var id string
	var last int
	for i, at := range []int{1, pages / 3, 2 * pages / 3} {
		var p *proc
		if i == 0 {
			p = h.start("run", rb, "--env", "test", "--plain")
		} else {
			p = h.start("resume", id, "--plain")
		}
		got := h.waitCheckpoints(p, "bump", at, 3*time.Minute)
		out := p.kill9()
		if got <= last {
			t.Fatalf("kill %d: %d checkpoints, no progress since the previous kill (%d)", i+1, got, last)
		}
		last = got
		s := h.onlySession()
		id = s.ID
		if s.Outcome != "" {
			t.Fatalf("kill %d: session outcome %q after SIGKILL, want it still running\n%s", i+1, s.Outcome, out)
		}
		if _, ended := lastStepEnd(t, h.journalDB(), id, "bump"); ended {
			t.Fatalf("kill %d: the migrate step had already ended: the kill did not interrupt it", i+1)
		}
		if i > 0 && !strings.Contains(out.Stdout, "resuming") {
			t.Errorf("resume %d does not say it resumes from checkpoints\n%s", i, out)
		}
		t.Logf("kill %d after %d checkpoints (%v)", i+1, got, time.Since(start).Round(time.Millisecond))
	}
	r := h.start("resume", id, "--plain").Wait(3 * time.Minute)
	if r.Code != 0 {
		t.Fatalf("final resume: exit %d, want 0\n%s", r.Code, r)
	}
	if s := h.onlySession(); s.Outcome != "completed" {
		t.Errorf("session outcome %q, want completed", s.Outcome)
	}
	t.Logf("finished after %v", time.Since(start).Round(time.Millisecond))

	checkMigratedOnce(t, seeded, readDynamo(t, c, "counters"), nil)
	// Three kills: each may leave pagesInFlight pages per segment to redo.
	checkResumedResult(t, h, id, counterItems, 3*pagesInFlight*segments*batch)
	h.mustRun(0, time.Minute, "journal", "verify", id) // the hash chain survived the kills
	checkRerunChangesNothing(t, h, rb, seeded, func() map[string]row { return readDynamo(t, c, "counters") })
}

// checkResumedResult checks the migrate step's journaled result after
// resumes: it is done, counts every item exactly once (a resume rescans at
// most the pages in flight at each kill, restoring counts from the last
// checkpoints), and nothing failed.
// pagesInFlight is how many pages per segment a kill can leave written
// but not checkpointed: the one being written (migrate's write-ahead
// gate: a page starts only once the checkpoint before it is durable).
const pagesInFlight = 1

func checkResumedResult(t *testing.T, h *harness, id string, items int64, inFlight int64) {
	t.Helper()
	var res migrateResult
	if status := h.stepResult(id, "bump", &res); status != "done" {
		t.Fatalf("bump ended %q, want done", status)
	}
	if !res.Resumed {
		t.Errorf("result.resumed = false, want true")
	}
	if res.Scanned != items {
		t.Errorf("result.scanned = %d, want %d (each item counted once across resumes)", res.Scanned, items)
	}
	if got := res.Migrated + res.Already; got != items {
		t.Errorf("result.migrated+already = %d+%d = %d, want %d", res.Migrated, res.Already, got, items)
	}
	if res.Migrated < items-inFlight {
		t.Errorf("result.migrated = %d, want ≥ %d: only pages in flight at a kill may be found already migrated", res.Migrated, items-inFlight)
	}
	if res.Failures != 0 || res.Unresolved != 0 {
		t.Errorf("result failures=%d unresolved=%d, want 0", res.Failures, res.Unresolved)
	}
	if res.Version != targetVersion {
		t.Errorf("result.version = %d, want %d", res.Version, targetVersion)
	}
}
