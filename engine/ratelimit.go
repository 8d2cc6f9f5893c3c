package engine

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
// ceiling it adapts to throttling with AIMD: each throttle halves the
// effective rate, each successful write adds one item/s back.
type WriteLimiter struct {
	mu        sync.Mutex
	ceiling   func() int // items/s; 0 = unlimited
	lastCeil  int
	effective float64 // items/s; +Inf = unlimited
	lim       *rate.Limiter
	started   time.Time
	taken     int64
	throttles int64
	peak      float64 // observed rate at the first throttle (unlimited ceiling)
}

// Minimum rate AIMD may fall to, and the share of the reference rate each
// success adds back.
const (
	minWriteRate      = 1.0
	additiveIncrement = 0.01
)

// NewWriteLimiter returns a limiter whose ceiling is read from ceiling
// (items/s, 0 = unlimited) on every reservation.
func NewWriteLimiter(ceiling func() int) *WriteLimiter {
	w := &WriteLimiter{ceiling: ceiling, lim: rate.NewLimiter(rate.Inf, 1), effective: math.Inf(1)}
	w.lastCeil = -1
	return w
}

// stepCeiling returns the ceiling for sc: the operator's override, else
// the environment's max_write_rate.
func stepCeiling(sc *StepContext) func() int {
	return func() int {
		if sc.Control != nil {
			if r := sc.Control.Rate(); r > 0 {
				return r
			}
		}
		if sc.Env != nil {
			return sc.Env.MaxWriteRate
		}
		return 0
	}
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

// Wait blocks until the caller may write one item.
func (w *WriteLimiter) Wait(ctx context.Context) error {
	d := w.Reserve(time.Now())
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
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

// Throttled records a throttled write: the effective rate halves (from the
// observed rate when unlimited).
func (w *WriteLimiter) Throttled(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.throttles++
	eff := w.effective
	if math.IsInf(eff, 1) {
		eff = 2 * minWriteRate
		if el := now.Sub(w.started).Seconds(); el > 0 {
			eff = max(eff, float64(w.taken)/max(el, 0.1))
		}
		w.peak = max(w.peak, eff)
	}
	w.effective = max(minWriteRate, eff/2)
	w.apply(now)
}

// Succeeded records a successful write: the effective rate grows back
// additively towards the ceiling.
func (w *WriteLimiter) Succeeded(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if math.IsInf(w.effective, 1) {
		return
	}
	ref := w.peak
	if w.lastCeil > 0 {
		ref = float64(w.lastCeil)
	}
	next := w.effective + max(1, ref*additiveIncrement)
	if w.lastCeil > 0 {
		next = min(next, float64(w.lastCeil))
	} else if next > 4*w.peak {
		next = math.Inf(1) // well past where it throttled: unlimited again
	}
	if next != w.effective {
		w.effective = next
		w.apply(now)
	}
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
