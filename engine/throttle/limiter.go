// Package throttle paces a data step's writes: WriteLimiter, the token
// bucket under max_write_rate that backs off on throttles (AIMD), and
// Inflight, the bound on writes in flight that adapts to their latency.
// It is pure: of this module it imports nothing, so engine and the step
// kinds can use it alike.
package throttle

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// WriteLimiter is the token bucket shared by every segment of a data step.
// Its ceiling is the environment's max_write_rate or the operator's live
// override (read on every Reserve, so a change applies at once); below the
// ceiling it adapts to throttling with AIMD in the style of DCTCP: once per
// epoch (decreaseEvery) that saw throttles, the effective rate drops by
// half the fraction of writes that were throttled — all throttled halves
// it, sporadic throttles (absorbed by per-item retries) barely move it —
// and each second of successful writes adds back recoverPerSecond of the
// reference rate (the ceiling, or the rate observed when throttling began).
// Many writers throttled at once thus count as one congestion signal, and
// a few percent of throttles cannot collapse the rate.
type WriteLimiter struct {
	mu        sync.Mutex
	ceiling   func() int // items/s; 0 = unlimited
	lastCeil  int
	effective float64 // items/s; +Inf = unlimited
	lim       *rate.Limiter
	started   time.Time
	taken     int64
	throttles int64

	ref          float64 // reference rate for the additive increase
	lastIncrease time.Time

	// the current epoch's outcomes
	epStart     time.Time
	epOK, epThr int64

	// observed success rate over a sliding ~1 s window, the starting point
	// when an unlimited limiter first throttles.
	winStart time.Time
	winCount int64
	winRate  float64

	through throughput // successes per second, as reported
}

// AIMD tuning.
const (
	minWriteRate     = 1.0
	decreaseEvery    = 500 * time.Millisecond
	recoverPerSecond = 0.25
	increaseEvery    = 50 * time.Millisecond
)

// NewWriteLimiter returns a limiter whose ceiling is read from ceiling
// (items/s, 0 = unlimited) on every reservation.
func NewWriteLimiter(ceiling func() int) *WriteLimiter {
	w := &WriteLimiter{ceiling: ceiling, lim: rate.NewLimiter(rate.Inf, 1), effective: math.Inf(1)}
	w.lastCeil = -1
	return w
}

// Reserve takes one token at now and returns how long the caller must wait
// before writing.
func (w *WriteLimiter) Reserve(now time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started.IsZero() {
		w.started = now
	}
	w.syncCeiling(now)
	w.taken++
	return w.lim.ReserveN(now, 1).DelayFrom(now)
}

// Wait blocks until the caller may write one item. The limiter paces
// real writes against a real store and adapts to the throughput it
// measures (items/s), so it runs on the monotonic clock, not the
// session's Clock.
func (w *WriteLimiter) Wait(ctx context.Context) error {
	d := w.Reserve(time.Now())
	if d <= 0 {
		return ctx.Err()
	}
	return sleepCtx(ctx, d)
}

// syncCeiling applies a changed ceiling: the effective rate restarts at it.
func (w *WriteLimiter) syncCeiling(now time.Time) {
	c := w.ceiling()
	if c == w.lastCeil {
		return
	}
	if w.lastCeil == -1 && c > 0 { // first use: the bucket starts full
		w.lim = rate.NewLimiter(rate.Limit(c), max(1, c/10))
	}
	w.lastCeil = c
	if c <= 0 {
		w.effective = math.Inf(1)
	} else {
		w.effective = float64(c)
	}
	w.apply(now)
}

func (w *WriteLimiter) apply(now time.Time) {
	if math.IsInf(w.effective, 1) {
		w.lim.SetLimitAt(now, rate.Inf)
		return
	}
	burst := max(1, int(w.effective/10))
	w.lim.SetLimitAt(now, rate.Limit(w.effective))
	w.lim.SetBurstAt(now, burst)
}

// Chunk returns how many writes the limiter lets through in about a
// tenth of a second at its effective rate (its burst), 0 when unlimited:
// the size of the batches a page commits in under a write limit.
func (w *WriteLimiter) Chunk() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.syncCeiling(time.Now())
	if math.IsInf(w.effective, 1) {
		return 0
	}
	return w.lim.Burst()
}

// Throttled records a throttled write.
func (w *WriteLimiter) Throttled(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.throttles++
	w.epThr++
	w.endEpoch(now)
}

// Succeeded records a successful write.
func (w *WriteLimiter) Succeeded(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count(now)
	w.through.add(now)
	w.epOK++
	w.endEpoch(now)
	w.increase(now)
}

// endEpoch closes the epoch once it is decreaseEvery old: if it saw
// throttles, the effective rate drops by half their share of its writes.
func (w *WriteLimiter) endEpoch(now time.Time) {
	if w.epStart.IsZero() {
		w.epStart = now
		return
	}
	if now.Sub(w.epStart) < decreaseEvery {
		return
	}
	thr, ok := w.epThr, w.epOK
	w.epStart, w.epThr, w.epOK = now, 0, 0
	if thr == 0 {
		return
	}
	frac := float64(thr) / float64(thr+ok)
	eff := w.effective
	switch {
	case math.IsInf(eff, 1):
		eff = max(2*minWriteRate, w.observed(now))
		w.ref = eff
	case w.lastCeil > 0:
		w.ref = float64(w.lastCeil)
	case w.ref == 0:
		w.ref = eff
	}
	w.effective = max(minWriteRate, eff*(1-frac/2))
	w.lastIncrease = now
	w.apply(now)
}

// increase adds back, in proportion to the time since the last increase,
// a share of the reference rate, up to the ceiling — or back to unlimited
// once well past where it throttled.
func (w *WriteLimiter) increase(now time.Time) {
	if math.IsInf(w.effective, 1) {
		return
	}
	dt := now.Sub(w.lastIncrease)
	if dt < increaseEvery {
		return
	}
	w.lastIncrease = now
	next := w.effective + max(minWriteRate, w.ref*recoverPerSecond*dt.Seconds())
	if w.lastCeil > 0 {
		next = min(next, float64(w.lastCeil))
	} else if next > 2*w.ref {
		next = math.Inf(1)
	}
	if next != w.effective {
		w.effective = next
		w.apply(now)
	}
}

// count adds a success to the sliding window.
func (w *WriteLimiter) count(now time.Time) {
	if w.winStart.IsZero() {
		w.winStart = now
	}
	w.winCount++
	if el := now.Sub(w.winStart); el >= time.Second {
		w.winRate = float64(w.winCount) / el.Seconds()
		w.winStart, w.winCount = now, 0
	}
}

// observed returns the recent success rate in items/s.
func (w *WriteLimiter) observed(now time.Time) float64 {
	if el := now.Sub(w.winStart).Seconds(); el >= 0.25 && !w.winStart.IsZero() {
		return max(w.winRate, float64(w.winCount)/el)
	}
	if w.winRate > 0 {
		return w.winRate
	}
	if el := now.Sub(w.started).Seconds(); el > 0 {
		return float64(w.taken) / max(el, 0.1)
	}
	return 2 * minWriteRate
}

// Limit returns the effective rate in items/s (0 = unlimited).
func (w *WriteLimiter) Limit() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if math.IsInf(w.effective, 1) {
		return 0
	}
	return w.effective
}

// Rate returns the rate that actually gets through: successful writes
// per second over the last rateWindow (since the first success when more
// recent), whatever the ceiling or the effective limit. 0 before any.
func (w *WriteLimiter) Rate(now time.Time) float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.through.rate(now)
}

// Taken returns how many tokens were reserved.
func (w *WriteLimiter) Taken() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.taken
}

// Throttles returns how many throttled writes were recorded.
func (w *WriteLimiter) Throttles() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.throttles
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
