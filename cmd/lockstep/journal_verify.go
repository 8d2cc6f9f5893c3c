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
}

func newCmdJournalVerify(f *factory, jf *journalFlags, runF func(context.Context, *journalVerifyOptions) error) *cobra.Command {
	opts := &journalVerifyOptions{f: f, jf: jf}
	cmd := &cobra.Command{
		Use:   "verify [ID]",
		Short: "Check the hash chain of one session, or of every session",
		Long: `Recompute the SHA-256 chain of a session's events (every session when no ID
is given; ID may be a unique prefix) and check the session row against it.
Exits 1 naming the first bad event (session, seq and reason) when an event was
edited, removed or reordered, or what differs when the session row was edited
(outcome, end time, title, runbook, path...) or deleted (its events remain).
The journal is opened read-only; a missing journal file is an error (exit 2).`,
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
	return cmd
}

func runJournalVerify(ctx context.Context, opts *journalVerifyOptions) error {
	if err := checkFormat(opts.Format, "text", "json"); err != nil {
		return err
	}
	j, err := opts.f.openJournalRO(opts.jf.JournalPath)
	if err != nil {
		return err
	}
	defer j.Close()
	results, err := verifyResults(ctx, j, opts.SessionID)
	if err != nil {
		return err
	}
	var firstBad *engine.VerifyResult
	for i := range results {
		if !results[i].OK {
			firstBad = &results[i]
			break
		}
	}
	out := opts.f.Out
	if opts.Format == "json" {
		if err := writeJSON(out, results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			if r.OK {
				fmt.Fprintf(out, "ok   %s  %d events\n", r.SessionID, r.Events)
			} else {
				fmt.Fprintf(out, "BAD  %s  %s\n", r.SessionID, badWhere(r))
			}
		}
		if len(results) == 0 {
			fmt.Fprintf(opts.f.ErrOut, "no sessions in %s\n", j.Path())
		}
	}
	if firstBad != nil {
		fmt.Fprintf(opts.f.ErrOut, "journal verify: session %s: %s\n", firstBad.SessionID, badWhere(*firstBad))
		return silentExit(exitFailed, fmt.Errorf("session %s: %s", firstBad.SessionID, badWhere(*firstBad)))
	}
	return nil
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
