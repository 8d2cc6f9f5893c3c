package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/notify/sns"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/tui"
)

// runOptions are the inputs of `lockstep run`.
type runOptions struct {
	f *factory

	Target      string // runbook file or built-in protocol name
	Env         string
	Mode        string
	Operator    string
	Plain       bool
	AnswersFile string
	Yes         bool
	Step        bool // ask before each automated step (run / skip with reason)
	Vars        []string
	JournalPath string

	// Pick chooses the runbook (and environment) when none is named; nil
	// when not on a terminal.
	Pick pickFunc
}

func newCmdRun(f *factory, runF func(context.Context, *runOptions) error) *cobra.Command {
	opts := &runOptions{f: f}
	cmd := &cobra.Command{
		Use:   "run [RUNBOOK|PROTOCOL] --env ENV",
		Short: "Run a runbook (or a built-in protocol) against an environment",
		Long: `Run a runbook file, or a built-in protocol by name, against one of its
environments. With a terminal it opens the TUI; without one, or with --plain,
steps run in order and prompts are answered from --answers.

Exit codes: 0 completed; 1 a step failed or the session was aborted; 2 bad
input (invalid runbook, bad answers file, missing answer); 3 stopped
resumably — resume with "lockstep resume <id>".

Without a runbook on a terminal, a picker offers the runbooks in the current
directory and the built-in protocols (and the environment, if --env is not
given and the runbook has more than one).`,
		Example: `  lockstep run split-address.yaml --env staging --mode rehearsal
  lockstep run split-address.yaml --env production --plain --answers answers.yaml
  lockstep run split-address.yaml --env staging --step`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Target = args[0]
			}
			if !opts.Plain && opts.AnswersFile == "" && f.IsTerminal() {
				opts.Pick = tui.Pick
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Env, "env", "e", "", "environment to run against (required; picked on a terminal when omitted)")
	fl.StringVarP(&opts.Mode, "mode", "m", string(engine.ModeLive), "live, rehearsal or dry-run")
	fl.StringVar(&opts.Operator, "operator", "", "who runs the session (default $LOCKSTEP_OPERATOR, $USER)")
	fl.BoolVar(&opts.Plain, "plain", false, "line mode even on a terminal (no TUI)")
	fl.StringVar(&opts.AnswersFile, "answers", "", "YAML answers file for prompts (implies --plain)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "confirm destructive steps non-interactively (refused for protected environments)")
	fl.BoolVar(&opts.Step, "step", false, "step by step: before each automated step, ask run or skip (answers: {run: true} | {skip: \"reason\"})")
	fl.StringArrayVar(&opts.Vars, "var", nil, "override a runbook var: K=V (repeatable)")
	fl.StringVar(&opts.JournalPath, "journal", "", "journal file (default $LOCKSTEP_JOURNAL, $XDG_STATE_HOME/lockstep/journal.db)")
	return cmd
}

// runRun parses the runbook and the answers, opens the journal and runs a
// new session.
func runRun(ctx context.Context, opts *runOptions) error {
	f := opts.f
	mode, err := parseMode(opts.Mode)
	if err != nil {
		return err
	}
	vars, err := parseVars(opts.Vars)
	if err != nil {
		return err
	}
	if opts.Target == "" {
		if opts.Pick == nil {
			return usageError(errors.New("no runbook given: lockstep run RUNBOOK|PROTOCOL --env ENV"))
		}
		if opts.Target, err = pickTarget(ctx, opts.Pick, "."); err != nil {
			return err
		}
	}
	// A runbook that does not parse is reported in full before any journal is touched.
	rb, err := loadRunbook(f, opts.Target)
	if err != nil {
		return err
	}
	if err := checkVars(vars, rb); err != nil {
		return err
	}
	if opts.Env == "" {
		if opts.Env, err = pickEnv(ctx, opts.Pick, rb); err != nil {
			return err
		}
	}
	env := rb.Env(opts.Env)
	if env == nil {
		return usageError(fmt.Errorf("runbook %s has no environment %q (it has %s)", rb.Path, opts.Env, envNames(rb)))
	}
	if err := enforceLint(f, rb, env, mode); err != nil {
		return err
	}
	if env.Protected && opts.Yes {
		return usageError(fmt.Errorf("--yes is refused for the protected environment %q: confirm by typing its name, or put `confirm_env: %s` in the --answers file", env.Name, env.Name))
	}
	operator, err := f.operator(opts.Operator)
	if err != nil {
		return err
	}
	answers, err := loadAnswers(opts.AnswersFile, rb)
	if err != nil {
		return err
	}
	j, err := f.openJournal(opts.JournalPath)
	if err != nil {
		return err
	}
	defer j.Close()
	cfg := engine.Config{
		Runbook: rb, Env: env.Name, Mode: mode, Operator: operator, Vars: vars, Yes: opts.Yes, StepByStep: opts.Step,
		Journal: j, Stores: openStore(f.Getenv), Publisher: newPublisher(), Getenv: f.Getenv, Stdout: f.Out, WorkDir: workDir(j),
		Steps: withFleet(steps.Default(), f), LintRules: lintRules(),
	}
	return runSession(ctx, f, sessionRequest{cfg: cfg, plain: opts.Plain || answers != nil, answers: answers, yes: opts.Yes,
		resumeArgs: journalArg(opts.JournalPath)})
}

// newPublisher is the engine.Publisher of notify steps' sns channel: SNS
// through the AWS SDK's default configuration (AWS_ENDPOINT_URL_SNS for a
// local endpoint), loaded on the first publish only.
func newPublisher() engine.Publisher { return sns.New() }

// parseMode validates --mode.
func parseMode(s string) (engine.Mode, error) {
	switch m := engine.Mode(s); m {
	case engine.ModeLive, engine.ModeRehearsal, engine.ModeDryRun:
		return m, nil
	}
	return "", usageError(fmt.Errorf("unknown --mode %q: want live, rehearsal or dry-run", s))
}

// parseVars reads --var K=V flags.
func parseVars(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageError(fmt.Errorf("bad --var %q: want NAME=VALUE", kv))
		}
		out[k] = v
	}
	return out, nil
}

// checkVars refuses a --var the runbook does not declare under vars:
// expressions and templates are checked at load against the declared
// vars, so an undeclared one is a typo that nothing would read.
func checkVars(vars map[string]string, rb *runbook.Runbook) error {
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	if err := rb.CheckVars(names); err != nil {
		return usageError(fmt.Errorf("--var: %w", err))
	}
	return nil
}

// envNames lists a runbook's environments for error messages.
func envNames(rb *runbook.Runbook) string {
	names := make([]string, len(rb.Environments))
	for i, e := range rb.Environments {
		names[i] = e.Name
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
