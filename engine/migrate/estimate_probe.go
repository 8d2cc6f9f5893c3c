package migrate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/throttle"
	"github.com/lockstep-run/lockstep/runbook"
)

// RateMeasured is the rate source of a write-path probe.
const RateMeasured = "measured"

// Write probe sizing: enough round trips to average out latency, few
// enough to finish in a second or two against a remote table.
const (
	probeWrites    = 200
	probeMaxTime   = 5 * time.Second
	probeImpossble = math.MinInt64 + 7 // no item ever has this version
)

// ProbeResult is the measured write-path throughput of an estimate.
type ProbeResult struct {
	Writes    int64   `json:"writes"`
	Throttles int64   `json:"throttles"`
	ElapsedMS int64   `json:"elapsed_ms"`
	Rate      float64 `json:"items_per_sec"`
	Workers   int     `json:"workers"`
	// Step is the migrate step whose own pages were run (see
	// probeMigrate), with its segments, page size and path; empty for
	// the generic probe of refused one-item writes.
	Step      string `json:"step,omitempty"`
	Segments  int    `json:"segments,omitempty"`
	BatchSize int    `json:"batch_size,omitempty"`
	Path      string `json:"path,omitempty"`
	Scanned   int64  `json:"scanned,omitempty"`
	// Fallback says why the probe measured refused one-item writes
	// instead of the migrate step's own pages; empty when it ran them.
	Fallback string `json:"fallback,omitempty"`
	// unprobed: the runbook has a migrate step the probe could not run,
	// so the figure is not that step's (the estimate warns).
	unprobed bool
}

// probeWriteRate measures the write path when the mode allows writes: it
// sends guarded updates whose condition can never hold (the version
// equals an impossible value) to real items, with the migration's
// concurrency and under its rate limit. The store does the full
// conditional-write round trip and refuses each one, so nothing changes;
// DynamoDB bills a failed conditional write like a write, which is what
// the migration will pay.
func probeWriteRate(ctx context.Context, sc *engine.StepContext, st engine.Store, key []string) (*ProbeResult, error) {
	n := int64(probeWrites)
	if c := sc.WriteCeiling()(); c > 0 {
		// Half a second's worth under the limit: a slower write path shows;
		// below 10 writes there is nothing to measure.
		if n = min(n, int64(c/2)); n < 10 {
			return nil, nil
		}
	}
	page, err := st.Scan(ctx, engine.ScanRequest{TotalSegments: 1, Limit: int(n)})
	if err != nil {
		return nil, fmt.Errorf("probe: read keys: %w", err)
	}
	if len(page.Items) == 0 {
		return nil, nil
	}
	workers := runbook.DefaultSegments
	vattr := runbook.DefaultVersionAttribute
	if sc.Env != nil && sc.Env.Store != nil && sc.Env.Store.VersionAttribute != "" {
		vattr = sc.Env.Store.VersionAttribute
	}
	lim := throttle.NewWriteLimiter(sc.WriteCeiling())
	ctx, cancel := context.WithTimeout(ctx, probeMaxTime)
	defer cancel()
	var next, writes, throttles atomic.Int64
	var firstErr error
	var errOnce sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if lim.Wait(ctx) != nil {
					return
				}
				it := page.Items[int(i)%len(page.Items)]
				err := st.Update(ctx, engine.Update{Key: engine.KeyOf(it, key), Version: probeImpossble,
					Guard: engine.Guard{VersionAttr: vattr, Equals: probeImpossble}})
				switch {
				case err == nil:
					// Cannot happen: no item has that version. Stop rather than
					// write again.
					errOnce.Do(func() { firstErr = errors.New("probe: an impossible condition held") })
					cancel()
					return
				case errors.Is(err, engine.ErrConditionFailed):
					writes.Add(1)
					lim.Succeeded(time.Now())
				case errors.Is(err, engine.ErrThrottled):
					throttles.Add(1)
					lim.Throttled(time.Now())
				case ctx.Err() != nil:
					return
				default:
					errOnce.Do(func() { firstErr = err })
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("probe: %w", firstErr)
	}
	el := time.Since(start)
	res := &ProbeResult{Writes: writes.Load(), Throttles: throttles.Load(), ElapsedMS: el.Milliseconds(), Workers: workers, Path: ProbeSingleRows}
	if res.Writes > 0 && el > 0 {
		res.Rate = round1(float64(res.Writes) / el.Seconds())
	}
	return res, nil
}
