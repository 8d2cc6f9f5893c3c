package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/lockstep-run/lockstep/protocols"
	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/tui/plain"
)

// loadRunbook reads target as a runbook file, or, when no such file
// exists and target looks like a name, as a built-in protocol. Every
// problem of an invalid runbook is printed to ErrOut, and the returned
// error exits 2.
func loadRunbook(f *factory, target string) (*runbook.Runbook, error) {
	var (
		rb  *runbook.Runbook
		err error
	)
	if fi, statErr := os.Stat(target); (statErr == nil && !fi.IsDir()) || looksLikePath(target) {
		var pathErr *fs.PathError
		if rb, err = runbook.ParseFile(target); errors.As(err, &pathErr) {
			err = fmt.Errorf("%w (check the path; lockstep protocols list shows the built-in protocols)", err)
		}
	} else if rb, err = protocolRunbook(target); errors.Is(err, protocols.ErrUnknown) {
		err = fmt.Errorf("no runbook file %q, and %w", target, err)
	}
	return checkedRunbook(f, rb, err)
}

// checkedRunbook prints every problem of an invalid runbook to ErrOut and
// turns err into an exit-2 error.
func checkedRunbook(f *factory, rb *runbook.Runbook, err error) (*runbook.Runbook, error) {
	if err == nil {
		return rb, nil
	}
	var rerrs runbook.Errors
	if errors.As(err, &rerrs) {
		printProblems(f.ErrOut, rerrs)
		return nil, silentExit(exitBadInput, err)
	}
	return nil, usageError(err)
}

// protocolRunbook parses the built-in protocol called name.
func protocolRunbook(name string) (*runbook.Runbook, error) {
	return protocols.Get(name)
}

// looksLikePath tells a file argument from a protocol name.
func looksLikePath(s string) bool {
	return strings.ContainsAny(s, `/\`) || strings.HasSuffix(s, ".yaml") || strings.HasSuffix(s, ".yml")
}

// printProblems prints each runbook problem as `file:line:col: message (hint)`,
// warnings as `file:line:col: warning: CODE: message (hint)`.
func printProblems(w io.Writer, errs runbook.Errors) {
	for _, e := range errs {
		if e.Level() == runbook.SeverityWarning {
			msg := e.Msg
			if e.Code != "" {
				msg = e.Code + ": " + msg
			}
			fmt.Fprintln(w, (&runbook.Error{Pos: e.Pos, Msg: "warning: " + msg, Hint: e.Hint}).Error())
			continue
		}
		fmt.Fprintln(w, e.Error())
	}
}

// loadAnswers reads and validates the answers file ("" means none) and
// checks it answers only steps the runbook has.
func loadAnswers(path string, rb *runbook.Runbook) (*plain.Answers, error) {
	if path == "" {
		return nil, nil
	}
	a, err := plain.LoadAnswers(path)
	if err != nil {
		return nil, usageError(err)
	}
	if err := a.ValidateSteps(stepIDs(rb)); err != nil {
		return nil, usageError(err)
	}
	return a, nil
}

// stepIDs lists every step id of rb, rollback steps included.
func stepIDs(rb *runbook.Runbook) []string {
	var ids []string
	for _, s := range rb.Steps() {
		ids = append(ids, s.ID)
		if s.Rollback != nil {
			ids = append(ids, s.Rollback.ID)
		}
	}
	return ids
}
