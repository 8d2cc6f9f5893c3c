package throttle

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Clock is the time source Inflight times writes on; engine.Clock is one.
type Clock interface{ Now() time.Time }

// Inflight bounds a migrate step's writes in flight, across its
// segments, and adapts the bound to the latency the writes meet, in the
// manner of TCP Vegas and the "Vegas" limit of Netflix's
// concurrency-limits: the least latency seen (noLoad) is the server
// without a queue; a window's least latency above it says how many of
// the writes in flight wait in a queue (limit × (1 − noLoad/latency)).
// Below inflightAlpha the limit grows by one (doubling, until the first
// queue forms), above inflightBeta it shrinks by one, and a throttled
// write shrinks it by a quarter. So the step keeps a server busy with a
// short queue instead of burying it under every writer it has: a
// single-threaded DynamoDB emulator serves fewer writes per second with
// 32 in flight than with 8, while real DynamoDB, whose latency does not
// grow with concurrency, lets the limit climb to every writer. The queue
// aimed at is 6 to 12 writes, not Vegas's usual 3 to 6: dynalite's cost
// per write falls as it batches the requests of one event-loop turn, and
// the hand loop is fastest there with 8 to 16 writes in flight, where 3
// to 6 settled at 5 (about the loop's speed at 4). It works alongside
// the write limiter's rate (WriteLimiter), which acts on throttles and
// max_write_rate.
//
// A window is max(limit, inflightWindow) completed writes; the latency
// of a window is its least, which a queue standing for the whole window
// raises but a stray slow write (a pause, a busy CPU) does not.
//
// The least latency is measured again every inflightProbeEvery, in the
// manner of BBR's ProbeRTT: for one window the limit drops to
// inflightProbeLimit, so that the queue drains, and that window's least
// latency becomes noLoad. Without it, noLoad is the least latency ever
// seen: once the latency outside the server grows (a client machine that
// other work loads, a longer network path), every window looks queued
// against a figure the step can no longer reach, and the limit shrinks
// far below the concurrency that keeps the server busy.
type Inflight struct {
	clock Clock

	mu       sync.Mutex
	limit    int
	max      int
	inflight int
	waiters  []chan struct{} // FIFO; each is granted a slot by grant
	spare    []chan struct{} // waiters' channels, emptied, for reuse

	noLoad  time.Duration // least latency seen since the last probe (0: none yet)
	winMin  time.Duration // least latency of the current window
	winN    int           // writes completed in the current window
	winDrop bool          // one of them was throttled
	// settled ends the slow start: a queue formed or a write was
	// throttled, and from then on the limit grows by one a window (a
	// lucky window on a noisy machine cannot double it).
	settled bool
	// probeAt is when the next probe of noLoad starts (once settled);
	// probing is the limit to return to while one runs (0: none).
	probeAt time.Time
	probing int
}

// Vegas tuning: the queue the limit aims at, in writes, and the least
// window.
const (
	inflightAlpha  = 6
	inflightBeta   = 12
	inflightWindow = 16
	inflightStart  = 2
	// inflightProbeEvery is how often noLoad is measured again, for
	// one window at inflightProbeLimit writes in flight.
	inflightProbeEvery = 10 * time.Second
	inflightProbeLimit = 2
)

// NewInflight returns a limit starting at inflightStart (at most
// maxLimit) that never exceeds maxLimit, timing writes on clock.
func NewInflight(clock Clock, maxLimit int) *Inflight {
	maxLimit = max(1, maxLimit)
	return &Inflight{clock: clock, limit: min(inflightStart, maxLimit), max: maxLimit}
}

// Limit returns the current limit.
func (l *Inflight) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// Acquire waits for a slot and returns the time the write starts, to be
// handed to Release when it ends. Slots are granted in arrival order. A
// nil limit lets every write through.
func (l *Inflight) Acquire(ctx context.Context) (time.Time, error) {
	if l == nil {
		return time.Time{}, nil
	}
	l.mu.Lock()
	if l.inflight < l.limit && len(l.waiters) == 0 {
		l.inflight++
		l.mu.Unlock()
		return l.clock.Now(), nil
	}
	var ch chan struct{}
	if n := len(l.spare); n > 0 {
		ch, l.spare = l.spare[n-1], l.spare[:n-1]
	} else {
		ch = make(chan struct{}, 1)
	}
	l.waiters = append(l.waiters, ch)
	l.mu.Unlock()
	select {
	case <-ch:
		now := l.clock.Now()
		l.mu.Lock()
		l.spare = append(l.spare, ch) // empty again: the next waiter's
		l.mu.Unlock()
		return now, nil
	case <-ctx.Done():
		l.mu.Lock()
		defer l.mu.Unlock()
		if i := slices.Index(l.waiters, ch); i >= 0 {
			l.waiters = slices.Delete(l.waiters, i, i+1)
			l.spare = append(l.spare, ch)
		} else { // granted meanwhile (its slot is in ch): hand the slot on
			l.inflight--
			l.grant()
		}
		return time.Time{}, ctx.Err()
	}
}

// Release ends the write that started at start; throttled says the
// store throttled it.
func (l *Inflight) Release(start time.Time, throttled bool) {
	if l == nil {
		return
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	l.sample(now, now.Sub(start), throttled)
	l.grant()
}

// grant hands free slots to waiters, oldest first.
func (l *Inflight) grant() {
	for l.inflight < l.limit && len(l.waiters) > 0 {
		ch := l.waiters[0]
		l.waiters = l.waiters[1:]
		l.inflight++
		ch <- struct{}{}
	}
}

// sample records the latency of one write that ended at now and, at the
// end of a window, moves the limit or starts or ends a probe of noLoad.
func (l *Inflight) sample(now time.Time, rtt time.Duration, throttled bool) {
	if rtt > 0 && (l.noLoad == 0 || rtt < l.noLoad) {
		l.noLoad = rtt
	}
	if l.winN == 0 || rtt < l.winMin {
		l.winMin = rtt
	}
	l.winN++
	l.winDrop = l.winDrop || throttled
	if l.winN < max(l.limit, inflightWindow) {
		return
	}
	switch {
	case l.probing > 0: // the queue drained: its least latency is noLoad
		if l.winMin > 0 {
			l.noLoad = l.winMin
		}
		l.limit, l.probing = l.probing, 0
		if l.winDrop {
			l.limit = max(1, l.limit*3/4)
		}
		l.probeAt = now.Add(inflightProbeEvery)
	case l.settled && !now.Before(l.probeAt) && l.limit > inflightProbeLimit && !l.winDrop:
		l.probing, l.limit = l.limit, inflightProbeLimit
	default:
		wasSettled := l.settled
		l.limit = l.next()
		if !wasSettled && l.settled {
			l.probeAt = now.Add(inflightProbeEvery)
		}
	}
	l.winN, l.winDrop = 0, false
}

// next is the limit after a window.
func (l *Inflight) next() int {
	if l.winDrop {
		l.settled = true
		return max(1, l.limit*3/4)
	}
	queue := 0.0 // a clock that did not move (a test's) sees no queue
	if l.winMin > 0 && l.noLoad > 0 {
		queue = float64(l.limit) * (1 - float64(l.noLoad)/float64(l.winMin))
	}
	if queue >= inflightAlpha {
		l.settled = true
	}
	switch {
	case queue < 1 && !l.settled: // slow start: double until a queue forms
		return min(l.max, 2*l.limit)
	case queue < inflightAlpha:
		return min(l.max, l.limit+1)
	case queue > inflightBeta:
		return max(1, l.limit-1)
	}
	return l.limit
}
