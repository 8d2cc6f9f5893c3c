package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/runbook/pglint"
)

// lintOptions are the inputs of `lockstep lint`.
type lintOptions struct {
	f *factory

	Files   []string
	Format  string // text | json
	Env     string // "": no environment's enforcement
	Explain string // a code to explain instead of linting
	Journal string // --journal: where to read learnings from
	Rules   *runbook.Rules
}

func newCmdLint(f *factory, runF func(context.Context, *lintOptions) error) *cobra.Command {
	opts := &lintOptions{f: f}
	cmd := &cobra.Command{
		Use:   "lint RUNBOOK...",
		Short: "Check runbooks: every error and coded warning with file:line:col",
		Long: `Parse and validate each runbook and run the lint rules on the valid ones.
Every problem is printed as file:line:col: message (hint); a lint warning
names its code (LS101…LS603, see docs/lint.md). Exits 2 when any runbook has
an error; warnings alone exit 0.

lint: {ignore: {CODE: "reason"}} at the top of a runbook or on a step
suppresses a warning; the reason is journaled when a run starts.

--env ENV shows what that environment enforces: in a protected environment
every unsuppressed warning refuses a live or rehearsal run, so it is
reported as an error and lint exits 2.

--explain CODE prints the rule's hazard, guideline and fix.

In text format, the learnings recorded in the journal for each runbook (notes
marked "learning:", see lockstep learnings) follow its findings as info
lines, so the next operator reads them before running; they never change the
exit code. The journal is --journal, $LOCKSTEP_JOURNAL or the default; none is
created when it does not exist.

--format json prints one JSON array of
{"file","line","col","code","severity":"error"|"warning","message","hint"}.`,
		Example: `  lockstep lint split.yaml --env production
  lockstep lint --explain LS203`,
		Args: usageArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if opts.Explain == "" && len(args) == 0 {
				return usageError(errors.New("lint needs at least one RUNBOOK, or --explain CODE"))
			}
			if opts.Rules == nil {
				// Here rather than when the command tree is built: every
				// command built lint's rule table, a sixth of newRootCmd's
				// time (issue 17, fast start).
				opts.Rules = lintRules()
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runLint(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output format: text or json")
	cmd.Flags().StringVarP(&opts.Env, "env", "e", "", "report what this environment enforces (protected: warnings refuse a run)")
	cmd.Flags().StringVar(&opts.Explain, "explain", "", "print the explanation of a lint code, e.g. LS203")
	cmd.Flags().StringVar(&opts.Journal, "journal", "", "journal to read learnings from (default $LOCKSTEP_JOURNAL or the default journal)")
	return cmd
}

// runLint lints every file and reports all problems.
func runLint(opts *lintOptions) error {
	f := opts.f
	if opts.Explain != "" {
		r, ok := opts.Rules.Rule(opts.Explain)
		if !ok {
			return usageError(fmt.Errorf("unknown lint code %q: the codes are listed in docs/lint.md", opts.Explain))
		}
		fmt.Fprint(f.Out, r.Explanation())
		return nil
	}
	if opts.Format != "text" && opts.Format != "json" {
		return usageError(fmt.Errorf("unknown --format %q: want text or json", opts.Format))
	}
	var all []*runbook.Error
	var parsed []lintedRunbook
	nerr, nwarn, nsup := 0, 0, 0
	for _, path := range opts.Files {
		problems, suppressed, rb, err := lintFile(opts, path)
		if err != nil {
			return err
		}
		if rb != nil {
			parsed = append(parsed, lintedRunbook{path, rb.Name})
		}
		nsup += suppressed
		for _, e := range problems {
			if e.Level() == runbook.SeverityError {
				nerr++
			} else {
				nwarn++
			}
			all = append(all, e)
		}
	}
	if opts.Format == "json" {
		if err := runbook.WriteJSON(f.Out, all); err != nil {
			return err
		}
	} else {
		printProblems(f.Out, all)
		printLearnings(opts, parsed)
		sup := ""
		if nsup > 0 {
			sup = fmt.Sprintf(", %d suppressed with a reason", nsup)
		}
		fmt.Fprintf(f.ErrOut, "%d error(s), %d warning(s)%s in %d file(s)\n", nerr, nwarn, sup, len(opts.Files))
	}
	if nerr > 0 {
		return silentExit(exitBadInput, fmt.Errorf("%d error(s)", nerr))
	}
	return nil
}

// lintedRunbook is a linted file that parsed, and its runbook's name.
type lintedRunbook struct{ file, name string }

// lintFile returns the parse errors of path, or its lint findings when it
// parses, as --env enforces them, and how many findings ignores silenced;
// and the runbook when it parses (nil when it does not).
func lintFile(opts *lintOptions, path string) ([]*runbook.Error, int, *runbook.Runbook, error) {
	rb, err := runbook.ParseFile(path)
	if err == nil {
		rep := opts.Rules.Check(rb)
		n := 0
		for _, s := range rep.Suppressed {
			n += s.Count
		}
		if opts.Env == "" {
			return rep.Findings, n, rb, nil
		}
		env := rb.Env(opts.Env)
		if env == nil {
			return nil, 0, nil, usageError(fmt.Errorf("runbook %s has no environment %q (it has %s)", path, opts.Env, envNames(rb)))
		}
		return rep.Enforced(env), n, rb, nil
	}
	var rerrs runbook.Errors
	if errors.As(err, &rerrs) {
		return rerrs, 0, nil, nil
	}
	return []*runbook.Error{{Pos: runbook.Pos{File: path, Line: 1, Col: 1}, Msg: err.Error(), Hint: "check the path", Severity: runbook.SeverityError}}, 0, nil, nil
}

// lintRules is the rule table of lint and run: the built-in rules and the
// PostgreSQL rules, whose parser (cgo) package runbook does not import.
func lintRules() *runbook.Rules { return runbook.DefaultRules().With(pglint.Rules()...) }

// enforceLint refuses a live or rehearsal run of a protected environment
// while the runbook has unsuppressed lint warnings: each is printed with
// its code, and the run exits 2 before any journal is touched. Elsewhere,
// and in dry-run, warnings are printed and do not stop a run.
func enforceLint(f *factory, rb *runbook.Runbook, env *runbook.Environment, mode engine.Mode) error {
	rep := lintRules().Check(rb)
	if len(rep.Findings) == 0 {
		return nil
	}
	if !env.Protected || mode == engine.ModeDryRun {
		// Shown, not enforced: the operator reads them before the run.
		fmt.Fprintf(f.ErrOut, "%d lint warning(s), not enforced in %s (%s):\n", len(rep.Findings), env.Name, mode)
		printProblems(f.ErrOut, rep.Findings)
		return nil
	}
	problems := rep.Enforced(env)
	fmt.Fprintf(f.ErrOut, "the protected environment %q refuses to start with %d lint warning(s):\n", env.Name, len(problems))
	printProblems(f.ErrOut, problems)
	fmt.Fprintln(f.ErrOut, `fix them, or suppress one with lint: {ignore: {CODE: "reason"}} (lockstep lint --explain CODE)`)
	return silentExit(exitBadInput, fmt.Errorf("%d lint warning(s) in protected environment %q", len(problems), env.Name))
}

// printLearnings prints, for each linted runbook that parsed, the
// learnings the journal holds for it as info lines. A missing or
// unreadable journal prints nothing: learnings inform, they never fail a
// lint. The runbooks come parsed from lintFile: parsing each again cost
// a quarter of a short lint's time (issue 17, fast start).
func printLearnings(opts *lintOptions, parsed []lintedRunbook) {
	path := opts.f.journalPath(opts.Journal)
	if _, err := os.Stat(path); err != nil {
		return
	}
	j, err := opts.f.openJournalRO(opts.Journal)
	if err != nil {
		return
	}
	defer j.Close()
	seen := map[string]bool{}
	for _, p := range parsed {
		if seen[p.name] {
			continue
		}
		seen[p.name] = true
		ls, err := learningsFor(context.Background(), j, p.name)
		if err != nil {
			continue
		}
		for _, l := range ls {
			fmt.Fprintf(opts.f.Out, "%s: info: learning from %s in %s (%s, %s): %s\n",
				p.file, l.Operator, l.Env, l.Session, l.Time.UTC().Format("2006-01-02"), l.Text)
		}
	}
}
