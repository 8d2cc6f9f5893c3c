package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/runbook"
)

// lintOptions are the inputs of `lockstep lint`.
type lintOptions struct {
	f *factory

	Files  []string
	Format string // text | json
}

func newCmdLint(f *factory, runF func(context.Context, *lintOptions) error) *cobra.Command {
	opts := &lintOptions{f: f}
	cmd := &cobra.Command{
		Use:   "lint RUNBOOK...",
		Short: "Check runbooks: every error and warning with file:line:col",
		Long: `Parse and validate each runbook and run the lint rules on the valid ones.
Every problem is printed as file:line:col: message (hint). Exits 2 when any
runbook has an error; warnings alone exit 0.

--format json prints one JSON array of
{"file","line","col","severity":"error"|"warning","message","hint"}.`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runLint(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output format: text or json")
	return cmd
}

// runLint lints every file and reports all problems.
func runLint(opts *lintOptions) error {
	if opts.Format != "text" && opts.Format != "json" {
		return usageError(fmt.Errorf("unknown --format %q: want text or json", opts.Format))
	}
	var all []*runbook.Error
	nerr, nwarn := 0, 0
	for _, path := range opts.Files {
		for _, e := range lintFile(path) {
			if e.Level() == runbook.SeverityError {
				nerr++
			} else {
				nwarn++
			}
			all = append(all, e)
		}
	}
	f := opts.f
	if opts.Format == "json" {
		if err := runbook.WriteJSON(f.Out, all); err != nil {
			return err
		}
	} else {
		printProblems(f.Out, all)
		fmt.Fprintf(f.ErrOut, "%d error(s), %d warning(s) in %d file(s)\n", nerr, nwarn, len(opts.Files))
	}
	if nerr > 0 {
		return silentExit(exitBadInput, fmt.Errorf("%d error(s)", nerr))
	}
	return nil
}

// lintFile returns the parse errors of path, or its lint warnings when it parses.
func lintFile(path string) []*runbook.Error {
	rb, err := runbook.ParseFile(path)
	if err == nil {
		return runbook.Lint(rb)
	}
	var rerrs runbook.Errors
	if errors.As(err, &rerrs) {
		return rerrs
	}
	return []*runbook.Error{{Pos: runbook.Pos{File: path, Line: 1, Col: 1}, Msg: err.Error(), Hint: "check the path", Severity: runbook.SeverityError}}
}
