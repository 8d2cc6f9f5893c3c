package engine

import (
	"errors"
	"fmt"
	"strings"
)

// NewJournalFailure is the error of a step stopped by a failed journal
// write: a *journalError that also wraps ErrPaused (the session stops
// resumably: what the journal holds is consistent, and a resume redoes
// at most the page in flight per segment), naming the journal's file
// (when it has one), the cause and the resume command.
func NewJournalFailure(j Journal, sessionID string, err error) error {
	var stop *journalStop
	if errors.As(err, &stop) {
		return err // already says which journal and what to do
	}
	what := "journal"
	if p, ok := j.(interface{ Path() string }); ok && p.Path() != "" {
		what = "journal " + p.Path()
	}
	fix := "fix it"
	if strings.Contains(err.Error(), "full") {
		fix = "free space"
	}
	return &journalError{&journalStop{fmt.Errorf("%s: %w — %s and run `lockstep resume %s`", what, err, fix, sessionID)}}
}

// journalStop is a journal failure that stops the session resumably.
type journalStop struct{ err error }

func (e *journalStop) Error() string { return e.err.Error() }

// Unwrap makes a *journalStop match its cause and ErrPaused.
func (e *journalStop) Unwrap() []error { return []error{e.err, ErrPaused} }

// IsJournalStop reports a failed journal write that stops the session
// resumably (a step's write-ahead gate closed).
func IsJournalStop(err error) bool {
	var stop *journalStop
	return errors.As(err, &stop)
}
