package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// errStopScan ends scanAll early without an error.
var errStopScan = errors.New("stop scan")

// dataSegments is how many parallel segments the read-only data steps
// (backup, verify, estimate) scan with.
const dataSegments = 4

// scanAll reads every item of st with a parallel scan of segments
// segments and calls fn for each page's items, one call at a time. fn
// returning errStopScan ends the scan early. Throttled and transient read
// errors are retried with backoff. Reads are eventually consistent: a
// write made just before may not be seen (see scanAllConsistent).
func scanAll(ctx context.Context, st Store, segments, limit int, fn func(items []Item) error) error {
	return scanEach(ctx, st, ScanRequest{TotalSegments: segments, Limit: limit}, fn)
}

// scanAllConsistent is scanAll with strongly consistent reads (twice the
// read capacity on DynamoDB), for the steps whose answer depends on seeing
// every write made before they started: the backup export, the restore
// drill's read-back of the table it just imported, verify's counts.
func scanAllConsistent(ctx context.Context, st Store, segments, limit int, fn func(items []Item) error) error {
	return scanEach(ctx, st, ScanRequest{TotalSegments: segments, Limit: limit, Consistent: true}, fn)
}

// scanEach runs the parallel scan of scanAll; base gives the segment
// count, page limit and consistency of every request.
func scanEach(ctx context.Context, st Store, base ScanRequest, fn func(items []Item) error) error {
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
				page, err := scanRetry(ctx, st, req)
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
		case errors.Is(err, errStopScan):
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

// scanRetry reads one page, retrying throttles and transient errors.
func scanRetry(ctx context.Context, st Store, req ScanRequest) (Page, error) {
	var last error
	for attempt := 0; attempt < maxThrottleRetries; attempt++ {
		page, err := st.Scan(ctx, req)
		if err == nil {
			return page, nil
		}
		if ctx.Err() != nil {
			return Page{}, ctx.Err()
		}
		last = err
		if !errors.Is(err, ErrThrottled) && attempt >= maxTransient {
			break
		}
		if err := sleepCtx(ctx, backoff(attempt)); err != nil {
			return Page{}, err
		}
	}
	return Page{}, fmt.Errorf("scan segment %d: %w", req.Segment, last)
}

// openStore opens the environment's store for a data step.
func openStore(ctx context.Context, sc *StepContext) (Store, error) {
	if sc.Store == nil || sc.Env == nil || sc.Env.Store == nil {
		return nil, fmt.Errorf("%s %s: environment %s has no store", sc.Step.Kind, sc.Step.ID, envName(sc))
	}
	st, err := sc.Store(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s %s: open store: %w", sc.Step.Kind, sc.Step.ID, err)
	}
	return st, nil
}

func envName(sc *StepContext) string {
	if sc.Env == nil {
		return "?"
	}
	return sc.Env.Name
}

// emitOutput journals one line of step output.
func emitOutput(sc *StepContext, text string) error {
	if sc.Emit == nil {
		return nil
	}
	return sc.Emit(NewEvent(sc.Step.ID, Output{Stream: "stdout", Text: text}))
}

// emitWarning journals a warning.
func emitWarning(sc *StepContext, w Warning) error {
	if sc.Emit == nil {
		return nil
	}
	return sc.Emit(NewEvent(sc.Step.ID, w))
}
