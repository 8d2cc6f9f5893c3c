package runbook

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Package errors. Validation problems are reported as *Error values
// collected in an Errors list; these sentinels classify failures of the
// run-time helpers (Expand, Eval, Render) and can be matched with errors.Is.
var (
	// ErrInvalid: the runbook failed validation (Parse wraps its Errors with it
	// via Errors.Is).
	ErrInvalid = errors.New("invalid runbook")
	// ErrUnsetVar: a ${VAR} reference names an unset (or empty) variable.
	ErrUnsetVar = errors.New("unset variable")
	// ErrBadRef: a ${ reference is malformed (unterminated or a bad name).
	ErrBadRef = errors.New("malformed ${VAR} reference")
	// ErrNotBool: a condition expression produced a non-boolean value.
	ErrNotBool = errors.New("expression is not boolean")
	// ErrUnknownVar: a --var names a var the runbook does not declare.
	ErrUnknownVar = errors.New("unknown var")
	// ErrNotCompiled: an Expr or Template was built by hand rather than by Parse.
	ErrNotCompiled = errors.New("not compiled")
)

// Severity says whether a problem makes a runbook unusable (error) or is
// advice (warning, from Lint).
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Error is one problem found in a runbook, with the position of the YAML
// node it concerns and an optional hint on how to fix it.
type Error struct {
	Pos      Pos
	Code     string // the lint rule's code (LS203) for a lint finding, else ""
	Msg      string
	Hint     string
	Severity Severity // "" is read as SeverityError
}

// Error renders the problem as `file:line:col: msg (hint)`.
// A lint finding names its code first: `file:line:col: LS203: msg (hint)`.
func (e *Error) Error() string {
	msg := e.Msg
	if e.Code != "" {
		msg = e.Code + ": " + msg
	}
	if e.Hint == "" {
		return fmt.Sprintf("%s: %s", e.Pos, msg)
	}
	return fmt.Sprintf("%s: %s (%s)", e.Pos, msg, e.Hint)
}

// Level returns the severity, SeverityError when unset.
func (e *Error) Level() Severity {
	if e.Severity == "" {
		return SeverityError
	}
	return e.Severity
}

// Errors is every problem found in a runbook, sorted by position. It is the
// error Parse returns for an invalid runbook.
type Errors []*Error

// Error renders one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Is reports that Errors is ErrInvalid, so callers can test
// errors.Is(err, runbook.ErrInvalid).
func (es Errors) Is(target error) bool { return target == ErrInvalid }

// Sort orders the problems by file, line, column, code, then message.
func (es Errors) Sort() {
	sort.SliceStable(es, func(i, j int) bool { return lessError(es[i], es[j]) })
}

func lessError(a, b *Error) bool {
	if a.Pos.File != b.Pos.File {
		return a.Pos.File < b.Pos.File
	}
	if a.Pos.Line != b.Pos.Line {
		return a.Pos.Line < b.Pos.Line
	}
	if a.Pos.Col != b.Pos.Col {
		return a.Pos.Col < b.Pos.Col
	}
	if a.Code != b.Code {
		return a.Code < b.Code
	}
	return a.Msg < b.Msg
}
