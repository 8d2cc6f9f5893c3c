package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lockstep-run/lockstep/runbook"
)

// halt ends the run loop with an outcome (and an error for the CLI).
type halt struct {
	outcome Outcome
	err     error
}

// Run executes the session's phases and steps in order until the runbook
// completes, a step fails for good, the operator aborts or rolls back, or
// the session stops resumably (ctx cancelled, a prompt returned ErrQuit, a
// destructive step was refused). It journals session.end with the outcome
// and ends the session in the journal. The error is non-nil for a missing
// answer (a *MissingAnswerError: exit 2) and for journal failures.
//
// Quit rule: when the session stops while a step runs (ctx cancelled, a
// shell process killed, a prompt quit), the engine journals step.end
// {status: "interrupted"}; a crash leaves step.start without step.end.
// Replay treats both the same way: the step is interrupted, and Resume
// continues, re-runs or asks about it.
func (s *Session) Run(ctx context.Context) (Outcome, error) {
	if !s.running.CompareAndSwap(false, true) {
		return OutcomeFailed, ErrRunning
	}
	s.leases.bind(ctx)
	stop := s.startControl(ctx)
	h := s.run(ctx)
	stop()
	s.releaseLeases(ctx, h.outcome)
	outcome, err := s.finish(ctx, h)
	if aerr := s.recordEnd(ctx); aerr != nil { // the end and final head, while the store is open
		aerr = &AnchorError{Err: s.redactor.redactError(aerr)}
		if err == nil {
			err = aerr // the session ended as journaled: front ends warn
		} else {
			err = errors.Join(err, aerr)
		}
	}
	s.closeStores()
	return outcome, err
}

// HeldLeases returns the migration leases the session holds now (none
// before Run and after it returns).
func (s *Session) HeldLeases() []Lease { return s.leases.Held() }

// releaseLeases gives back the migration leases the session holds, whatever
// the outcome: completed, failed, aborted or stopped (a resumed session
// takes its lease again before its next step). When the session can be
// resumed (stopped or failed) the maintenance flags stay on: the migration
// is incomplete. A failure to release is journaled as a warning: the lease
// then expires on its own.
func (s *Session) releaseLeases(ctx context.Context, outcome Outcome) {
	ctx = context.WithoutCancel(ctx)
	held := s.leases.Held()
	if len(held) == 0 {
		return
	}
	var flags int
	var err error
	if outcome == OutcomeStopped || outcome == OutcomeFailed {
		flags, err = s.leases.Suspend(ctx)
	} else {
		err = s.leases.Release(ctx)
	}
	if err != nil {
		_ = s.emit(ctx, NewEvent("", Warning{Message: "release lease: " + err.Error()}))
		return
	}
	text := fmt.Sprintf("released %d migration lease(s)", len(held))
	if flags > 0 {
		text += "; maintenance flag left on: the migration is incomplete; resume or roll back to clear it"
	}
	_ = s.emit(ctx, NewEvent("", Note{Text: text, By: NoteByLockstep}))
}

func (s *Session) run(ctx context.Context) *halt {
	if s.stateOf(func(st *State) bool { return st.RollingBack }) {
		return s.rollback(ctx, "")
	}
	for _, ph := range s.rb.Phases {
		if h := s.runPhase(ctx, ph); h != nil {
			return h
		}
	}
	if h := s.boundary(ctx); h != nil {
		return h
	}
	return &halt{outcome: OutcomeCompleted}
}

func (s *Session) runPhase(ctx context.Context, ph *runbook.Phase) *halt {
	var todo []*runbook.Step
	for _, st := range ph.Steps {
		if !finished(s.status(st.ID)) {
			todo = append(todo, st)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if err := s.emit(ctx, NewEvent("", PhaseStarted{Phase: ph.Name})); err != nil {
		return &halt{OutcomeFailed, err}
	}
	if missing := s.unmetPhases(ph); len(missing) > 0 {
		reason := fmt.Sprintf("requires: phase %s not completed", strings.Join(missing, ", "))
		for _, st := range todo {
			if err := s.autoSkip(ctx, st, reason, true); err != nil {
				return &halt{OutcomeFailed, err}
			}
		}
		return s.endPhase(ctx, ph, "skipped")
	}
	for _, st := range todo {
		if h := s.runStep(ctx, st); h != nil {
			return h
		}
	}
	return s.endPhase(ctx, ph, "completed")
}

func (s *Session) endPhase(ctx context.Context, ph *runbook.Phase, status string) *halt {
	if err := s.emit(ctx, NewEvent("", PhaseEnded{Phase: ph.Name, Status: status})); err != nil {
		return &halt{OutcomeFailed, err}
	}
	return nil
}

// unmetPhases returns the phases ph requires that have not completed. A
// phase has completed when each of its steps is done or was skipped by the
// runbook itself for a false `when:` or a dry-run. A step the operator
// skipped does NOT complete its phase: skipping `verify` must not unlock a
// `cleanup` that requires it. Nor does a step skipped for an unmet
// requirement, so a skip anywhere upstream cannot unlock `cleanup` through
// a `verify` phase that never ran.
func (s *Session) unmetPhases(ph *runbook.Phase) []string {
	var missing []string
	for _, name := range ph.Requires {
		req := s.phase(name)
		if req == nil {
			missing = append(missing, name)
			continue
		}
		for _, st := range req.Steps {
			ss := s.stepState(st.ID)
			if ss.Status != StepDone && (ss.Status != StepSkipped || ss.OperatorSkip || ss.Unmet) {
				missing = append(missing, name)
				break
			}
		}
	}
	return missing
}

func (s *Session) phase(name string) *runbook.Phase {
	for _, p := range s.rb.Phases {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// finished reports a status the run loop never runs again.
func finished(st StepStatus) bool {
	return st == StepDone || st == StepSkipped || st == StepRolledBack
}

// boundary is the safe point between steps: it honours abort, rollback,
// pause (blocking until continue) and quit.
func (s *Session) boundary(ctx context.Context) *halt {
	for {
		s.mu.Lock()
		c := s.ctl
		s.mu.Unlock()
		switch {
		case c.rollback:
			return s.rollback(ctx, c.rollbackReason)
		case c.aborted:
			return &halt{outcome: OutcomeAborted}
		case ctx.Err() != nil:
			return &halt{outcome: OutcomeStopped}
		case !c.paused:
			return nil
		}
		select {
		case <-c.changed:
		case <-ctx.Done():
		}
	}
}

// haltFor classifies an error from a prompt or an executor: nil means an
// ordinary failure the operator may retry or skip.
func (s *Session) haltFor(ctx context.Context, err error) *halt {
	var miss *MissingAnswerError
	switch {
	case errors.As(err, &miss), errors.Is(err, ErrInvalidAnswer):
		// Not a failure of the migration: the session stops resumably
		// and can be resumed once the answers file has the key (or a
		// valid answer).
		return &halt{OutcomeStopped, err}
	case IsJournalStop(err): // the message names the journal and the fix
		return &halt{OutcomeStopped, err}
	case s.stopRequested():
		return s.boundary(ctx)
	case errors.Is(err, ErrAborted):
		return &halt{outcome: OutcomeAborted}
	case ctx.Err() != nil, errors.Is(err, ErrQuit), errors.Is(err, ErrPaused):
		return &halt{outcome: OutcomeStopped}
	}
	return nil
}

// isStop reports an error that stops the session rather than failing the
// step (the pure test behind haltFor).
func (s *Session) isStop(ctx context.Context, err error) bool {
	var miss *MissingAnswerError
	return errors.As(err, &miss) || errors.Is(err, ErrInvalidAnswer) || s.stopRequested() || errors.Is(err, ErrAborted) ||
		ctx.Err() != nil || errors.Is(err, ErrQuit) || errors.Is(err, ErrPaused)
}

// finish journals session.end, ends the session and records the applied
// migration (live and rehearsal only). The error returned is redacted like
// the journal (front ends print it) and still wraps the original.
func (s *Session) finish(ctx context.Context, h *halt) (Outcome, error) {
	ctx = context.WithoutCancel(ctx)
	data := SessionEnded{Outcome: h.outcome}
	if h.err != nil {
		data.Error = h.err.Error()
	}
	err := s.emit(ctx, NewEvent("", data))
	if err == nil {
		if e := s.cfg.Journal.EndSession(ctx, s.info.ID, h.outcome); e != nil {
			err = fmt.Errorf("end session: %w", e)
		}
	}
	if err == nil && s.cfg.Mode != ModeDryRun && slices.Contains([]Outcome{OutcomeCompleted, OutcomeRolledBack}, h.outcome) {
		status := "completed"
		if h.outcome == OutcomeRolledBack {
			status = "rolled-back"
		}
		if e := s.cfg.Journal.RecordApplied(ctx, Applied{
			Name: s.rb.Name, Version: s.rb.Version, Env: s.env.Name, RunbookSHA256: s.rb.SHA256,
			SessionID: s.info.ID, Mode: s.cfg.Mode, Status: status, Time: s.cfg.Clock.Now(),
		}); e != nil {
			err = fmt.Errorf("record applied migration: %w", e)
		}
	}
	return h.outcome, s.redactor.redactError(errors.Join(h.err, err))
}

func (s *Session) status(id string) StepStatus {
	return s.stepState(id).Status
}

// stepState returns a copy of a step's state.
func (s *Session) stepState(id string) StepState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.state.StepState(id); ss != nil {
		return *ss
	}
	return StepState{Status: StepPending}
}

func (s *Session) stateOf(f func(*State) bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return f(s.state)
}
