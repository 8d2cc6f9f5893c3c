package engine

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Retry bounds of the data steps' store calls.
const (
	maxThrottleRetries = 30 // throttled attempts of one write before it counts as failed
	maxTransient       = 4  // other errors of one write/read before it counts as failed
)

// ScanRetry reads one page, retrying throttles and transient errors with
// an exponential backoff waited on clock (nil: the system clock).
func ScanRetry(ctx context.Context, clock Clock, st Store, req ScanRequest) (Page, error) {
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
		if err := sleep(ctx, clock, backoff(attempt)); err != nil {
			return Page{}, err
		}
	}
	return Page{}, fmt.Errorf("scan segment %d: %w", req.Segment, last)
}

// PutRetry writes items, retrying throttles and transient errors with an
// exponential backoff waited on clock (nil: the system clock).
func PutRetry(ctx context.Context, clock Clock, st Store, items []Item) error {
	var err error
	for attempt := 0; attempt < maxThrottleRetries; attempt++ {
		if err = st.Put(ctx, items); err == nil || ctx.Err() != nil {
			return err
		}
		if !errors.Is(err, ErrThrottled) && attempt >= maxTransient {
			break
		}
		if serr := sleep(ctx, clock, backoff(attempt)); serr != nil {
			return serr
		}
	}
	return err
}

// backoff is an exponential delay capped at 2 s.
func backoff(attempt int) time.Duration {
	d := 20 * time.Millisecond << min(attempt, 7)
	return min(d, 2*time.Second)
}
