package engine

import (
	"context"
	"fmt"
)

// EnvStore opens the environment's store for a data step, with an error
// naming the step when the environment declares none.
func (sc *StepContext) EnvStore(ctx context.Context) (Store, error) {
	if sc.Store == nil || sc.Env == nil || sc.Env.Store == nil {
		return nil, fmt.Errorf("%s %s: environment %s has no store", sc.Step.Kind, sc.Step.ID, sc.envName())
	}
	st, err := sc.Store(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s %s: open store: %w", sc.Step.Kind, sc.Step.ID, err)
	}
	return st, nil
}

func (sc *StepContext) envName() string {
	if sc.Env == nil {
		return "?"
	}
	return sc.Env.Name
}

// EmitOutput journals one line of the step's output (stdout); without
// an Emit (an executor run outside a session) it does nothing.
func (sc *StepContext) EmitOutput(text string) error {
	if sc.Emit == nil {
		return nil
	}
	return sc.Emit(NewEvent(sc.Step.ID, Output{Stream: "stdout", Text: text}))
}

// EmitWarning journals a warning about the step; without an Emit it does
// nothing.
func (sc *StepContext) EmitWarning(w Warning) error {
	if sc.Emit == nil {
		return nil
	}
	return sc.Emit(NewEvent(sc.Step.ID, w))
}

// ClockOrSystem returns the session's Clock, or the system clock when none
// is set (an executor run outside a session, in a test).
func (sc *StepContext) ClockOrSystem() Clock {
	if sc.Clock != nil {
		return sc.Clock
	}
	return SystemClock{}
}
