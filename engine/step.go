package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

// SkipError is returned by an executor when the operator answered one of
// its prompts with a skip: the step ends as skipped with Reason.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// runStep runs one top-level step to a final state, asking the operator
// what to do about interruptions and failures.
func (s *Session) runStep(ctx context.Context, step *runbook.Step) *halt {
	if h := s.boundary(ctx); h != nil {
		return h
	}
	ss := s.stepState(step.ID)
	resumed, ask := false, ss.Status == StepFailed
	switch ss.Status {
	case StepInterrupted, StepRunning:
		if reason, ok := s.preSkip(step); ok {
			return s.operatorSkip(ctx, step.ID, reason)
		}
		act, h := s.onInterrupted(ctx, step)
		if h != nil || act != ActionRetry {
			return h
		}
		resumed = true
	case StepPending:
		reason, unmet, err := s.autoSkipReason(step)
		if err != nil {
			return s.failUnrunnable(ctx, step, err)
		}
		if reason != "" {
			return s.haltOn(s.autoSkip(ctx, step, reason, unmet))
		}
		if reason, ok := s.preSkip(step); ok {
			return s.operatorSkip(ctx, step.ID, reason)
		}
		if h, skipped := s.confirmStep(ctx, step); h != nil || skipped {
			return h
		}
	}
	if step.Destructive && !ask {
		if h := s.confirmDestructive(ctx, step); h != nil || s.status(step.ID) == StepSkipped {
			return h
		}
	}
	lastErr := errors.New(ss.Error)
	for {
		if ask {
			act, h := s.onFailed(ctx, step, lastErr)
			if h != nil || act != ActionRetry {
				return h
			}
			if h := s.boundary(ctx); h != nil {
				return h
			}
		}
		status, err := s.execute(ctx, step, nil, resumed)
		switch status {
		case StepDone, StepSkipped:
			return s.haltOn(err)
		case StepInterrupted:
			if h := s.haltFor(ctx, err); h != nil {
				return h
			}
			return &halt{outcome: OutcomeStopped}
		}
		if jErr := (*journalError)(nil); errors.As(err, &jErr) {
			if IsJournalStop(err) { // a full journal: resumable once fixed
				return &halt{OutcomeStopped, err}
			}
			return &halt{OutcomeFailed, err}
		}
		lastErr, ask, resumed = err, true, false
	}
}

func (s *Session) haltOn(err error) *halt {
	if err != nil {
		return &halt{OutcomeFailed, err}
	}
	return nil
}

// execute journals step.start, runs the executor and journals step.end. of
// is set for a rollback step. The returned status is done, skipped,
// failed or interrupted; err is the executor's error.
func (s *Session) execute(ctx context.Context, step, of *runbook.Step, resumed bool) (StepStatus, error) {
	kind := s.cfg.Steps[step.Kind]
	ex := kind.Executor
	attempt := s.attempts(step, of) + 1
	start := StepStarted{StepKind: string(step.Kind), Attempt: attempt, Phase: step.Phase, Resumed: resumed}
	if of != nil {
		start.Phase, start.RollbackOf = "rollback", of.ID
	}
	if err := s.emit(ctx, NewEvent(step.ID, start)); err != nil {
		return StepFailed, err
	}
	stepCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if step.Timeout > 0 {
		var stopTimer context.CancelFunc
		stepCtx, stopTimer = context.WithTimeoutCause(stepCtx, step.Timeout, fmt.Errorf("timed out after %s", step.Timeout))
		defer stopTimer()
	}
	if !kind.Data {
		s.setInterrupt(cancel)
	}
	t0 := time.Now()
	var result any
	var err error
	if ex == nil {
		err = fmt.Errorf("%w %q: this build cannot run it", ErrNoExecutor, step.Kind)
	} else {
		sc := s.stepContext(ctx, step, of, attempt, resumed)
		// A resumed session takes back the leases its lock steps held
		// before the stop (a no-op when it holds them or never locked).
		if err = ResumeLeases(stepCtx, sc); err == nil {
			result, err = ex.Execute(stepCtx, sc)
		}
	}
	s.setInterrupt(nil)
	end := stepEnd{Status: StepDone, DurationMS: new(time.Since(t0).Milliseconds())}
	var skip *SkipError
	switch {
	case err == nil:
	case errors.As(err, &skip):
		if e := s.emit(ctx, NewEvent(step.ID, StepSkip{Reason: skip.Reason})); e != nil {
			return StepFailed, e
		}
		end.Status, end.Reason, err = StepSkipped, skip.Reason, nil
	case s.isStop(ctx, err) || errors.Is(context.Cause(stepCtx), ErrAborted):
		end.Status, end.Error = StepInterrupted, s.redactor.Redact(err.Error())
	default:
		if cause := context.Cause(stepCtx); stepCtx.Err() != nil && cause != nil && !errors.Is(err, cause) {
			err = fmt.Errorf("%w: %w", cause, err)
		}
		if errors.Is(err, runbook.ErrUnsetVar) {
			// A ${VAR} of the step's fields, read when it runs.
			err = fmt.Errorf("%s at %s: %w; export it, then resume the session", step.ID, step.Pos, err)
		}
		end.Status, end.Error = StepFailed, s.redactor.Redact(err.Error())
	}
	if result != nil && end.Status != StepInterrupted {
		b, mErr := json.Marshal(result)
		if mErr != nil {
			b, _ = json.Marshal(map[string]string{"marshal_error": mErr.Error()})
		}
		end.Result = b
	}
	if e := s.emit(ctx, NewEvent(step.ID, end)); e != nil {
		return StepFailed, errors.Join(err, e)
	}
	return end.Status, err
}

func (s *Session) attempts(step, of *runbook.Step) int {
	if of != nil {
		return 0
	}
	return s.stepState(step.ID).Attempts
}

// autoSkipReason says why the runbook itself skips a pending step: an
// unmet step requirement, a false `when:`, or a dry-run of a kind that
// does not run in dry-run. unmet is set for an unmet requirement.
func (s *Session) autoSkipReason(step *runbook.Step) (reason string, unmet bool, err error) {
	for _, id := range step.Requires {
		if !s.requirementMet(id) {
			return fmt.Sprintf("requires: %s not done", id), true, nil
		}
	}
	if step.When != nil {
		ok, err := step.When.EvalBool(s.exprEnv())
		if err != nil {
			return "", false, fmt.Errorf("when: %w", err)
		}
		if !ok {
			return fmt.Sprintf("when: %s is false", step.When.Source), false, nil
		}
	}
	if s.cfg.Mode == ModeDryRun && s.cfg.Steps[step.Kind].DryRunSkipped {
		return "dry-run", false, nil
	}
	return "", false, nil
}

// requirementMet reports whether the step id satisfies a `requires:`: it
// is done, or, in a dry-run, it is a kind a dry-run skips (a backup, a
// lock) so that what depends on it still shows what it would do.
func (s *Session) requirementMet(id string) bool {
	ss := s.stepState(id)
	if ss.Status == StepDone {
		return true
	}
	return s.cfg.Mode == ModeDryRun && ss.Status == StepSkipped && !ss.OperatorSkip && !ss.Unmet &&
		s.cfg.Steps[ss.Step.Kind].DryRunSkipped
}

// autoSkip journals a step skipped by the runbook (not by the operator);
// unmet marks a skip for an unmet requirement.
func (s *Session) autoSkip(ctx context.Context, step *runbook.Step, reason string, unmet bool) error {
	return s.emit(ctx, NewEvent(step.ID, StepEnded{Status: StepSkipped, Reason: reason, Unmet: unmet, DurationMS: new(int64(0))}))
}

// failUnrunnable ends a step that cannot even start (its `when:` does not
// evaluate): the session fails with the error.
func (s *Session) failUnrunnable(ctx context.Context, step *runbook.Step, err error) *halt {
	if e := s.emit(ctx, NewEvent(step.ID, StepEnded{Status: StepFailed, Error: err.Error(), DurationMS: new(int64(0))})); e != nil {
		err = errors.Join(err, e)
	}
	return &halt{OutcomeFailed, fmt.Errorf("step %s: %w", step.ID, err)}
}

// confirmDestructive asks before a destructive step. Refusing stops the
// session resumably; a skip answer skips the step.
func (s *Session) confirmDestructive(ctx context.Context, step *runbook.Step) *halt {
	ans, err := s.ask(ctx, Prompt{
		Kind: PromptDestructive, Step: step.ID, Title: fmt.Sprintf("%s is destructive: run it?", step.ID),
		Text: step.Text, Key: step.ID + ".confirm",
	})
	if err != nil {
		if h := s.haltFor(ctx, err); h != nil {
			return h
		}
		return &halt{OutcomeFailed, err}
	}
	if ans.Action == ActionSkip {
		return s.operatorSkip(ctx, step.ID, ans.Reason)
	}
	if err := s.emit(ctx, NewEvent(step.ID, Confirmed{What: "destructive", Value: ans.Confirm})); err != nil {
		return &halt{OutcomeFailed, err}
	}
	if !ans.Confirm {
		return &halt{outcome: OutcomeStopped}
	}
	return nil
}

// preSkip reports a skip the operator decided before the step came up
// (see PreSkipper).
func (s *Session) preSkip(step *runbook.Step) (string, bool) {
	ps, ok := s.cfg.Prompter.(PreSkipper)
	if !ok {
		return "", false
	}
	return ps.PreSkip(step.ID)
}

// operatorSkip journals a skip chosen by the operator; the reason is mandatory.
func (s *Session) operatorSkip(ctx context.Context, id, reason string) *halt {
	if reason == "" {
		return &halt{OutcomeFailed, fmt.Errorf("skip %s: %w", id, ErrReasonRequired)}
	}
	return s.haltOn(s.emit(ctx, NewEvent(id, StepSkip{Reason: reason})))
}

// MaxAttempts is how many times a failing step may run before retry is no
// longer offered (skip, abort or roll back remain).
const MaxAttempts = 10

// MaxAsks bounds how often an invalid answer is asked again (by the session
// and by the executors in engine/steps); a front end
// replaying an answers file would otherwise loop forever.
const MaxAsks = 3

// onFailed asks what to do about a failed step: retry, skip with a
// reason, abort or roll back.
func (s *Session) onFailed(ctx context.Context, step *runbook.Step, cause error) (Action, *halt) {
	p := Prompt{
		Kind: PromptFailed, Step: step.ID, Title: fmt.Sprintf("%s failed: %s", step.ID, cause),
		Text: step.Text, Key: step.ID + ".retry|skip|abort",
	}
	allowed := []Action{ActionRetry, ActionSkip, ActionAbort, ActionRollback}
	if n := s.stepState(step.ID).Attempts; n >= MaxAttempts {
		// An answers file saying retry: true must not loop forever.
		allowed = allowed[1:]
		p.Text += fmt.Sprintf("\n\n(%d attempts: retry is no longer offered)", n)
	}
	return s.askAction(ctx, step.ID, p, allowed)
}

// onInterrupted journals step.interrupted and decides how to continue:
// migrate steps continue from their checkpoints, idempotent and rerun-safe
// steps re-run, others ask (retry, mark done with a reason, skip with a reason).
func (s *Session) onInterrupted(ctx context.Context, step *runbook.Step) (Action, *halt) {
	if err := s.emit(ctx, NewEvent(step.ID, StepInterruption{StepKind: string(step.Kind)})); err != nil {
		return ActionNone, &halt{OutcomeFailed, err}
	}
	if auto := s.autoResume(step); auto != "" {
		return ActionRetry, s.journalAction(ctx, step.ID, Answer{Action: ActionRetry, Reason: auto})
	}
	p := Prompt{
		Kind: PromptInterrupted, Step: step.ID,
		Title: fmt.Sprintf("%s was interrupted: it may have partly run", step.ID),
		Text:  step.Text, Key: step.ID + ".retry|done|skip",
	}
	return s.askAction(ctx, step.ID, p, []Action{ActionRetry, ActionDone, ActionSkip})
}

// autoResume says why an interrupted step continues without asking ("" : ask).
func (s *Session) autoResume(step *runbook.Step) string {
	switch {
	case step.Kind == runbook.KindMigrate:
		return "interrupted: migrate continues from its checkpoints"
	case step.Idempotent:
		return "interrupted: idempotent, re-run"
	case s.cfg.Steps[step.Kind].RerunSafe:
		return "interrupted: " + string(step.Kind) + " steps are safe to re-run"
	}
	return ""
}

// askAction asks p until the answer is one of allowed with the reason it
// needs, journals the choice and returns it. A halt ends the run loop.
func (s *Session) askAction(ctx context.Context, id string, p Prompt, allowed []Action) (Action, *halt) {
	for range MaxAsks {
		ans, err := s.ask(ctx, p)
		if err != nil {
			if h := s.haltFor(ctx, err); h != nil {
				return ActionNone, h
			}
			return ActionNone, &halt{OutcomeFailed, err}
		}
		switch {
		case !slicesContains(allowed, ans.Action):
			p.Retry = fmt.Sprintf("answer one of %v", allowed)
		case (ans.Action == ActionSkip || ans.Action == ActionDone) && ans.Reason == "":
			p.Retry = fmt.Sprintf("%s needs a reason", ans.Action)
		default:
			return ans.Action, s.journalAction(ctx, id, ans)
		}
	}
	return ActionNone, &halt{OutcomeStopped, fmt.Errorf("%s: %w: %s", id, ErrInvalidAnswer, p.Retry)}
}

func (s *Session) journalAction(ctx context.Context, id string, ans Answer) *halt {
	switch ans.Action {
	case ActionRetry:
		return s.haltOn(s.emit(ctx, NewEvent(id, StepRetry{Reason: ans.Reason})))
	case ActionSkip:
		return s.operatorSkip(ctx, id, ans.Reason)
	case ActionDone:
		return s.haltOn(s.emit(ctx, NewEvent(id, StepMarkDone{Reason: ans.Reason})))
	case ActionAbort:
		if err := s.emit(ctx, NewEvent(id, Aborted{Reason: ans.Reason})); err != nil {
			return &halt{OutcomeFailed, err}
		}
		return &halt{outcome: OutcomeAborted}
	case ActionRollback:
		if err := s.emit(ctx, NewEvent(id, RollbackRequested{Reason: ans.Reason})); err != nil {
			return &halt{OutcomeFailed, err}
		}
		return s.rollback(ctx, ans.Reason)
	}
	return nil
}

func slicesContains(list []Action, a Action) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}
