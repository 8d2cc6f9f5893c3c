package throttle

import "time"

// The measured write rate: successes counted in rateBuckets buckets of
// rateBucket each, a ring covering rateWindow.
const (
	rateBucket  = 100 * time.Millisecond
	rateBuckets = 20
	rateWindow  = rateBucket * rateBuckets
)

// throughput counts successful writes over a sliding window. Not safe for
// concurrent use: WriteLimiter's mutex guards it.
type throughput struct {
	first  time.Time // the first success
	head   int64     // index (time/rateBucket) of the newest bucket
	counts [rateBuckets]int64
}

// add counts one success at now.
func (t *throughput) add(now time.Time) {
	if t.first.IsZero() {
		t.first = now
	}
	t.advance(now)
	t.counts[t.head%rateBuckets]++
}

// advance moves the ring to now's bucket, emptying the ones it passes.
func (t *throughput) advance(now time.Time) {
	idx := now.UnixNano() / int64(rateBucket)
	if idx <= t.head {
		return
	}
	for i := t.head + 1; i <= idx && i <= t.head+rateBuckets; i++ {
		t.counts[i%rateBuckets] = 0
	}
	t.head = idx
}

// rate returns the successes per second over the window ending at now.
func (t *throughput) rate(now time.Time) float64 {
	if t.first.IsZero() {
		return 0
	}
	t.advance(now)
	var n int64
	for _, c := range t.counts {
		n += c
	}
	span := min(rateWindow, now.Sub(t.first))
	if span < rateBucket {
		span = rateBucket
	}
	return float64(n) / span.Seconds()
}
