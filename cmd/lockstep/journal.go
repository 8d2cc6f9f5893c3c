package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/engine"
)

// journalFlags are the flags every journal subcommand shares.
type journalFlags struct {
	JournalPath string
}

func (jf *journalFlags) register(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&jf.JournalPath, "journal", "", "journal file (default $LOCKSTEP_JOURNAL, $XDG_STATE_HOME/lockstep/journal.db)")
}

func newCmdJournal(f *factory) *cobra.Command {
	jf := &journalFlags{}
	listOpts := &journalListOptions{f: f, jf: jf, Format: "text"}
	cmd := &cobra.Command{
		Use:   "journal",
		Short: "Review past sessions: list, show, export, verify, diff",
		Long: `Review the journal of past sessions. Without a subcommand it opens the
journal browser on a terminal, and lists sessions otherwise.

JSON shapes (--format json) are stable:
  journal list    [SessionInfo...]  {"id","runbook","runbook_path","runbook_sha256",
                  "title","env","mode","operator","started","ended","outcome","events"}
  journal show    the session's timeline (see "journal export --format json")
  journal verify  [{"session","events","ok","bad_seq","reason"}...]`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.IsTerminal() {
				return runJournalBrowser(cmd.Context(), f, jf)
			}
			return runJournalList(cmd.Context(), listOpts)
		},
	}
	jf.register(cmd)
	cmd.AddCommand(
		newCmdJournalList(f, jf, nil),
		newCmdJournalShow(f, jf, nil),
		newCmdJournalExport(f, jf, nil),
		newCmdJournalVerify(f, jf, nil),
		newCmdJournalDiff(f, jf, nil),
	)
	return cmd
}

// journalListOptions are the inputs of `lockstep journal list`.
type journalListOptions struct {
	f  *factory
	jf *journalFlags

	Format  string
	Env     string
	Runbook string
	Outcome string
	Limit   int
}

func newCmdJournalList(f *factory, jf *journalFlags, runF func(context.Context, *journalListOptions) error) *cobra.Command {
	opts := &journalListOptions{f: f, jf: jf}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List sessions, newest first",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runJournalList(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Format, "format", "text", "output format: text or json")
	fl.StringVar(&opts.Env, "env", "", "only sessions in this environment")
	fl.StringVar(&opts.Runbook, "runbook", "", "only sessions of this runbook (name)")
	fl.StringVar(&opts.Outcome, "outcome", "", "only sessions with this outcome (completed, failed, aborted, stopped, rolled-back)")
	fl.IntVar(&opts.Limit, "limit", 0, "at most this many sessions (0: all)")
	return cmd
}

func runJournalList(ctx context.Context, opts *journalListOptions) error {
	if err := checkFormat(opts.Format, "text", "json"); err != nil {
		return err
	}
	j, err := opts.f.openJournal(opts.jf.JournalPath)
	if err != nil {
		return err
	}
	defer j.Close()
	list, err := j.ListSessions(ctx, engine.SessionFilter{Env: opts.Env, Runbook: opts.Runbook,
		Outcome: engine.Outcome(opts.Outcome), Limit: opts.Limit})
	if err != nil {
		return err
	}
	if opts.Format == "json" {
		if list == nil {
			list = []engine.SessionInfo{}
		}
		return writeJSON(opts.f.Out, list)
	}
	if len(list) == 0 {
		fmt.Fprintf(opts.f.ErrOut, "no sessions in %s\n", j.Path())
		return nil
	}
	tw := tabwriter.NewWriter(opts.f.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tRUNBOOK\tENV\tMODE\tOPERATOR\tSTARTED\tDURATION\tOUTCOME")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Runbook, s.Env, s.Mode, s.Operator,
			s.Started.Local().Format("2006-01-02 15:04"), sessionDuration(s), outcomeText(s.Outcome))
	}
	return tw.Flush()
}

// sessionDuration renders how long a session ran ("" while it runs).
func sessionDuration(s engine.SessionInfo) string {
	if s.Ended.IsZero() {
		return "-"
	}
	return s.Ended.Sub(s.Started).Round(time.Second).String()
}

// outcomeText renders an outcome; "" is a session that never ended.
func outcomeText(o engine.Outcome) string {
	if o == engine.OutcomeRunning {
		return "running/interrupted"
	}
	return string(o)
}

// checkFormat validates a --format flag.
func checkFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return usageError(fmt.Errorf("unknown --format %q: want one of %v", format, allowed))
}

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
