package migrate

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/lockstep-run/lockstep/engine"
)

// ErrStopScan ends ScanAll early without an error.
var ErrStopScan = errors.New("stop scan")

// DataSegments is how many parallel segments the read-only data steps
// (backup, verify, estimate) scan with.
const DataSegments = 4

// MaxListedKeys bounds the item keys a data step's result lists (defects
// found by verify, items estimate could not transform).
const MaxListedKeys = 10

// ScanAll reads every item of st with a parallel scan of segments
// segments and calls fn for each page's items, one call at a time. fn
// returning ErrStopScan ends the scan early. Throttled and transient read
// errors are retried with backoff, waited on clock. Reads are eventually
// consistent: a write made just before may not be seen (see
// ScanAllConsistent).
func ScanAll(ctx context.Context, clock engine.Clock, st engine.Store, segments, limit int, fn func(items []engine.Item) error) error {
	return scanEach(ctx, clock, st, engine.ScanRequest{TotalSegments: segments, Limit: limit}, fn)
}

// ScanAllConsistent is ScanAll with strongly consistent reads (twice the
// read capacity on DynamoDB), for the steps whose answer depends on seeing
// every write made before they started: the backup export, the restore
// drill's read-back of the table it just imported, verify's counts.
func ScanAllConsistent(ctx context.Context, clock engine.Clock, st engine.Store, segments, limit int, fn func(items []engine.Item) error) error {
	return scanEach(ctx, clock, st, engine.ScanRequest{TotalSegments: segments, Limit: limit, Consistent: true}, fn)
}

// scanEach runs the parallel scan of ScanAll; base gives the segment
// count, page limit and consistency of every request.
func scanEach(ctx context.Context, clock engine.Clock, st engine.Store, base engine.ScanRequest, fn func(items []engine.Item) error) error {
	segments := base.TotalSegments
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, segments)
	for seg := range segments {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var cursor []byte
			for {
				req := base
				req.Segment, req.Cursor = seg, cursor
				page, err := ScanRetry(ctx, clock, st, req)
				if err != nil {
					errs[seg] = err
					cancel()
					return
				}
				mu.Lock()
				err = fn(page.Items)
				mu.Unlock()
				if err != nil {
					errs[seg] = err
					cancel()
					return
				}
				if page.Next == nil {
					return
				}
				cursor = page.Next
			}
		}()
	}
	wg.Wait()
	var first error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, ErrStopScan):
			return nil
		case errors.Is(err, context.Canceled) && first == nil:
			first = err
		case !errors.Is(err, context.Canceled):
			return err
		}
	}
	if first != nil {
		return fmt.Errorf("scan: %w", first)
	}
	return nil
}

// ScanRetry reads one page, retrying throttles and transient errors with
// an exponential backoff (engine.Backoff) waited on clock (nil: the system clock).
func ScanRetry(ctx context.Context, clock engine.Clock, st engine.Store, req engine.ScanRequest) (engine.Page, error) {
	var last error
	for attempt := 0; attempt < engine.MaxThrottleRetries; attempt++ {
		page, err := st.Scan(ctx, req)
		if err == nil {
			return page, nil
		}
		if ctx.Err() != nil {
			return engine.Page{}, ctx.Err()
		}
		last = err
		if !errors.Is(err, engine.ErrThrottled) && attempt >= engine.MaxTransient {
			break
		}
		if err := engine.Sleep(ctx, clock, engine.Backoff(attempt)); err != nil {
			return engine.Page{}, err
		}
	}
	return engine.Page{}, fmt.Errorf("scan segment %d: %w", req.Segment, last)
}
