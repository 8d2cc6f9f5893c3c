package steps

import (
	"context"
	"fmt"
	"github.com/lockstep-run/lockstep/engine"
)

// askValid asks p through sc until check accepts the answer (check returns
// "" for a valid answer, else why it is not), at most engine.MaxAsks times. A skip
// answer with a reason ends the step as skipped (a *SkipError); a skip
// without one is asked again.
func askValid(ctx context.Context, sc *engine.StepContext, p engine.Prompt, check func(engine.Answer) string) (engine.Answer, error) {
	for range engine.MaxAsks {
		ans, err := sc.Ask(ctx, p)
		if err != nil {
			return ans, err
		}
		if ans.Action == engine.ActionSkip {
			if ans.Reason != "" {
				return ans, &engine.SkipError{Reason: ans.Reason}
			}
			p.Retry = "a skip needs a reason"
			continue
		}
		if p.Retry = check(ans); p.Retry == "" {
			return ans, nil
		}
	}
	// The executor wraps this with its kind and step id.
	return engine.Answer{}, fmt.Errorf("%w: %s", engine.ErrInvalidAnswer, p.Retry)
}
