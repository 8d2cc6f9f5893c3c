package engine

import (
	"context"
	"errors"
	"time"
)

// Retry bounds of the data steps' store calls.
const (
	MaxThrottleRetries = 30 // throttled attempts of one write before it counts as failed
	MaxTransient       = 4  // other errors of one write/read before it counts as failed
)

// PutRetry writes items, retrying throttles and transient errors with an
// exponential backoff (Backoff) waited on clock (nil: the system clock).
func PutRetry(ctx context.Context, clock Clock, st Store, items []Item) error {
	var err error
	for attempt := 0; attempt < MaxThrottleRetries; attempt++ {
		if err = st.Put(ctx, items); err == nil || ctx.Err() != nil {
			return err
		}
		if !errors.Is(err, ErrThrottled) && attempt >= MaxTransient {
			break
		}
		if serr := Sleep(ctx, clock, Backoff(attempt)); serr != nil {
			return serr
		}
	}
	return err
}

// Backoff is an exponential delay capped at 2 s.
func Backoff(attempt int) time.Duration {
	d := 20 * time.Millisecond << min(attempt, 7)
	return min(d, 2*time.Second)
}
