// Package enginetest holds test doubles for the engine's ports that are
// real enough to run the engine on — a fake Clock that tests move instead
// of sleeping — and Main, a TestMain that keeps tests' temporary files in
// memory. It imports only the standard library, so the engine's internal
// tests may use it too.
package enginetest

import (
	"sort"
	"sync"
	"time"
)

// FakeClock is an engine.Clock whose time moves only when a test says so.
// Waiters (After) fire once Advance or Set moves the clock past their
// deadline. It is safe for concurrent use.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	added   chan struct{} // closed and replaced whenever a waiter is added
}

type waiter struct {
	at time.Time
	c  chan time.Time
}

// NewFakeClock returns a FakeClock reading t0.
func NewFakeClock(t0 time.Time) *FakeClock {
	return &FakeClock{now: t0, added: make(chan struct{})}
}

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives the clock's time once it has
// moved d past now; at once when d <= 0.
func (c *FakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), c: ch})
	close(c.added)
	c.added = make(chan struct{})
	return ch
}

// Advance moves the clock d forward and fires the waiters it passed, in
// deadline order.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	t := c.now.Add(d)
	c.mu.Unlock()
	c.Set(t)
}

// Set moves the clock to t (backwards too: a wall clock may be reset) and
// fires the waiters whose deadline is not after t.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	sort.SliceStable(c.waiters, func(i, j int) bool { return c.waiters[i].at.Before(c.waiters[j].at) })
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(t) {
			kept = append(kept, w)
			continue
		}
		w.c <- t
	}
	clear(c.waiters[len(kept):])
	c.waiters = kept
}

// Waiters returns how many After channels have not fired yet.
func (c *FakeClock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// BlockUntil waits (on real time, at most timeout) until at least n
// waiters are pending, so that a test advances the clock only once the
// code under test waits on it. It reports whether they came.
func (c *FakeClock) BlockUntil(n int, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		got, added := len(c.waiters), c.added
		c.mu.Unlock()
		if got >= n {
			return true
		}
		select {
		case <-added:
		case <-deadline.C:
			return false
		}
	}
}
