package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// resumeOptions are the inputs of `lockstep resume`.
type resumeOptions struct {
	f *factory

	SessionID   string // "" = the latest stopped session
	Plain       bool
	AnswersFile string
	Operator    string
	Yes         bool
	JournalPath string
}

func newCmdResume(f *factory, runF func(context.Context, *resumeOptions) error) *cobra.Command {
	opts := &resumeOptions{f: f}
	cmd := &cobra.Command{
		Use:   "resume [SESSION]",
		Short: "Resume a stopped or interrupted session (the latest one by default)",
		Long: `Resume a session that stopped resumably (paused, quit, interrupted) or whose
process died. The session's state is rebuilt from its journal; it runs the
runbook exactly as it was when the session started. A step that started and
never finished is interrupted: idempotent steps re-run, others ask (answers:
{retry: true}, {done: "reason"} or {skip: "reason"}).`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.SessionID = args[0]
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runResume(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Plain, "plain", false, "line mode even on a terminal (no TUI)")
	fl.StringVar(&opts.AnswersFile, "answers", "", "YAML answers file for prompts (implies --plain)")
	fl.StringVar(&opts.Operator, "operator", "", "who resumes the session (default $LOCKSTEP_OPERATOR, $USER)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "confirm destructive steps non-interactively (refused for protected environments)")
	fl.StringVar(&opts.JournalPath, "journal", "", "journal file (default $LOCKSTEP_JOURNAL, $XDG_STATE_HOME/lockstep/journal.db)")
	return cmd
}

// runResume finds the session, checks the answers against its runbook and
// resumes it.
func runResume(ctx context.Context, opts *resumeOptions) error {
	f := opts.f
	operator, err := f.operator(opts.Operator)
	if err != nil {
		return err
	}
	j, err := f.openJournal(opts.JournalPath)
	if err != nil {
		return err
	}
	defer j.Close()
	id := opts.SessionID
	if id == "" {
		if id, err = latestResumable(ctx, j); err != nil {
			return err
		}
	}
	info, err := j.Session(ctx, id)
	if err != nil {
		if errors.Is(err, engine.ErrNotFound) {
			return usageError(fmt.Errorf("no session %q in %s (list them with: lockstep journal list)", id, j.Path()))
		}
		return err
	}
	rb, err := runbook.Parse(info.RunbookPath, info.RunbookSource)
	if err != nil {
		var rerrs runbook.Errors
		if errors.As(err, &rerrs) {
			printProblems(f.ErrOut, rerrs)
		}
		return usageError(fmt.Errorf("session %s: its saved runbook no longer parses with this lockstep: %w", id, err))
	}
	if env := rb.Env(info.Env); env != nil && env.Protected && opts.Yes {
		return usageError(fmt.Errorf("--yes is refused for the protected environment %q: put `confirm_env: %s` in the --answers file", env.Name, env.Name))
	}
	answers, err := loadAnswers(opts.AnswersFile, rb)
	if err != nil {
		return err
	}
	getenv := f.Getenv
	if dir := demoJournalDir(j.Path()); dir != "" && info.Runbook == "demo" && getenv("LOCKSTEP_DEMO_DB") == "" {
		// A demo session resumed from its own journal: point the demo's
		// variables at its directory again.
		if getenv, err = demoEnv(f, dir); err != nil {
			return err
		}
	}
	cfg := engine.Config{
		Runbook: rb, Operator: operator, Yes: opts.Yes, Journal: j, Stores: openStore(getenv),
		Publisher: newPublisher(), Getenv: getenv, Stdout: f.Out, WorkDir: workDir(j),
	}
	return runSession(ctx, f, sessionRequest{cfg: cfg, resumeID: id, plain: opts.Plain || answers != nil, answers: answers,
		yes: opts.Yes, resumeArgs: journalArg(opts.JournalPath)})
}

// latestResumable returns the newest session that stopped resumably or
// never ended (its process died).
func latestResumable(ctx context.Context, j engine.Journal) (string, error) {
	list, err := j.ListSessions(ctx, engine.SessionFilter{})
	if err != nil {
		return "", err
	}
	for _, s := range list {
		if s.Outcome == engine.OutcomeStopped || s.Outcome == engine.OutcomeRunning {
			return s.ID, nil
		}
	}
	return "", usageError(errors.New("no stopped session to resume (list sessions with: lockstep journal list)"))
}

// journalArg repeats a --journal flag in printed hints.
func journalArg(path string) string {
	if path == "" {
		return ""
	}
	return " --journal " + shellQuote(path)
}
