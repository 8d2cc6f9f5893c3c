package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/lockstep-run/lockstep/runbook"
)

func init() { Register(runbook.KindManual, ExecutorFunc(runManual)) }

// runManual shows the step's text. With a checklist, every item must be
// ticked (each tick journaled as check.tick before it counts); without
// one, the operator acknowledges. Same in every mode.
func runManual(ctx context.Context, sc *StepContext) (any, error) {
	if len(sc.Step.Checklist) == 0 {
		_, err := askValid(ctx, sc, Prompt{
			Kind: PromptManual, Title: sc.Step.ID, Text: sc.Step.Text, Key: sc.Step.ID + ".confirm",
		}, func(a Answer) string {
			if !a.Confirm {
				return "acknowledge when done"
			}
			return ""
		})
		if err != nil {
			return nil, fmt.Errorf("manual %s: %w", sc.Step.ID, err)
		}
		return map[string]any{"acknowledged": true}, nil
	}
	ticked := make([]bool, len(sc.Step.Checklist))
	count := 0
	_, err := askValid(ctx, sc, Prompt{
		Kind: PromptChecklist, Title: sc.Step.ID, Text: sc.Step.Text,
		Checklist: sc.Step.Checklist, Key: sc.Step.ID + ".check",
	}, func(a Answer) string {
		for _, i := range a.Checked {
			if i < 0 || i >= len(ticked) || ticked[i] {
				continue
			}
			if err := sc.Emit(NewEvent(EvCheck, "", map[string]any{"index": i, "item": sc.Step.Checklist[i]})); err != nil {
				return "journal tick: " + err.Error()
			}
			ticked[i] = true
			count++
		}
		if count < len(ticked) {
			return fmt.Sprintf("%d of %d items ticked: tick them all", count, len(ticked))
		}
		return ""
	})
	if err != nil {
		return nil, fmt.Errorf("checklist %s: %w", sc.Step.ID, err)
	}
	return map[string]any{"checked": slices.Clone(sc.Step.Checklist)}, nil
}
