package steps

import (
	"context"
	"fmt"
	"github.com/lockstep-run/lockstep/engine"
	"slices"
)

// runDecision asks the operator to pick one of the choices with a
// mandatory rationale and journals it. Same in every mode.
func runDecision(ctx context.Context, sc *engine.StepContext) (any, error) {
	var choices []string
	if sc.Step.Decision != nil {
		choices = sc.Step.Decision.Choices
	}
	ans, err := askValid(ctx, sc, engine.Prompt{
		Kind: engine.PromptDecision, Title: sc.Step.ID, Text: sc.Step.Text, Choices: choices,
		Key: sc.Step.ID + ".choice",
	}, func(a engine.Answer) string {
		switch {
		case !slices.Contains(choices, a.Choice):
			return fmt.Sprintf("choose one of %v (got %q)", choices, a.Choice)
		case a.Reason == "":
			return "a decision needs a rationale (reason)"
		}
		return ""
	})
	if err != nil {
		return nil, fmt.Errorf("decision %s: %w", sc.Step.ID, err)
	}
	if err := sc.Emit(engine.NewEvent("", engine.Decided{Choice: ans.Choice, Reason: ans.Reason})); err != nil {
		return nil, err
	}
	return map[string]any{"choice": ans.Choice, "reason": ans.Reason}, nil
}
