package main

import (
	"context"

	"github.com/spf13/cobra"
)

// journalDiffOptions are the inputs of `lockstep journal diff`.
type journalDiffOptions struct {
	f  *factory
	jf *journalFlags

	A, B   string
	Format string
}

func newCmdJournalDiff(f *factory, jf *journalFlags, runF func(context.Context, *journalDiffOptions) error) *cobra.Command {
	opts := &journalDiffOptions{f: f, jf: jf}
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Compare two sessions step by step: status, duration, decisions (e.g. rehearsal vs production)",
		Args:  usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.A, opts.B = args[0], args[1]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runJournalDiff(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output format: text, json or html (a self-contained page with a chart of the durations)")
	return cmd
}

func runJournalDiff(ctx context.Context, opts *journalDiffOptions) error {
	if err := checkFormat(opts.Format, "text", "json", "html"); err != nil {
		return err
	}
	j, err := opts.f.openJournalRO(opts.jf.JournalPath)
	if err != nil {
		return err
	}
	defer j.Close()
	a, err := findSession(ctx, j, opts.A)
	if err != nil {
		return err
	}
	b, err := findSession(ctx, j, opts.B)
	if err != nil {
		return err
	}
	evA, err := j.Events(ctx, a.ID)
	if err != nil {
		return err
	}
	evB, err := j.Events(ctx, b.ID)
	if err != nil {
		return err
	}
	if opts.Format == "html" {
		return writeHTMLDiff(ctx, opts.f.Out, j, a, evA, b, evB)
	}
	return writeDiff(opts.f.Out, a, evA, b, evB, opts.Format)
}
