package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/tui/plain"
)

// Exit codes of the CLI contract (DESIGN.md).
const (
	exitOK       = 0 // completed
	exitFailed   = 1 // a step failed, the session was aborted, a journal did not verify
	exitBadInput = 2 // usage, invalid runbook, bad answers file, missing answer
	exitStopped  = 3 // stopped resumably: paused, quit, interrupted
)

// exitError carries an exit code. Silent ones have already been reported
// to the operator (e.g. every runbook error was printed).
type exitError struct {
	code   int
	err    error
	silent bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError marks bad command-line usage (exit 2).
func usageError(err error) error { return &exitError{code: exitBadInput, err: err} }

// silentExit ends the command with code after its output said why.
func silentExit(code int, err error) error { return &exitError{code: code, err: err, silent: true} }

// isSilent reports whether err was already shown to the operator.
func isSilent(err error) bool {
	var e *exitError
	return errors.As(err, &e) && e.silent
}

// badInput are the errors that mean "fix your input" (exit 2).
var badInput = []error{
	runbook.ErrInvalid, plain.ErrBadAnswers, engine.ErrNoAnswer, engine.ErrConfig,
	engine.ErrProtectedYes, engine.ErrEnvConfirm, engine.ErrOutsideWindow,
	engine.ErrRunbookChanged, engine.ErrSessionEnded, engine.ErrNotFound, engine.ErrInvalidAnswer,
	engine.ErrReasonRequired, engine.ErrSessionHeld, engine.ErrRegistryRefused,
}

// exitCode maps an error returned by a command to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	for _, target := range badInput {
		if errors.Is(err, target) {
			return exitBadInput
		}
	}
	// cobra's own usage errors (unknown command, required flag) are untyped;
	// they are never wrapped, so a prefix identifies them.
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument",
		"invalid argument", "required flag"} {
		if strings.HasPrefix(msg, p) {
			return exitBadInput
		}
	}
	return exitFailed
}

// outcomeCode maps a session outcome to the exit code.
func outcomeCode(o engine.Outcome) int {
	switch o {
	case engine.OutcomeCompleted:
		return exitOK
	case engine.OutcomeStopped, engine.OutcomeRunning:
		return exitStopped
	}
	return exitFailed
}
