package dynamo

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lockstep-run/lockstep/engine"
)

// Lease and maintenance-flag calls are few and not paced by the engine's
// write limiter, and one failing at the wrong moment strands a lease (a
// throttled DeleteItem on unlock refused every later session until the
// lease expired). So each is retried here on throttling and on 5xx
// answers the SDK gave up on, with full-jitter exponential backoff,
// leaseAttempts times at most. Conditional writes are safe to repeat: a
// lost answer to an applied write meets its own session in the record.
const (
	leaseAttempts   = 10
	leaseBackoff    = 20 * time.Millisecond
	leaseMaxBackoff = time.Second
)

// retry runs call until it succeeds, fails for a reason a retry cannot
// change, leaseAttempts are spent or ctx is done. It returns the last
// error, translated.
func (s *Store) retry(ctx context.Context, call func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := translate(call(ctx))
		if err == nil || !retryable(err) || attempt == leaseAttempts {
			return err
		}
		if werr := sleepJitter(ctx, attempt); werr != nil {
			return errors.Join(err, werr)
		}
	}
}

// retryable reports throttling and server errors (5xx): the same request
// may succeed later.
func retryable(err error) bool {
	if errors.Is(err, engine.ErrThrottled) {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() >= http.StatusInternalServerError
}

// sleepJitter waits a random time up to leaseBackoff·2^attempt (capped
// at leaseMaxBackoff), so sessions throttled together do not retry in
// step.
func sleepJitter(ctx context.Context, attempt int) error {
	ceil := min(leaseBackoff<<min(attempt, 10), leaseMaxBackoff)
	t := time.NewTimer(time.Duration(rand.Int64N(int64(ceil)) + 1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// updateRetry runs one UpdateItem of a lease or flag with retry.
func (s *Store) updateRetry(ctx context.Context, in *dynamodb.UpdateItemInput) error {
	return s.retry(ctx, func(ctx context.Context) error {
		_, err := s.api.UpdateItem(ctx, in)
		return err
	})
}
