package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// attemptCounter counts the HTTP attempts the SDK makes for one call
// (its retries of 5xx answers and dropped connections included): a
// conditional write refused on a later attempt may have applied on an
// earlier one whose answer was lost.
type attemptCounter struct{ n int }

// attemptsKey is the context key of the call's attemptCounter.
type attemptsKey struct{}

// countAttempts returns ctx carrying c: the client's counting middleware
// (countAttemptsOption) counts the call's attempts into it. A context
// value costs one allocation per call, where a per-call option copies
// the client's options and rebuilds its middleware list.
func (c *attemptCounter) context(ctx context.Context) context.Context {
	return context.WithValue(ctx, attemptsKey{}, c)
}

// countAttemptsOption is a client option adding the counting middleware
// after the SDK's retry middleware, so that it runs once per attempt of
// a call whose context carries an attemptCounter.
func countAttemptsOption(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("lockstep.countAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if c, ok := ctx.Value(attemptsKey{}).(*attemptCounter); ok {
					c.n++
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}
