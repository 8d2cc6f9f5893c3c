package engine

import (
	"context"
	"fmt"
)

// askValid asks p through sc until check accepts the answer (check returns
// "" for a valid answer, else why it is not), at most maxAsks times. A skip
// answer with a reason ends the step as skipped (a *SkipError); a skip
// without one is asked again.
func askValid(ctx context.Context, sc *StepContext, p Prompt, check func(Answer) string) (Answer, error) {
	for range maxAsks {
		ans, err := sc.Ask(ctx, p)
		if err != nil {
			return ans, err
		}
		if ans.Action == ActionSkip {
			if ans.Reason != "" {
				return ans, &SkipError{Reason: ans.Reason}
			}
			p.Retry = "a skip needs a reason"
			continue
		}
		if p.Retry = check(ans); p.Retry == "" {
			return ans, nil
		}
	}
	// The executor wraps this with its kind and step id.
	return Answer{}, fmt.Errorf("%w: %s", ErrInvalidAnswer, p.Retry)
}
