package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/engine"
)

// journalShowOptions are the inputs of `lockstep journal show` and
// `lockstep journal export`.
type journalShowOptions struct {
	f  *factory
	jf *journalFlags

	SessionID string
	Format    string // show: text | json; export: md | json | html
	Output    string // export: file ("" = stdout)
	Force     bool   // export: overwrite Output if it exists
}

func newCmdJournalShow(f *factory, jf *journalFlags, runF func(context.Context, *journalShowOptions) error) *cobra.Command {
	opts := &journalShowOptions{f: f, jf: jf}
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a session's timeline: steps, durations, decisions, approvals",
		Long: `Show a session's timeline. --format json prints the Timeline JSON: the
session, every step with its start and end, and every decision and approval
with its reason and operator. ID may be a unique prefix.

On a terminal the timeline is rendered (results as tables, sizes and
durations for people) and paged through $PAGER (default "less -R") when
taller than the screen; piped or redirected, it is the Markdown itself.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.SessionID = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runJournalShow(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output format: text or json")
	return cmd
}

func newCmdJournalExport(f *factory, jf *journalFlags, runF func(context.Context, *journalShowOptions) error) *cobra.Command {
	opts := &journalShowOptions{f: f, jf: jf}
	cmd := &cobra.Command{
		Use:   "export ID --format md|json|html",
		Short: "Export a session's timeline as Markdown (an audit report), JSON or a self-contained HTML report",
		Long: `Export a session's timeline. ID may be a unique prefix.

--format md is the audit report in Markdown, --format json the Timeline
JSON (see "journal show"). --format html is one self-contained page for
reviewers away from a terminal: a header (runbook, environment, mode,
operator, outcome, whether the journal's hash chain verified), a timeline
of phases and steps with attempts and pauses, per migrate step a
throughput chart with throttles, conflicts and rate changes and the
estimate against the actual, the decisions, approvals and skips with
their operator, time and reason, and the learnings. Charts are inline SVG
and the page loads nothing (its Content-Security-Policy forbids it); it
prints and reads on a phone. Built from the journal's events, which are
redacted when journaled: no secret reaches it. See docs/journal.md.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.SessionID = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runJournalExport(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "md", "output format: md, json or html")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write to this file instead of stdout (refused if it exists, unless --force)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "overwrite the -o FILE if it exists")
	return cmd
}

func runJournalShow(ctx context.Context, opts *journalShowOptions) error {
	if err := checkFormat(opts.Format, "text", "json"); err != nil {
		return err
	}
	if opts.Format == "json" {
		return showTimeline(ctx, opts, "json", opts.f.Out)
	}
	// On a terminal the Markdown is rendered, and paged when taller than
	// the screen; a pipe or a file gets the Markdown itself.
	var buf bytes.Buffer
	if err := showTimeline(ctx, opts, "md", &buf); err != nil {
		return err
	}
	return showMarkdown(stdoutScreen(opts.f.Out, opts.f.Getenv), buf.Bytes())
}

func runJournalExport(ctx context.Context, opts *journalShowOptions) error {
	if err := checkFormat(opts.Format, "md", "json", "html"); err != nil {
		return err
	}
	if opts.Output == "" {
		return showTimeline(ctx, opts, opts.Format, opts.f.Out)
	}
	if !opts.Force {
		// Checked first to fail fast; writeFileAtomic checks again.
		if _, err := os.Lstat(opts.Output); err == nil {
			return usageError(fmt.Errorf("%s already exists: choose another -o FILE or pass --force", opts.Output))
		}
	}
	// Rendered in full before the file is touched: an unknown session or
	// a failure mid-render leaves FILE as it was.
	var buf bytes.Buffer
	if err := showTimeline(ctx, opts, opts.Format, &buf); err != nil {
		return err
	}
	if err := writeFileAtomic(opts.Output, buf.Bytes(), 0o600, opts.Force); err != nil {
		return err
	}
	fmt.Fprintf(opts.f.ErrOut, "wrote %s\n", opts.Output)
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, renamed into place once complete, so a reader never sees a
// partial file and a failure leaves path as it was. Without force an
// existing path is refused (exit 2), as `protocols new -o` does.
func writeFileAtomic(path string, data []byte, perm os.FileMode, force bool) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if force {
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}
	// A hard link never replaces an existing file: no window in which
	// another writer's file could be clobbered.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return usageError(fmt.Errorf("%s already exists: choose another -o FILE or pass --force", path))
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Remove(tmp.Name())
}

// showTimeline writes the timeline of the session in format md, json or
// html (the HTML report, with the session's hash chain verified).
func showTimeline(ctx context.Context, opts *journalShowOptions, format string, w io.Writer) error {
	j, err := opts.f.openJournalRO(opts.jf.JournalPath)
	if err != nil {
		return err
	}
	defer j.Close()
	info, err := findSession(ctx, j, opts.SessionID)
	if err != nil {
		return err
	}
	events, err := j.Events(ctx, info.ID)
	if err != nil {
		return err
	}
	if format == "html" {
		return writeHTMLReport(ctx, w, j, info, events)
	}
	return writeTimeline(w, info, events, format)
}

// findSession returns the session with the given id, or the only session
// whose id starts with it.
func findSession(ctx context.Context, j engine.Journal, id string) (engine.SessionInfo, error) {
	info, err := j.Session(ctx, id)
	if err == nil {
		return info, nil
	}
	if !errors.Is(err, engine.ErrNotFound) {
		return info, err
	}
	list, lerr := j.ListSessions(ctx, engine.SessionFilter{})
	if lerr != nil {
		return info, lerr
	}
	var matches []engine.SessionInfo
	for _, s := range list {
		if strings.HasPrefix(s.ID, id) {
			matches = append(matches, s)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		where := ""
		if p, ok := j.(interface{ Path() string }); ok {
			where = " in " + p.Path()
		}
		return info, usageError(&noSessionError{msg: fmt.Sprintf("no session %q%s (list them with: lockstep journal list)", id, where)})
	}
	return info, usageError(fmt.Errorf("%q matches %d sessions: give more of the id", id, len(matches)))
}

// noSessionError is an id no session of the journal has (or starts with);
// it is engine.ErrNotFound, which its message says in its own words.
type noSessionError struct{ msg string }

func (e *noSessionError) Error() string        { return e.msg }
func (e *noSessionError) Is(target error) bool { return target == engine.ErrNotFound }
