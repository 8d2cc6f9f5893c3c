package throttle

import (
	"context"
	"time"
)

// ReserveN takes n tokens at now, as n calls of Reserve would, under one
// lock, and returns how long the caller must wait before its last write.
func (w *WriteLimiter) ReserveN(now time.Time, n int) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started.IsZero() {
		w.started = now
	}
	w.syncCeiling(now)
	// The tokens go in chunks of at most the burst (a larger reservation
	// is refused): the limiter's accounting is linear, so a chunk leaves
	// it as that many one-token reservations would, and the last chunk's
	// delay is the last token's.
	var d time.Duration
	chunk := max(w.lim.Burst(), 1)
	for left := n; left > 0; {
		k := min(left, chunk)
		w.taken += int64(k)
		d = max(d, w.lim.ReserveN(now, k).DelayFrom(now))
		left -= k
	}
	return d
}

// WaitN blocks until the caller may have written n items: the pushed-down
// page of a SQL store writes its rows in one statement and takes their
// tokens at once, rather than calling Wait for each row.
func (w *WriteLimiter) WaitN(ctx context.Context, n int) error {
	if n <= 0 {
		return ctx.Err()
	}
	d := w.ReserveN(time.Now(), n)
	if d <= 0 {
		return ctx.Err()
	}
	return sleepCtx(ctx, d)
}

// SucceededN records n successful writes at now, as n calls of
// Succeeded would, under one lock.
func (w *WriteLimiter) SucceededN(n int, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for range n {
		w.count(now)
		w.through.add(now)
		w.epOK++
		w.endEpoch(now)
		w.increase(now)
	}
}
