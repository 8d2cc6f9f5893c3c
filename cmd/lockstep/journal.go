package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
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
                  "title","env","mode","operator","started","ended","outcome","events",
                  "held_by"}; "held_by" {"operator","host","pid","since"} is present
                  only while a live process runs the session
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
	j, err := opts.f.openJournalRO(opts.jf.JournalPath)
	if errors.Is(err, journal.ErrNoJournal) {
		// Listing a journal no session has created yet lists nothing;
		// the commands that check or show a session fail instead.
		fmt.Fprintf(opts.f.ErrOut, "no sessions: no journal file at %s%s\n", opts.f.journalPath(opts.jf.JournalPath), opts.f.demoJournalHint(opts.jf.JournalPath))
		if opts.Format == "json" {
			return writeJSON(opts.f.Out, []listedSession{})
		}
		return nil
	}
	if err != nil {
		return err
	}
	defer j.Close()
	list, err := j.ListSessions(ctx, engine.SessionFilter{Env: opts.Env, Runbook: opts.Runbook,
		Outcome: engine.Outcome(opts.Outcome), Limit: opts.Limit})
	if err != nil {
		return err
	}
	rows := make([]listedSession, 0, len(list))
	for _, s := range list {
		rows = append(rows, listSession(ctx, j, s))
	}
	if opts.Format == "json" {
		return writeJSON(opts.f.Out, rows)
	}
	if len(list) == 0 {
		fmt.Fprintf(opts.f.ErrOut, "no sessions in %s\n", j.Path())
		return nil
	}
	tw := tabwriter.NewWriter(opts.f.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tRUNBOOK\tENV\tMODE\tOPERATOR\tSTARTED\tDURATION\tOUTCOME")
	for _, r := range rows {
		s := r.SessionInfo
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Runbook, s.Env, s.Mode, s.Operator,
			s.Started.Local().Format("2006-01-02 15:04"), sessionDuration(s), r.outcomeText())
	}
	return tw.Flush()
}

// listedSession is a row of `journal list`: the session and, while a live
// process runs it, who holds it ("held_by" in JSON, absent otherwise).
type listedSession struct {
	engine.SessionInfo
	HeldBy *engine.SessionOwner `json:"held_by,omitempty"`
	probed bool                 // whether a never-ended session could be probed
}

// listSession probes a session that never ended for a live holder.
func listSession(ctx context.Context, j engine.Journal, s engine.SessionInfo) listedSession {
	r := listedSession{SessionInfo: s}
	if s.Outcome != engine.OutcomeRunning {
		return r
	}
	owner, held, err := j.SessionHolder(ctx, s.ID)
	r.probed = err == nil
	if held {
		r.HeldBy = &owner
	}
	return r
}

// outcomeText renders the outcome column: a session that never ended is
// running while a live process holds it, interrupted once none does.
func (r listedSession) outcomeText() string {
	switch {
	case r.Outcome != engine.OutcomeRunning:
		return string(r.Outcome)
	case r.HeldBy != nil:
		if r.HeldBy.PID > 0 {
			return fmt.Sprintf("running (pid %d)", r.HeldBy.PID)
		}
		return "running"
	case r.probed:
		return "interrupted"
	}
	return "running/interrupted"
}

// sessionDuration renders how long a session ran ("" while it runs).
func sessionDuration(s engine.SessionInfo) string {
	if s.Ended.IsZero() {
		return "-"
	}
	return s.Ended.Sub(s.Started).Round(time.Second).String()
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
