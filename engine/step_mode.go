package engine

import (
	"context"
	"fmt"

	"github.com/lockstep-run/lockstep/runbook"
)

// automated reports whether steps of kind run without the operator (a
// manual step, a decision or an approval asks anyway): the kinds
// step-by-step mode asks about.
func automated(kind runbook.Kind) bool {
	switch kind {
	case runbook.KindManual, runbook.KindDecision, runbook.KindApproval:
		return false
	}
	return true
}

// confirmStep asks, in step-by-step mode (Config.StepByStep), whether to
// run an automated step that is about to start. The answer is journaled:
// run as confirmed "step", skip as the operator's skip with its reason
// (skipped is then true). A closed prompt halts the session as any other.
func (s *Session) confirmStep(ctx context.Context, step *runbook.Step) (h *halt, skipped bool) {
	if !s.cfg.StepByStep || !automated(step.Kind) {
		return nil, false
	}
	ans, err := s.ask(ctx, Prompt{
		Kind: PromptStep, Step: step.ID, Title: fmt.Sprintf("run %s (%s)?", step.ID, step.Kind),
		Text: step.Text, Key: step.ID + ".run",
	})
	if err != nil {
		if h := s.haltFor(ctx, err); h != nil {
			return h, true
		}
		return &halt{OutcomeFailed, err}, true
	}
	if ans.Action == ActionSkip {
		return s.operatorSkip(ctx, step.ID, ans.Reason), true
	}
	if err := s.emit(ctx, NewEvent(step.ID, Confirmed{What: "step", Value: ans.Confirm})); err != nil {
		return &halt{OutcomeFailed, err}, true
	}
	if !ans.Confirm {
		return &halt{outcome: OutcomeStopped}, true
	}
	return nil, false
}
