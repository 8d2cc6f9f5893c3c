package throttle

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine/enginetest"
)

// server models how a store's latency responds to writes in flight:
// each write spends overhead outside the server (client, network), in
// parallel with the others, and service inside it, where at most
// workers writes are served at a time, first come first served.
type server struct {
	overhead, service time.Duration
	workers           int
}

// simulate drives l with writers that each write again as soon as a slot
// is free, on a fake clock, for n writes against srv. It returns the
// limit after each window of writes and the throughput over the second
// half, in writes per second.
func simulate(t *testing.T, l *Inflight, clock *enginetest.FakeClock, srv server, n int, throttled func(i int) bool) (limits []int, perSec float64) {
	t.Helper()
	ctx := context.Background()
	type write struct{ start, done time.Time }
	var flying []write
	free := make([]time.Time, srv.workers) // when each server worker is next free
	var halfAt time.Time
	for i := 0; i < n; i++ {
		for l.inflight < l.limit {
			start, err := l.Acquire(ctx)
			if err != nil {
				t.Fatalf("Acquire()=%v", err)
			}
			w := 0
			for j := range free {
				if free[j].Before(free[w]) {
					w = j
				}
			}
			arrive := start.Add(srv.overhead / 2)
			if free[w].After(arrive) {
				arrive = free[w]
			}
			free[w] = arrive.Add(srv.service)
			flying = append(flying, write{start, free[w].Add(srv.overhead / 2)})
		}
		first := 0
		for j := range flying {
			if flying[j].done.Before(flying[first].done) {
				first = j
			}
		}
		w := flying[first]
		flying = append(flying[:first], flying[first+1:]...)
		clock.Set(w.done)
		l.Release(w.start, throttled != nil && throttled(i))
		if i == n/2 {
			halfAt = w.done
		}
		if i%inflightWindow == 0 {
			limits = append(limits, l.Limit())
		}
	}
	perSec = float64(n-n/2-1) / clock.Now().Sub(halfAt).Seconds()
	slices.SortFunc(flying, func(a, b write) int { return a.done.Compare(b.done) })
	for _, w := range flying { // the writes in flight end (after the figures)
		clock.Set(w.done)
		l.Release(w.start, false)
	}
	return limits, perSec
}

// TestInflightLimitFindsTheServersKnee: against a server that serves one
// write at a time (dynalite), the limit settles a few writes above the
// concurrency that keeps the server busy, well below every writer the
// step has, and the server stays busy; against a server whose latency
// does not grow with load (DynamoDB), it climbs to every writer.
func TestInflightLimitFindsTheServersKnee(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		srv            server
		lo, hi         int     // the settled limit
		minUtilisation float64 // of the server's capacity
	}{
		{"single-threaded server", server{overhead: 300 * time.Microsecond, service: 200 * time.Microsecond, workers: 1}, 5, 10, 0.97},
		{"slow client, fast server", server{overhead: 2 * time.Millisecond, service: 200 * time.Microsecond, workers: 1}, 17, 23, 0.97},
		{"parallel server", server{overhead: 5 * time.Millisecond, service: time.Millisecond, workers: 1000}, 32, 32, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := enginetest.NewFakeClock(time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC))
			l := NewInflight(clock, 32)
			limits, perSec := simulate(t, l, clock, tt.srv, 20_000, nil)
			for _, got := range limits[len(limits)/2:] {
				if got < tt.lo || got > tt.hi {
					t.Fatalf("limit %d in the second half, want within [%d, %d]; limits %v", got, tt.lo, tt.hi, limits)
				}
			}
			t.Logf("limits %v, %.0f writes/s", limits[len(limits)-10:], perSec)
			capacity := float64(tt.srv.workers) / tt.srv.service.Seconds()
			if u := perSec / capacity; tt.minUtilisation > 0 && u < tt.minUtilisation {
				t.Errorf("throughput %.0f/s = %.2f of the server's capacity, want ≥ %.2f", perSec, u, tt.minUtilisation)
			}
		})
	}
}

// TestInflightLimitBacksOffOnThrottles: a window with a throttled write
// takes a quarter off the limit, never below one.
func TestInflightLimitBacksOffOnThrottles(t *testing.T) {
	t.Parallel()
	clock := enginetest.NewFakeClock(time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC))
	l := NewInflight(clock, 32)
	fast := server{overhead: 5 * time.Millisecond, service: time.Millisecond, workers: 1000}
	if limits, _ := simulate(t, l, clock, fast, 2000, nil); limits[len(limits)-1] != 32 {
		t.Fatalf("limits %v, want 32 before throttles", limits)
	}
	limits, _ := simulate(t, l, clock, fast, 200, func(int) bool { return true })
	if got := limits[len(limits)-1]; got != 1 {
		t.Errorf("limit %d after every write was throttled, want 1; limits %v", got, limits)
	}
	for i := 1; i < len(limits); i++ {
		if limits[i] < limits[i-1]*3/4-1 {
			t.Fatalf("limits %v: fell by more than a quarter in a window", limits)
		}
	}
}

// TestInflightLimitWaiters: a write over the limit waits for a slot,
// granted in arrival order when one ends, and gives up when its context
// ends without taking a slot.
func TestInflightLimitWaiters(t *testing.T) {
	t.Parallel()
	clock := enginetest.NewFakeClock(time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC))
	l := NewInflight(clock, 1)
	ctx := context.Background()
	start, err := l.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	gaveUp := make(chan error)
	go func() { _, err := l.Acquire(cctx); gaveUp <- err }()
	granted := make(chan error)
	waiting := func(n int) {
		t.Helper()
		for i := 0; ; i++ {
			l.mu.Lock()
			w := len(l.waiters)
			l.mu.Unlock()
			if w == n {
				return
			}
			if i > 1e7 {
				t.Fatalf("%d waiters, want %d", w, n)
			}
			runtime.Gosched() // let the goroutines under test reach Acquire
		}
	}
	waiting(1)
	go func() { _, err := l.Acquire(ctx); granted <- err }()
	waiting(2)
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire() after cancel = %v, want context.Canceled", err)
	}
	l.Release(start, false)
	if err := <-granted; err != nil {
		t.Fatalf("Acquire()=%v, want the released slot", err)
	}
	if l.inflight != 1 || len(l.waiters) != 0 {
		t.Errorf("inflight=%d waiters=%d, want 1, 0", l.inflight, len(l.waiters))
	}
}

// TestInflightLimitGrowsByOneOnceSettled: the limit doubles while no
// queue has formed, and once one has, a window as fast as the server
// without a queue (a lucky one, on a busy machine) adds one write, not
// as many again.
func TestInflightLimitGrowsByOneOnceSettled(t *testing.T) {
	t.Parallel()
	l := NewInflight(enginetest.NewFakeClock(time.Time{}), 64)
	window := func(rtt time.Duration) int {
		for range max(l.limit, inflightWindow) {
			l.sample(time.Time{}, rtt, false)
		}
		return l.limit
	}
	got := []int{window(time.Millisecond), window(time.Millisecond), window(time.Millisecond)}
	got = append(got, window(10*time.Millisecond)) // 16 in flight, most of them queued
	got = append(got, window(time.Millisecond), window(time.Millisecond))
	if want := []int{4, 8, 16, 15, 16, 17}; !slices.Equal(got, want) {
		t.Errorf("limits %v, want %v", got, want)
	}
}

// TestInflightLimitFollowsASlowerClient: when the latency outside the
// server grows in the middle of a step (other work loads the client's
// machine; here its overhead grows tenfold), the least latency seen
// before is out of reach, and every window would look queued against it.
// The periodic probe at a few writes in flight measures it again, so the
// limit climbs to the concurrency that keeps the server busy instead of
// shrinking below it.
func TestInflightLimitFollowsASlowerClient(t *testing.T) {
	t.Parallel()
	clock := enginetest.NewFakeClock(time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC))
	l := NewInflight(clock, 32)
	simulate(t, l, clock, server{overhead: 300 * time.Microsecond, service: 200 * time.Microsecond, workers: 1}, 20_000, nil)
	slow := server{overhead: 3 * time.Millisecond, service: 200 * time.Microsecond, workers: 1}
	limits, perSec := simulate(t, l, clock, slow, 100_000, nil)
	last := limits[len(limits)*3/4:]
	var settled []int // the probes' windows left out
	for _, got := range last {
		if got != inflightProbeLimit {
			settled = append(settled, got)
		}
	}
	if len(settled) < len(last)*9/10 {
		t.Fatalf("limit at the probe's %d in %d of %d windows, want at most a tenth; limits %v", inflightProbeLimit, len(last)-len(settled), len(last), last)
	}
	for _, got := range settled {
		if got < 18 || got > 28 {
			t.Fatalf("limit %d in the last quarter, want within [18, 28]; its last limits %v", got, last[len(last)-20:])
		}
	}
	if u := perSec / (1 / slow.service.Seconds()); u < 0.95 {
		t.Errorf("throughput %.0f/s = %.2f of the server's capacity, want ≥ 0.95; limits %v", perSec, u, last[len(last)-20:])
	}
}

// TestInflightLimitProbesAndReturns: once settled, the limit drops to
// inflightProbeLimit for one window every inflightProbeEvery, takes that
// window's least latency as the server's without a queue (even above the
// least seen before), and returns to where it was.
func TestInflightLimitProbesAndReturns(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	l := NewInflight(enginetest.NewFakeClock(start), 64)
	now := start
	window := func(rtt time.Duration) int {
		for range max(l.limit, inflightWindow) {
			now = now.Add(time.Millisecond)
			l.sample(now, rtt, false)
		}
		return l.limit
	}
	got := []int{window(time.Millisecond), window(time.Millisecond), window(time.Millisecond)}
	got = append(got, window(10*time.Millisecond))   // a queue: settled
	got = append(got, window(1100*time.Microsecond)) // queue 15 × 1/11: grows by one
	now = now.Add(inflightProbeEvery)
	got = append(got, window(time.Millisecond))   // the probe starts
	got = append(got, window(4*time.Millisecond)) // slower without a queue: the new noLoad
	got = append(got, window(4*time.Millisecond)) // no queue against it: grows
	if want := []int{4, 8, 16, 15, 16, inflightProbeLimit, 16, 17}; !slices.Equal(got, want) {
		t.Errorf("limits %v, want %v", got, want)
	}
	if l.noLoad != 4*time.Millisecond {
		t.Errorf("noLoad %v after the probe, want 4ms", l.noLoad)
	}
}

// TestInflightLimitReachesDynalitesBest: on dynalite (measured on this
// machine: a write alone takes about 0.9 ms, and with a queue each
// write adds about 0.45 ms of the server's single thread) the careful
// hand loop is fastest with 8 to 16 writes in flight: the server's cost
// per write falls as it batches the requests of one event-loop turn, so
// a queue of a few writes still buys throughput. The limit settles
// there, not at the first writes that queue.
func TestInflightLimitReachesDynalitesBest(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	l := NewInflight(enginetest.NewFakeClock(start), 32)
	const alone, perWrite = 900 * time.Microsecond, 450 * time.Microsecond
	now := start
	var limits []int
	for range 200 {
		rtt := max(alone, time.Duration(l.limit)*perWrite)
		for range max(l.limit, inflightWindow) {
			now = now.Add(rtt / time.Duration(l.limit))
			l.sample(now, rtt, false)
		}
		limits = append(limits, l.limit)
	}
	for _, got := range limits[100:] {
		if got < 8 || got > 12 {
			t.Fatalf("limit %d once settled, want within [8, 12]; limits %v", got, limits[:20])
		}
	}
}
