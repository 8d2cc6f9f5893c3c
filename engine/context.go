package engine

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lockstep-run/lockstep/runbook"
)

// emit journals ev (session, operator, time filled in, data redacted),
// folds it into the state and shows it to the observer. Journal writes
// outlive ctx: a quit must still be able to record step.end and session.end.
func (s *Session) emit(ctx context.Context, ev Event) error {
	ev.SessionID, ev.Operator = s.info.ID, s.cfg.Operator
	if ev.Time.IsZero() {
		ev.Time = s.cfg.Clock.Now()
	}
	ev.Data = s.redactor.redactJSON(ev.Data)
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	stored, err := s.cfg.Journal.Append(context.WithoutCancel(ctx), ev)
	if err != nil {
		return &journalError{fmt.Errorf("append %s event: %w", ev.Kind, err)}
	}
	s.mu.Lock()
	s.state.apply(stored)
	s.mu.Unlock()
	if s.cfg.Observer != nil {
		s.cfg.Observer(stored)
	}
	return nil
}

// journalError is a failed journal write: the session cannot go on
// without its record, so it ends (failed) instead of asking the operator.
type journalError struct{ err error }

func (e *journalError) Error() string { return e.err.Error() }
func (e *journalError) Unwrap() error { return e.err }

// progress shows a transient event without journaling it.
func (s *Session) progress(step string, ev Event) {
	if s.cfg.Observer == nil {
		return
	}
	ev.SessionID, ev.Operator = s.info.ID, s.cfg.Operator
	if ev.Step == "" {
		ev.Step = step
	}
	if ev.Time.IsZero() {
		ev.Time = s.cfg.Clock.Now()
	}
	ev.Data = s.redactor.redactJSON(ev.Data)
	s.cfg.Observer(ev)
}

// ask asks the operator. An abort or rollback request cancels the prompt.
// The prompt's text is redacted first: a failure's cause (a command's
// stderr, a driver's error) may quote a secret, and front ends print it.
func (s *Session) ask(ctx context.Context, p Prompt) (Answer, error) {
	p.Title, p.Text, p.Retry = s.redactor.Redact(p.Title), s.redactor.Redact(p.Text), s.redactor.Redact(p.Retry)
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.mu.Lock()
	prev := s.ctl.interrupt
	if prev == nil {
		s.ctl.interrupt = cancel
	}
	s.mu.Unlock()
	defer func() {
		if prev == nil {
			s.setInterrupt(nil)
		}
	}()
	ans, err := s.cfg.Prompter.Ask(pctx, p)
	if err != nil {
		if cause := context.Cause(pctx); cause == ErrAborted {
			return ans, ErrAborted
		}
		return ans, s.redactor.redactError(fmt.Errorf("ask %s: %w", p.Kind, err))
	}
	return ans, nil
}

// stepContext builds the StepContext of one attempt.
func (s *Session) stepContext(ctx context.Context, step, of *runbook.Step, attempt int, resumed bool) *StepContext {
	return &StepContext{
		Step: step, Runbook: s.rb, Env: s.env, Session: s.info, Mode: s.cfg.Mode,
		Operator: s.cfg.Operator, Attempt: attempt, Resumed: resumed, Rollback: of != nil, Of: of,
		Journal: s.cfg.Journal, Clock: s.cfg.Clock, Rehearsal: s.rehearsal,
		Emit: func(ev Event) error {
			if ev.Step == "" {
				ev.Step = step.ID
			}
			return s.emit(ctx, ev)
		},
		Progress: func(ev Event) { s.progress(step.ID, ev) },
		Ask: func(ctx context.Context, p Prompt) (Answer, error) {
			if p.Step == "" {
				p.Step = step.ID
			}
			return s.ask(ctx, p)
		},
		Store:     s.envStore,
		OpenStore: s.openStore,
		Redact:    s.redactor.Redact,
		ExprEnv:   s.exprEnv,
		Results:   s.results(),
		Control:   controlView{s},
		WorkDir:   s.cfg.WorkDir,
		Getenv:    s.cfg.Getenv,
		Stdout:    s.cfg.Stdout,
		Publisher: s.cfg.Publisher,
		Leases:    s.leases,
	}
}

// results returns the results of the completed steps by id.
func (s *Session) results() map[string]json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]json.RawMessage{}
	for _, ss := range s.state.Steps {
		if ss.Status == StepDone && len(ss.Result) > 0 {
			out[ss.Step.ID] = ss.Result
		}
	}
	return out
}

// decodedResults returns the results decoded as plain values.
func (s *Session) decodedResults() map[string]any {
	out := map[string]any{}
	for id, raw := range s.results() {
		var v any
		if err := json.Unmarshal(raw, &v); err == nil {
			out[id] = v
		}
	}
	return out
}

// exprEnv is the expression environment without `item`.
func (s *Session) exprEnv() map[string]any {
	vars := make(map[string]any, len(s.vars))
	for k, v := range s.vars {
		vars[k] = v
	}
	return map[string]any{
		runbook.EnvVars: vars,
		runbook.EnvEnv: map[string]any{
			"name": s.env.Name, "mode": string(s.cfg.Mode), "protected": s.env.Protected,
		},
		runbook.EnvSteps: s.decodedResults(),
	}
}

// envStore opens the environment's store once and caches it.
func (s *Session) envStore(ctx context.Context) (Store, error) {
	s.storeMu.Lock()
	cached := s.store
	s.storeMu.Unlock()
	if cached != nil {
		return cached, nil
	}
	if s.env.Store == nil {
		return nil, fmt.Errorf("open store: %w: environment %s declares no store", ErrNoStore, s.env.Name)
	}
	st, err := s.openStore(ctx, s.env.Store)
	if err != nil {
		return nil, err
	}
	s.storeMu.Lock()
	defer s.storeMu.Unlock()
	if s.store != nil { // lost a race: keep the first
		return s.store, nil
	}
	s.store = st
	return st, nil
}

// openStore expands ${VAR} in spec and opens it with Config.Stores. The
// session closes every store it opened when Run returns.
func (s *Session) openStore(ctx context.Context, spec *runbook.StoreSpec) (Store, error) {
	if s.cfg.Stores == nil {
		return nil, fmt.Errorf("open store: %w: no store opener configured", ErrNoStore)
	}
	exp, err := spec.Expanded(s.cfg.Getenv)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	st, err := s.cfg.Stores(ctx, exp)
	if err != nil {
		return nil, fmt.Errorf("open %s store: %w", exp.Kind, err)
	}
	s.storeMu.Lock()
	s.opened = append(s.opened, st)
	s.storeMu.Unlock()
	return st, nil
}

func (s *Session) closeStores() {
	s.storeMu.Lock()
	defer s.storeMu.Unlock()
	for _, st := range s.opened {
		_ = st.Close()
	}
	s.opened, s.store = nil, nil
}
