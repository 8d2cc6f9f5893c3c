package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/runbook"
)

// resumeOptions are the inputs of `lockstep resume`.
type resumeOptions struct {
	f *factory

	SessionID   string // "" = the latest stopped session; a unique prefix will do
	Plain       bool
	AnswersFile string
	Operator    string
	Yes         bool
	Step        bool // ask before each automated step (run / skip with reason)
	Vars        []string
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
{retry: true}, {done: "reason"} or {skip: "reason"}).

SESSION may be a unique prefix of the id. A session still run by a live
process (on this machine) is never resumed: resume exits 2 naming who holds
it (operator, host, pid, since when), and without SESSION it skips such
sessions. A session whose process died, even by kill -9, is resumable. A session
whose journaled events do not verify (edited or deleted: see lockstep
journal verify) is refused (exit 2). When the runbook's file changed since
the session started, resume says so and still runs the saved copy.

The session runs with the vars it started with. The journal keeps them
redacted, so a var that held a secret (a value of a secrets: variable, or a
credential) must be given again with --var NAME=VALUE: resume refuses (exit
2) naming it otherwise. A --var for any other var must repeat the value the
session started with.`,
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
	fl.BoolVar(&opts.Step, "step", false, "step by step: before each automated step, ask run or skip (answers: {run: true} | {skip: \"reason\"})")
	fl.StringArrayVar(&opts.Vars, "var", nil, "a var the session started with: K=V (repeatable; required for vars the journal keeps redacted)")
	fl.StringVar(&opts.JournalPath, "journal", "", "journal file (default $LOCKSTEP_JOURNAL, $XDG_STATE_HOME/lockstep/journal.db)")
	return cmd
}

// runResume finds the session, checks the answers against its runbook and
// resumes it. The session is looked up read-only first, so a mistyped
// --journal creates nothing; a session a live process still runs is
// refused (exit 2) naming who holds it.
func runResume(ctx context.Context, opts *resumeOptions) error {
	f := opts.f
	operator, err := f.operator(opts.Operator)
	if err != nil {
		return err
	}
	vars, err := parseVars(opts.Vars)
	if err != nil {
		return err
	}
	info, err := findResumable(ctx, f, opts)
	if err != nil {
		return err
	}
	id := info.ID
	rb, err := runbook.Parse(info.RunbookPath, info.RunbookSource)
	if err != nil {
		var rerrs runbook.Errors
		if errors.As(err, &rerrs) {
			printProblems(f.ErrOut, rerrs)
		}
		return usageError(fmt.Errorf("session %s: its saved runbook no longer parses with this lockstep: %w", id, err))
	}
	noteChangedRunbook(f, info)
	if err := checkVars(vars, rb); err != nil {
		return err
	}
	if env := rb.Env(info.Env); env != nil && env.Protected && opts.Yes {
		return usageError(fmt.Errorf("--yes is refused for the protected environment %q: put `confirm_env: %s` in the --answers file", env.Name, env.Name))
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
	getenv := f.Getenv
	if dir := demoJournalDir(j.Path()); dir != "" && info.Runbook == "demo" && getenv("LOCKSTEP_DEMO_DB") == "" {
		// A demo session resumed from its own journal: point the demo's
		// variables at its directory again.
		if getenv, err = demoEnv(f, dir); err != nil {
			return err
		}
	}
	cfg := engine.Config{
		Runbook: rb, Operator: operator, Vars: vars, Yes: opts.Yes, StepByStep: opts.Step, Journal: j, Stores: openStore(getenv),
		Publisher: newPublisher(), Getenv: getenv, Stdout: f.Out, WorkDir: workDir(j), Steps: withFleet(steps.Default(), f), LintRules: lintRules(),
	}
	err = runSession(ctx, f, sessionRequest{cfg: cfg, resumeID: id, plain: opts.Plain || answers != nil, answers: answers,
		yes: opts.Yes, resumeArgs: journalArg(opts.JournalPath)})
	var held *engine.SessionHeldError
	if errors.As(err, &held) {
		// Another process took the session between the check and the
		// claim: the engine refused it.
		return usageError(held)
	}
	return err
}

// findResumable looks the session up in the journal opened read-only: the
// session --SESSION names (a unique prefix will do), else the latest one
// resumable. One that a live process holds, or whose hash chain does not
// verify, is refused.
func findResumable(ctx context.Context, f *factory, opts *resumeOptions) (engine.SessionInfo, error) {
	j, err := f.openJournalRO(opts.JournalPath)
	if err != nil {
		return engine.SessionInfo{}, err
	}
	defer j.Close()
	if opts.SessionID == "" {
		info, err := latestResumable(ctx, j)
		if err != nil {
			return info, err
		}
		return info, checkChain(ctx, j, info.ID, opts.JournalPath)
	}
	info, err := findSession(ctx, j, opts.SessionID)
	if err != nil {
		if errors.Is(err, engine.ErrNotFound) {
			return info, usageError(fmt.Errorf("no session %q in %s (list them with: lockstep journal list)", opts.SessionID, j.Path()))
		}
		return info, err
	}
	if owner, held, err := j.SessionHolder(ctx, info.ID); err != nil {
		return info, err
	} else if held {
		return info, usageError(&engine.SessionHeldError{ID: info.ID, Owner: owner})
	}
	if err := checkChain(ctx, j, info.ID, opts.JournalPath); err != nil {
		return info, err
	}
	return j.Session(ctx, info.ID)
}

// checkChain refuses (exit 2) to resume a session whose hash chain does
// not verify — its state would be rebuilt from edited or missing events —
// or that has no event at all (its session.start could not be written).
// A session row that only lags its chain (a crash before the row was
// updated) and a keyed session read without its key are left to the
// journal's own checks.
func checkChain(ctx context.Context, j engine.Journal, id, journalFlag string) error {
	res, err := j.Verify(ctx, id)
	if err != nil {
		return fmt.Errorf("verify session %s: %w", id, err)
	}
	if res.OK && res.Events == 0 {
		return usageError(fmt.Errorf("session %s never started: its first event was not journaled (a full disk?), so there is nothing to resume; "+
			"start a new session with lockstep run", id))
	}
	if res.OK || res.Repairable || res.NeedsKey {
		return nil
	}
	where := res.Reason
	if res.BadSeq > 0 {
		where = fmt.Sprintf("event seq %d: %s", res.BadSeq, res.Reason)
	}
	return usageError(fmt.Errorf("session %s does not verify (%s): its journal was edited, so resume cannot trust it; "+
		"see lockstep journal verify %s%s, and start a new session with lockstep run", id, where, id, journalArg(journalFlag)))
}

// latestResumable returns the newest session that stopped resumably or
// never ended (its process died), skipping those a live process still
// runs.
func latestResumable(ctx context.Context, j engine.Journal) (engine.SessionInfo, error) {
	list, err := j.ListSessions(ctx, engine.SessionFilter{})
	if err != nil {
		return engine.SessionInfo{}, err
	}
	var running []string
	for _, s := range list {
		if s.Outcome != engine.OutcomeStopped && s.Outcome != engine.OutcomeRunning {
			continue
		}
		owner, held, err := j.SessionHolder(ctx, s.ID)
		if err != nil {
			return engine.SessionInfo{}, err
		}
		if held {
			running = append(running, fmt.Sprintf("%s (held by %s)", s.ID, owner))
			continue
		}
		return j.Session(ctx, s.ID)
	}
	msg := "no stopped session to resume (list sessions with: lockstep journal list)"
	if len(running) > 0 {
		msg = fmt.Sprintf("no stopped session to resume: running now, so not resumable: %s", strings.Join(running, ", "))
	}
	return engine.SessionInfo{}, usageError(errors.New(msg))
}

// noteChangedRunbook says so when the runbook's file changed since the
// session started: resume runs the copy saved in the journal, so an
// operator who fixed the file must start a new session for the fix to
// run. A file gone or unreadable changes nothing and is not mentioned.
func noteChangedRunbook(f *factory, info engine.SessionInfo) {
	src, err := os.ReadFile(info.RunbookPath)
	if err != nil {
		return
	}
	if sum := sha256.Sum256(src); hex.EncodeToString(sum[:]) == info.RunbookSHA256 {
		return
	}
	fmt.Fprintf(f.ErrOut, "lockstep: note: %s changed since session %s started; resume runs the runbook saved in the journal "+
		"(to run the changed one, start a new session: %s run %s --env %s)\n",
		info.RunbookPath, info.ID, f.self(), shellQuote(info.RunbookPath), info.Env)
}

// journalArg repeats a --journal flag in printed hints.
func journalArg(path string) string {
	if path == "" {
		return ""
	}
	return " --journal " + shellQuote(path)
}
