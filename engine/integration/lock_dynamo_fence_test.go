package integration_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
)

// openLeaseStore opens the rig's DynamoDB table again with its own lease
// table (tests sharing dynalite must not share lease records) and, when
// transport is set, through a local proxy using it.
func openLeaseStore(t *testing.T, r *rig.Data, leaseTable string, transport http.RoundTripper) *dynamo.Store {
	t.Helper()
	spec := *r.RB.Env("test").Store
	if transport != nil {
		target, err := url.Parse(spec.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		rp := httputil.NewSingleHostReverseProxy(target)
		rp.Transport = transport
		rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
		srv := httptest.NewServer(rp)
		t.Cleanup(srv.Close)
		spec.Endpoint = srv.URL
	}
	st, err := dynamo.Open(context.Background(), &spec, dynamo.WithLeaseTable(leaseTable), dynamo.WithMaxBackoff(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// skewClock is a machine whose wall clock runs ahead by skew.
type skewClock struct{ skew time.Duration }

func (c skewClock) Now() time.Time { return time.Now().Add(c.skew) }

// After waits on real time: only the wall clock is off, not its pace.
func (skewClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// TestLockDynamoTakerWaitsOutLiveHolder: a taker whose wall clock runs
// ahead sees a live lease as expired. It must wait a full ttl on its own
// clock and find the holder's renewals, and leave the lease alone.
func TestLockDynamoTakerWaitsOutLiveHolder(t *testing.T) {
	// Not parallel: its lease TTL is a few seconds, so it runs before the
	// parallel tests load the package's shared dynalite.
	const ttl = 2 * time.Second
	steps := fmt.Sprintf("      - {id: take, kind: lock, with: {ttl: %s}}\n", ttl)
	alice := newDynamoRig(t, 2, "", steps, 1, nil)
	leases := fmt.Sprintf("leases_%d", dynamoTables.Add(1))
	alice.St = openLeaseStore(t, alice, leases, nil)
	if _, err := alice.Run(alice.StepContext("take")); err != nil {
		t.Fatalf("alice's lock: %v", err)
	}
	t.Cleanup(func() { _ = alice.Leases.Release(context.Background()) })

	bob := rig.NewData(t, alice.RB, openLeaseStore(t, alice, leases, nil), t.TempDir())
	sc := bob.StepContext("take")
	sc.Clock = skewClock{skew: time.Hour}
	var asked []engine.Prompt
	sc.Ask = rig.ReasonAnswer("alice's session looks dead", &asked)
	start := time.Now()
	_, err := bob.Run(sc)
	t.Cleanup(func() { _ = bob.Leases.Release(context.Background()) })
	var held *engine.LeaseHeldError
	if !errors.As(err, &held) || held.Lease.Session != alice.Session.ID {
		t.Fatalf("bob's lock of alice's live lease: %v, want a *LeaseHeldError naming alice", err)
	}
	if waited := time.Since(start); waited < ttl {
		t.Errorf("bob gave up after %s, before a full ttl %s", waited, ttl)
	}
	if err := engine.ResumeLeases(alice.Ctx, alice.StepContext("take")); err != nil {
		t.Errorf("alice's lease after bob's attempt: %v, want still hers", err)
	}
}

// pauseTransport stalls the process it serves: from the n-th UpdateItem
// on table, every request waits until resume, or until its context ends
// (then it is never sent).
type pauseTransport struct {
	base  http.RoundTripper
	table string
	n     int64

	updates atomic.Int64
	once    sync.Once
	paused  chan struct{} // closed when the stall begins
	resumed chan struct{} // closed by resume
	stalled atomic.Bool
}

func newPauseTransport(table string, n int64) *pauseTransport {
	return &pauseTransport{base: http.DefaultTransport, table: table, n: n,
		paused: make(chan struct{}), resumed: make(chan struct{})}
}

func (p *pauseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.Header.Get("X-Amz-Target"), ".UpdateItem") && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		if strings.Contains(string(b), `"TableName":"`+p.table+`"`) && p.updates.Add(1) == p.n {
			p.once.Do(func() { p.stalled.Store(true); close(p.paused) })
		}
	}
	if p.stalled.Load() {
		select {
		case <-p.resumed:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	return p.base.RoundTrip(req)
}

func (p *pauseTransport) resume() { p.stalled.Store(false); close(p.resumed) }

// dynamoMigrated counts the items holding the migrate's street_name.
func dynamoMigrated(t *testing.T, r *rig.Data) int {
	t.Helper()
	n := 0
	for _, it := range rig.ScanItems(t, r.Seed, "id") {
		if rig.AttrStr(it, "street_name") != "" {
			n++
		}
	}
	return n
}

// TestLockDynamoStalledHolderWritesNothingAfterExpiry: alice's process
// stalls in the middle of a page (every request, heartbeat included,
// hangs); bob waits out her ttl and takes the lease over. When alice's
// process resumes, none of her stalled writes may land: they were
// abandoned once her lease went unconfirmed past its renew margin, before
// it could expire. Her journal counts exactly the items she changed.
func TestLockDynamoStalledHolderWritesNothingAfterExpiry(t *testing.T) {
	// Not parallel: its lease TTL is a few seconds, so it runs before the
	// parallel tests load the package's shared dynalite.
	const ttl = 6 * time.Second // a renewal may take over 2 s on a loaded CI machine
	steps := fmt.Sprintf(`      - {id: take, kind: lock, with: {ttl: %s}}
      - id: backfill
        kind: migrate
        with:
          set: {street_name: '"x"'}
          batch_size: 25
          segments: 2
`, ttl)
	alice := newDynamoRig(t, 2, "    max_write_rate: 0", steps, 400, nil)
	leases := fmt.Sprintf("leases_%d", dynamoTables.Add(1))
	pt := newPauseTransport(alice.RB.Env("test").Store.Table, 40)
	alice.St = openLeaseStore(t, alice, leases, pt)
	if _, err := alice.Run(alice.StepContext("take")); err != nil {
		t.Fatalf("alice's lock: %v", err)
	}
	t.Cleanup(func() { _ = alice.Leases.Release(context.Background()) })

	type outcome struct {
		res any
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := alice.Run(alice.StepContext("backfill"))
		done <- outcome{res, err}
	}()
	select {
	case <-pt.paused:
	case o := <-done:
		t.Fatalf("alice's migrate ended before her process stalled: %v", o.err)
	}

	// Bob's clock is ahead, so alice's lease looks expired to him at once;
	// he still waits out a full ttl of it unchanged.
	bob := rig.NewData(t, alice.RB, openLeaseStore(t, alice, leases, nil), t.TempDir())
	sc := bob.StepContext("take")
	sc.Clock = skewClock{skew: 2 * ttl}
	var asked []engine.Prompt
	sc.Ask = rig.ReasonAnswer("alice's process hangs", &asked)
	if _, err := bob.Run(sc); err != nil {
		t.Fatalf("bob's takeover: %v", err)
	}
	t.Cleanup(func() { _ = bob.Leases.Release(context.Background()) })
	atTakeover := dynamoMigrated(t, alice)
	pt.resume()

	var o outcome
	select {
	case o = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("alice's migrate did not stop after her process resumed")
	}
	if !errors.Is(o.err, engine.ErrLeaseLost) {
		t.Errorf("alice's migrate: %v, want ErrLeaseLost", o.err)
	}
	after := dynamoMigrated(t, alice)
	if after != atTakeover {
		t.Errorf("alice changed %d items after bob took her lease over, want 0", after-atTakeover)
	}
	if atTakeover == 0 || atTakeover == 400 {
		t.Errorf("items written before the stall = %d, want some and not all", atTakeover)
	}
	if mr, ok := o.res.(migrate.Result); !ok || mr.Migrated != int64(after) {
		t.Errorf("alice's result %+v counts a migrated number other than the %d items she changed", o.res, after)
	}
	if got := rig.JournaledMigrated(t, alice); got != int64(after) {
		t.Errorf("alice's journal counts %d migrated, items she changed = %d", got, after)
	}
}
