package acceptance

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine/store/dynamo/faultproxy"
	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// TestDynamoMigrateThroughFaults runs the counter migration over 20,000
// items through a proxy that throttles, answers 500 and drops the
// connection on a few percent of the data requests — dropping first
// before the server sees the request, then (second half) after it applied
// it, so that a write's answer is lost. The migration still finishes
// exactly once, and the journal records the throttles.
func TestDynamoMigrateThroughFaults(t *testing.T) {
	t.Parallel()
	const batch, segments = 100, 4
	endpoint := dynalite.Start(t)
	c := dynamoClient(t, endpoint)
	seeded := randomCounts(t, counterItems, "item-")
	seedDynamo(t, c, "counters", seeded)

	faults := faultproxy.Faults{ThrottlePercent: 3, ServerErrorPercent: 3, DropPercent: 3,
		Operations: []string{"Scan", "UpdateItem", "GetItem", "DescribeTable"}, Seed: 42}
	px := faultproxy.Start(t, endpoint, faults)
	h := newHarness(t)
	// No max_write_rate: AIMD alone must keep sporadic throttles (3%) from
	// collapsing the rate, and DescribeTable throttles must be retried.
	rb := h.writeFile("counter.yaml", counterRunbook("acc-faults", dynamoStore(px.URL, "counters"), 0, batch, segments))
	start := time.Now()
	p := h.start("run", rb, "--env", "test", "--plain")
	h.waitCheckpoints(p, "bump", counterItems/batch/2, 3*time.Minute)
	faults.DropAfterForward = true
	px.SetFaults(faults)
	r := p.Wait(3 * time.Minute)
	n := px.Counts()
	t.Logf("finished in %v; proxy: %+v", time.Since(start).Round(time.Millisecond), n)
	if r.Code != 0 {
		t.Fatalf("run: exit %d, want 0\n%s", r.Code, r)
	}
	if n.Throttled == 0 || n.ServerErrors == 0 || n.Dropped == 0 {
		t.Fatalf("the proxy injected too few faults to test anything: %+v", n)
	}
	checkMigratedOnce(t, seeded, readDynamo(t, c, "counters"), nil)

	s := h.onlySession()
	var res migrateResult
	if status := h.stepResult(s.ID, "bump", &res); status != "done" {
		t.Fatalf("bump ended %q, want done", status)
	}
	t.Logf("result: %+v", res)
	if res.Throttles == 0 || res.Throttles > n.Throttled {
		t.Errorf("result.throttles = %d, want between 1 and the %d throttles the proxy injected", res.Throttles, n.Throttled)
	}
	if res.Scanned != counterItems || res.Failures != 0 || res.Unresolved != 0 {
		t.Errorf("result scanned=%d failures=%d unresolved=%d, want %d, 0, 0", res.Scanned, res.Failures, res.Unresolved, counterItems)
	}
	if got := res.Migrated + res.Already; got != counterItems {
		t.Errorf("result.migrated+already = %d, want %d", got, counterItems)
	}
	// Every item was at version 1 and nothing else wrote: this session
	// migrated all of them and met no conflict. A write whose answer was
	// lost (the proxy drops some connections after the server applied the
	// request) and that was retried is still this session's write.
	if res.Migrated != counterItems {
		t.Errorf("result.migrated = %d (already %d), want %d: writes applied but whose answer was lost are counted as items already migrated",
			res.Migrated, res.Already, counterItems)
	}
	if res.Conflicts != 0 {
		t.Errorf("result.conflicts = %d, want 0: no other writer ran; the retried writes whose answer was lost failed their own condition", res.Conflicts)
	}

	// The journal shows the throttling while it happens: the migrate step
	// journals the growing throttle count as warnings.
	var noted int64
	for _, e := range h.events(s.ID, "warning") {
		var w struct {
			Throttles int64 `json:"throttles"`
		}
		if e.Step == "bump" && json.Unmarshal(e.Data, &w) == nil && w.Throttles > noted {
			noted = w.Throttles
		}
	}
	if noted == 0 || noted > res.Throttles {
		t.Errorf("journal warnings record %d throttles, want between 1 and result.throttles %d", noted, res.Throttles)
	}
}
