package dynamo_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/engine/store/dynamo/faultproxy"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
	"github.com/lockstep-run/lockstep/internal/dynalite"
)

func forward(id string) engine.Update {
	return engine.Update{Key: engine.Item{storetest.KeyAttr: id}, Set: engine.Attrs(map[string]any{"city": "Paris"}), Version: 3,
		Guard: engine.Guard{VersionAttr: "v", Below: 3}}
}

// faulty returns a store on a fresh seeded table reached through a fault
// proxy (no faults yet) and the proxy.
func faulty(t *testing.T, seed []engine.Item, opts ...dynamo.Option) (*dynamo.Store, *faultproxy.Proxy) {
	p := faultproxy.Start(t, dynalite.Shared(t), faultproxy.Faults{})
	return newTable(t, p.URL, seed, opts...), p
}

func TestThrottleSurfacesUnretried(t *testing.T) {
	st, p := faulty(t, storetest.Seed(3))
	p.SetFaults(faultproxy.Faults{ThrottlePercent: 100, Operations: []string{"UpdateItem", "Scan"}})
	before := p.Counts()
	err := st.Update(context.Background(), forward("item-001"))
	if !errors.Is(err, engine.ErrThrottled) {
		t.Fatalf("Update()=%v, want ErrThrottled", err)
	}
	if got := p.Counts().Requests - before.Requests; got != 1 {
		t.Errorf("throttled Update made %d requests, want 1 (the SDK must not retry throttles)", got)
	}
	if _, err := st.Scan(context.Background(), engine.ScanRequest{TotalSegments: 1}); !errors.Is(err, engine.ErrThrottled) {
		t.Errorf("Scan()=%v, want ErrThrottled", err)
	}
	p.SetFaults(faultproxy.Faults{})
	if err := st.Update(context.Background(), forward("item-001")); err != nil {
		t.Errorf("Update() after throttling stopped=%v", err)
	}
}

func TestServerErrorsRetried(t *testing.T) {
	st, p := faulty(t, storetest.Seed(3), dynamo.WithMaxAttempts(3))
	p.SetFaults(faultproxy.Faults{ServerErrorPercent: 100, Operations: []string{"UpdateItem"}})
	before := p.Counts()
	err := st.Update(context.Background(), forward("item-001"))
	if err == nil || errors.Is(err, engine.ErrThrottled) || errors.Is(err, engine.ErrConditionFailed) {
		t.Fatalf("Update() with only 500s=%v, want a server error", err)
	}
	if got := p.Counts().ServerErrors - before.ServerErrors; got != 3 {
		t.Errorf("Update() tried %d times, want 3 (WithMaxAttempts)", got)
	}
}

// TestManyGoroutinesNoRetryQuota runs many concurrent writers through a
// flaky endpoint: with the SDK's default retry quota (500 tokens, 5 per
// retry) they would exhaust it after ~100 retries and fail with "retry
// quota exceeded"; the store replaced it, so all succeed.
func TestManyGoroutinesNoRetryQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	seed := storetest.Seed(400)
	st, p := faulty(t, seed, dynamo.WithMaxAttempts(20), dynamo.WithMaxBackoff(50*time.Millisecond))
	p.SetFaults(faultproxy.Faults{ServerErrorPercent: 40, DropPercent: 10, Seed: 7, Operations: []string{"UpdateItem"}})
	var wg sync.WaitGroup
	errs := make(chan error, len(seed))
	for w := range 32 {
		wg.Go(func() {
			for i := w; i < len(seed); i += 32 {
				if err := st.Update(context.Background(), forward(seed[i][storetest.KeyAttr].(string))); err != nil && !errors.Is(err, engine.ErrConditionFailed) {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update()=%v", err)
	}
	c := p.Counts()
	if retries := c.ServerErrors + c.Dropped; retries < 150 {
		t.Errorf("only %d faults injected, want > 150 to prove the quota is gone", retries)
	}
	p.SetFaults(faultproxy.Faults{})
	got := storetest.ScanAll(t, st, 4, 100)
	for id, it := range got {
		if !engine.EqualValues(it["v"], 3) || it["city"] != "Paris" {
			t.Errorf("item %s=%v, want v 3 city Paris", id, it)
		}
	}
	t.Logf("counts: %+v", c)
}

func TestDroppedConnectionsSurvived(t *testing.T) {
	seed := storetest.Seed(60)
	st, p := faulty(t, seed, dynamo.WithMaxAttempts(10))
	p.SetFaults(faultproxy.Faults{DropPercent: 30, Seed: 3})
	got := storetest.ScanAll(t, st, 3, 7)
	if len(got) != len(seed) {
		t.Errorf("scan through drops returned %d items, want %d", len(got), len(seed))
	}
	if p.Counts().Dropped == 0 {
		t.Error("no connection was dropped")
	}
}

// TestDropAfterApplied: the write applied but its answer was lost; the
// SDK's retry then finds the guard no longer holds. The guard keeps the
// transform from applying twice.
func TestDropAfterApplied(t *testing.T) {
	st, p := faulty(t, storetest.Seed(3), dynamo.WithMaxAttempts(3))
	p.SetFaults(faultproxy.Faults{DropPercent: 100, DropAfterForward: true, Operations: []string{"UpdateItem"}})
	err := st.Update(context.Background(), forward("item-001"))
	p.SetFaults(faultproxy.Faults{})
	if err == nil {
		t.Fatal("Update() with every answer lost=nil, want an error")
	}
	it, _, _ := st.Get(context.Background(), engine.Item{storetest.KeyAttr: "item-001"})
	if !engine.EqualValues(it["v"], 3) {
		t.Errorf("item=%v, want v 3 (the first attempt applied)", it)
	}
	// A retry by the engine is refused by the guard.
	if err := st.Update(context.Background(), forward("item-001")); !errors.Is(err, engine.ErrConditionFailed) {
		t.Errorf("Update() again=%v, want ErrConditionFailed", err)
	}
}

// TestPutRetriesThrottledBatches: Put (an import, not the rate-limited
// migrate path) backs off and retries throttled batches itself.
func TestPutRetriesThrottledBatches(t *testing.T) {
	st, p := faulty(t, nil)
	p.SetFaults(faultproxy.Faults{ThrottlePercent: 50, Seed: 5, Operations: []string{"BatchWriteItem"}})
	items := storetest.RoundTripItems(false)
	if err := st.Put(context.Background(), items); err != nil {
		t.Fatalf("Put() through throttling=%v", err)
	}
	if p.Counts().Throttled == 0 {
		t.Error("no batch was throttled")
	}
	p.SetFaults(faultproxy.Faults{})
	if got := storetest.ScanAll(t, st, 1, 100); len(got) != len(items) {
		t.Errorf("scan after Put found %d items, want %d", len(got), len(items))
	}
}

func TestDescribeRetriesThrottles(t *testing.T) {
	st, p := faulty(t, storetest.Seed(3))
	p.SetFaults(faultproxy.Faults{ThrottlePercent: 50, Operations: []string{"DescribeTable"}, Seed: 7})
	before := p.Counts()
	for i := range 10 {
		if _, err := st.Describe(context.Background()); err != nil {
			t.Fatalf("Describe() #%d = %v, want throttles retried", i, err)
		}
	}
	if got := p.Counts().Throttled - before.Throttled; got == 0 {
		t.Errorf("no DescribeTable was throttled: the test proves nothing")
	}
	p.SetFaults(faultproxy.Faults{ThrottlePercent: 100, Operations: []string{"DescribeTable"}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := st.Describe(ctx); !errors.Is(err, engine.ErrThrottled) {
		t.Errorf("Describe() under constant throttling = %v, want ErrThrottled after bounded retries", err)
	}
}
