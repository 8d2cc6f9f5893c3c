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

// option is a per-call dynamodb option adding the counting middleware
// after the SDK's retry middleware, so that it runs once per attempt.
func (c *attemptCounter) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("lockstep.countAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				c.n++
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}
