package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
)

// journalVerifyOptions are the inputs of `lockstep journal verify`.
type journalVerifyOptions struct {
	f  *factory
	jf *journalFlags

	SessionID string // "" = every session
	Format    string
	Env       string // also compare the journal with this environment's registry
	Runbook   string // the runbook whose environment --env names ("" = those of the env's sessions)
}

func newCmdJournalVerify(f *factory, jf *journalFlags, runF func(context.Context, *journalVerifyOptions) error) *cobra.Command {
	opts := &journalVerifyOptions{f: f, jf: jf}
	cmd := &cobra.Command{
		Use:   "verify [ID]",
		Short: "Check the hash chain of one session, or of every session",
		Long: `Recompute the hash chain of a session's events (every session when no ID
is given; ID may be a unique prefix), its link to the previous session, and
check the session row and its checkpoint and applied rows against it.
Exits 1 naming the first bad event (session, seq and reason) when an event was
edited, removed or reordered, or what differs when the session row was edited
(outcome, end time, title, runbook, path...) or deleted (its events remain),
when a session was deleted, truncated or rewritten under a later one, or
when a checkpoint or applied row is not vouched for by the chain.

A session row that only lags its chain (a crash between session.end and the
row update, by older lockstep versions) is shown as "fix": not tampering; the
next run or resume repairs it.

Keyed sessions (LOCKSTEP_JOURNAL_KEY was set when they ran: HMAC-SHA256
chain) need the same key; without it they are shown as "key" and the
command exits 2.

With --env ENV, the journal heads are also compared with ENV's registry
(see docs/registry.md), where each session recorded its head when it ended
(the store of --runbook FILE's environment, or of the runbooks of the
journal's sessions in ENV): a session rewritten or truncated, or one the
registry says this journal held but missing from it, exits 1. Sessions the
registry holds from other journals are noted, not checked.

The journal is opened read-only. Exit 2 when the journal cannot be read: a
missing file, a file that is not a journal, an I/O error. See docs/journal.md.`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.SessionID = args[0]
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runJournalVerify(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&opts.Env, "env", "", "also check the journal against this environment's registry")
	cmd.Flags().StringVar(&opts.Runbook, "runbook", "", "with --env: the runbook file whose environment to check (default: the runbooks of the journal's sessions in --env)")
	return cmd
}

func runJournalVerify(ctx context.Context, opts *journalVerifyOptions) error {
	if err := checkFormat(opts.Format, "text", "json"); err != nil {
		return err
	}
	if opts.Runbook != "" && opts.Env == "" {
		return usageError(fmt.Errorf("--runbook needs --env"))
	}
	j, err := opts.f.openJournalRO(opts.jf.JournalPath)
	if err != nil {
		return unreadable(err)
	}
	defer j.Close()
	results, err := verifyResults(ctx, j, opts.SessionID)
	if err != nil {
		return unreadable(err)
	}
	var anchors []engine.AnchorCheck
	if opts.Env != "" {
		if anchors, err = checkAnchors(ctx, opts, j); err != nil {
			return unreadable(err)
		}
	}
	if opts.Format == "json" {
		var v any = results
		if opts.Env != "" {
			v = map[string]any{"sessions": results, "anchors": anchors}
		}
		if err := writeJSON(opts.f.Out, v); err != nil {
			return err
		}
	} else {
		printVerify(opts.f, j, results, anchors)
	}
	return verifyExit(opts.f, results, anchors)
}

// printVerify writes one line per session (ok, BAD, fix: repairable, key:
// needs the key) and per anchored session.
func printVerify(f *factory, j *journal.Journal, results []engine.VerifyResult, anchors []engine.AnchorCheck) {
	for _, r := range results {
		switch {
		case r.OK:
			fmt.Fprintf(f.Out, "ok   %s  %d events\n", r.SessionID, r.Events)
		case r.Repairable:
			fmt.Fprintf(f.Out, "fix  %s  %s\n", r.SessionID, r.Reason)
		case r.NeedsKey:
			fmt.Fprintf(f.Out, "key  %s  %s\n", r.SessionID, r.Reason)
		default:
			fmt.Fprintf(f.Out, "BAD  %s  %s\n", r.SessionID, badWhere(r))
		}
	}
	if len(results) == 0 {
		fmt.Fprintf(f.ErrOut, "no sessions in %s\n", j.Path())
	}
	for _, a := range anchors {
		if a.OK {
			fmt.Fprintf(f.Out, "ok   %s  matches its %d anchor(s)\n", a.SessionID, a.Anchors)
		} else {
			fmt.Fprintf(f.Out, "BAD  %s  anchor: %s\n", a.SessionID, a.Reason)
		}
	}
}

// verifyExit is the outcome: exit 1 for a mismatch (the first is named on
// stderr), else exit 2 when keyed sessions could not be checked.
func verifyExit(f *factory, results []engine.VerifyResult, anchors []engine.AnchorCheck) error {
	keyed := 0
	for _, r := range results {
		switch {
		case r.OK, r.Repairable:
		case r.NeedsKey:
			keyed++
		default:
			fmt.Fprintf(f.ErrOut, "journal verify: session %s: %s\n", r.SessionID, badWhere(r))
			return silentExit(exitFailed, fmt.Errorf("session %s: %s", r.SessionID, badWhere(r)))
		}
	}
	for _, a := range anchors {
		if !a.OK {
			fmt.Fprintf(f.ErrOut, "journal verify: session %s: anchor: %s\n", a.SessionID, a.Reason)
			return silentExit(exitFailed, fmt.Errorf("session %s: anchor: %s", a.SessionID, a.Reason))
		}
	}
	if keyed > 0 {
		fmt.Fprintf(f.ErrOut, "journal verify: %d keyed session(s) not checked: set LOCKSTEP_JOURNAL_KEY to their key\n", keyed)
		return silentExit(exitBadInput, fmt.Errorf("%d keyed sessions not checked: %w", keyed, journal.ErrKeyRequired))
	}
	return nil
}

// unreadable makes an error reading the journal (or the store) exit 2:
// exit 1 is kept for a real mismatch.
func unreadable(err error) error {
	var e *exitError
	if errors.As(err, &e) {
		return err
	}
	return &exitError{code: exitBadInput, err: fmt.Errorf("journal verify: %w", err)}
}

// verifyResults verifies the session id (a unique prefix will do; a
// session whose row was deleted but whose events remain is reported as
// bad), or every session and every orphaned event when id is "".
func verifyResults(ctx context.Context, j *journal.Journal, id string) ([]engine.VerifyResult, error) {
	if id == "" {
		return j.VerifyAll(ctx)
	}
	info, err := findSession(ctx, j, id)
	if errors.Is(err, engine.ErrNotFound) {
		// No row: Verify still reports events left without one.
		if res, verr := j.Verify(ctx, id); verr == nil {
			return []engine.VerifyResult{res}, nil
		}
	}
	if err != nil {
		return nil, err
	}
	res, err := j.Verify(ctx, info.ID)
	if err != nil {
		return nil, fmt.Errorf("verify session %s: %w", info.ID, err)
	}
	return []engine.VerifyResult{res}, nil
}

// badWhere says where a session failed verification: an event, or its
// session row (BadSeq 0).
func badWhere(r engine.VerifyResult) string {
	if r.BadSeq == 0 {
		return r.Reason
	}
	return fmt.Sprintf("event seq %d: %s", r.BadSeq, r.Reason)
}
