package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/engine"
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
is given). Exits 1 naming the first bad event (session, seq and reason) when
an event was edited, removed or reordered.`,
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
	j, err := opts.f.openJournal(opts.jf.JournalPath)
	if err != nil {
		return err
	}
	defer j.Close()
	var ids []string
	if opts.SessionID != "" {
		info, err := findSession(ctx, j, opts.SessionID)
		if err != nil {
			return err
		}
		ids = []string{info.ID}
	} else {
		list, err := j.ListSessions(ctx, engine.SessionFilter{})
		if err != nil {
			return err
		}
		// Oldest first, so "the first bad event" is the earliest one.
		for i := len(list) - 1; i >= 0; i-- {
			ids = append(ids, list[i].ID)
		}
	}
	results := make([]engine.VerifyResult, 0, len(ids))
	var firstBad *engine.VerifyResult
	for _, id := range ids {
		res, err := j.Verify(ctx, id)
		if err != nil {
			return fmt.Errorf("verify session %s: %w", id, err)
		}
		results = append(results, res)
		if !res.OK && firstBad == nil {
			firstBad = &results[len(results)-1]
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
				fmt.Fprintf(out, "BAD  %s  event seq %d: %s\n", r.SessionID, r.BadSeq, r.Reason)
			}
		}
		if len(results) == 0 {
			fmt.Fprintf(opts.f.ErrOut, "no sessions in %s\n", j.Path())
		}
	}
	if firstBad != nil {
		fmt.Fprintf(opts.f.ErrOut, "journal verify: session %s: event seq %d: %s\n", firstBad.SessionID, firstBad.BadSeq, firstBad.Reason)
		return silentExit(exitFailed, fmt.Errorf("session %s: event seq %d: %s", firstBad.SessionID, firstBad.BadSeq, firstBad.Reason))
	}
	return nil
}
