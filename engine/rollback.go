package engine

import (
	"context"
	"fmt"

	"github.com/lockstep-run/lockstep/runbook"
)

// rollback runs the `rollback:` steps of the completed steps in reverse
// run order, each with StepContext.Rollback set and journaled under the id
// "<id>.rollback", between rollback.start and rollback.end. A migrate step
// that was interrupted (the operator asked for the rollback while it ran)
// or failed has written part of the table: its rollback runs too. Steps
// without a rollback: stay as they are. A failed rollback step asks the
// operator (retry, skip with a reason, abort). The outcome is rolled-back.
func (s *Session) rollback(ctx context.Context, reason string) *halt {
	s.mu.Lock()
	s.ctl.rollback, s.ctl.aborted, s.ctl.paused = false, false, false
	started := s.state.RollingBack
	s.mu.Unlock()
	if !started {
		if err := s.emit(ctx, NewEvent("", RollbackStarted{Reason: reason})); err != nil {
			return &halt{OutcomeFailed, err}
		}
	}
	steps := s.rb.Steps()
	for i := len(steps) - 1; i >= 0; i-- {
		of := steps[i]
		if of.Rollback == nil || !s.toRollBack(of) {
			continue
		}
		if h := s.rollbackStep(ctx, of); h != nil {
			return h
		}
	}
	if err := s.emit(ctx, NewEvent("", RollbackEnded{})); err != nil {
		return &halt{OutcomeFailed, err}
	}
	return &halt{outcome: OutcomeRolledBack}
}

// toRollBack reports whether of has effects its rollback must undo: it is
// done, or it is a migrate step that started writing and did not finish.
// Its guarded writes make the rollback safe on a partly migrated table: it
// only touches items at the step's version. Other kinds that failed or
// were interrupted may have done nothing, or not what their rollback
// expects, so the operator handles them.
func (s *Session) toRollBack(of *runbook.Step) bool {
	switch s.status(of.ID) {
	case StepDone:
		return true
	case StepInterrupted, StepFailed, StepRunning:
		return of.Kind == runbook.KindMigrate
	}
	return false
}

func (s *Session) rollbackStep(ctx context.Context, of *runbook.Step) *halt {
	rb := *of.Rollback
	rb.ID, rb.Phase = of.ID+RollbackSuffix, of.Phase
	for {
		if h := s.rollbackBoundary(ctx); h != nil {
			return h
		}
		status, err := s.execute(ctx, &rb, of, false)
		switch status {
		case StepDone, StepSkipped:
			return s.haltOn(err)
		case StepInterrupted:
			if h := s.haltFor(ctx, err); h != nil {
				return h
			}
			return &halt{outcome: OutcomeStopped}
		}
		act, h := s.askAction(ctx, rb.ID, Prompt{
			Kind: PromptFailed, Step: rb.ID, Title: fmt.Sprintf("rollback of %s failed: %s", of.ID, err),
			Text: rb.Text, Key: of.ID + ".retry|skip|abort",
		}, []Action{ActionRetry, ActionSkip, ActionAbort})
		if h != nil || act != ActionRetry {
			return h
		}
	}
}

// rollbackBoundary is boundary during a rollback: a second rollback
// request is ignored, abort and quit stop it.
func (s *Session) rollbackBoundary(ctx context.Context) *halt {
	s.mu.Lock()
	s.ctl.rollback = false
	s.mu.Unlock()
	return s.boundary(ctx)
}
