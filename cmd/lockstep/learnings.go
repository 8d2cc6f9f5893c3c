package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/protocols"
	"github.com/lockstep-run/lockstep/runbook"
)

// learningPrefix marks a note as a learning: a note whose text starts with
// it (any case, after spaces) is carried forward to the next runs of the
// runbook and of the protocol it came from.
const learningPrefix = "learning:"

// learning is one note marked as a learning, with where it was taken. Its
// JSON shape is documented in `lockstep learnings --help`.
type learning struct {
	Runbook  string      `json:"runbook"`
	Protocol string      `json:"protocol,omitempty"` // the built-in protocol the runbook came from, if known
	Session  string      `json:"session"`
	Env      string      `json:"env"`
	Mode     engine.Mode `json:"mode"`
	Operator string      `json:"operator"`
	Time     time.Time   `json:"time"`
	Step     string      `json:"step,omitempty"`
	Text     string      `json:"text"` // without the "learning:" mark
}

// learningsJournal is what learningsFor reads of a journal.
type learningsJournal interface {
	ListSessions(ctx context.Context, filter engine.SessionFilter) ([]engine.SessionInfo, error)
	Session(ctx context.Context, id string) (engine.SessionInfo, error)
	Events(ctx context.Context, sessionID string) ([]engine.Event, error)
}

// notesReader is a journal that reads events of some kinds only (the
// SQLite journal): a journal of long migrations holds thousands of
// progress events for every note.
type notesReader interface {
	EventsOfKind(ctx context.Context, sessionID string, kinds ...engine.EventKind) ([]engine.Event, error)
}

// notesOf returns the notes of a session, all its events when the journal
// cannot read notes alone (learningText skips the rest).
func notesOf(ctx context.Context, j learningsJournal, id string) ([]engine.Event, error) {
	if r, ok := j.(notesReader); ok {
		return r.EventsOfKind(ctx, id, engine.EvNote)
	}
	return j.Events(ctx, id)
}

// learningsFor gathers the learnings of every session of the journal
// whose runbook is called name, or came from the built-in protocol name
// (run directly, or started with `protocols new --from`); every session's
// when name is "". They are sorted by runbook, then time.
func learningsFor(ctx context.Context, j learningsJournal, name string) ([]learning, error) {
	sessions, err := j.ListSessions(ctx, engine.SessionFilter{})
	if err != nil {
		return nil, fmt.Errorf("gather learnings: %w", err)
	}
	var out []learning
	for _, s := range sessions {
		full, err := j.Session(ctx, s.ID)
		if err != nil {
			return nil, fmt.Errorf("gather learnings: %w", err)
		}
		proto := protocolOf(full)
		if name != "" && name != s.Runbook && name != proto {
			continue
		}
		events, err := notesOf(ctx, j, s.ID)
		if err != nil {
			return nil, fmt.Errorf("gather learnings: %w", err)
		}
		for _, ev := range events {
			text, ok := learningText(ev)
			if !ok {
				continue
			}
			out = append(out, learning{Runbook: s.Runbook, Protocol: proto, Session: s.ID, Env: s.Env,
				Mode: s.Mode, Operator: ev.Operator, Time: ev.Time, Step: ev.Step, Text: text})
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Runbook != out[b].Runbook {
			return out[a].Runbook < out[b].Runbook
		}
		return out[a].Time.Before(out[b].Time)
	})
	return out, nil
}

// protocolOf is the built-in protocol a session's runbook came from: the
// protocol itself when it was run by name, else its `protocols new` header.
func protocolOf(s engine.SessionInfo) string {
	if s.RunbookPath == protocols.BuiltinPath(s.Runbook) {
		return s.Runbook
	}
	return protocols.Origin(s.RunbookSource)
}

// learningText returns the text of an operator's note marked as a
// learning, without its mark.
func learningText(ev engine.Event) (string, bool) {
	if ev.Kind != engine.EvNote {
		return "", false
	}
	d, err := engine.DecodeAs[engine.Note](ev)
	if err != nil || d.By == engine.NoteByLockstep {
		return "", false
	}
	t := strings.TrimSpace(d.Text)
	if len(t) < len(learningPrefix) || !strings.EqualFold(t[:len(learningPrefix)], learningPrefix) {
		return "", false
	}
	t = strings.TrimSpace(t[len(learningPrefix):])
	return t, t != ""
}

// learningsOptions are the inputs of `lockstep learnings`.
type learningsOptions struct {
	f *factory

	JournalPath string
	Runbook     string
	Format      string
}

func newCmdLearnings(f *factory, runF func(context.Context, *learningsOptions) error) *cobra.Command {
	opts := &learningsOptions{f: f}
	cmd := &cobra.Command{
		Use:   "learnings [RUNBOOK]",
		Short: "Gather the learnings noted in past sessions, per runbook",
		Long: `A note taken during a session (n in the TUI, a step's note: in an
answers file) whose text starts with "learning:" is a learning. This
gathers them across the journal's sessions, grouped by runbook: those of RUNBOOK only when given — a runbook name, or a
built-in protocol's name, which also gathers the runbooks started from it
with "protocols new --from".

JSON shape (--format json) is stable:
  [{"runbook","protocol","session","env","mode","operator","time","step","text"}...]
  ("protocol" and "step" are left out when unknown)`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Runbook = args[0]
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runLearnings(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "md", "output format: md or json")
	cmd.Flags().StringVar(&opts.JournalPath, "journal", "", "journal file (default $LOCKSTEP_JOURNAL, $XDG_STATE_HOME/lockstep/journal.db)")
	return cmd
}

func runLearnings(ctx context.Context, opts *learningsOptions) error {
	if err := checkFormat(opts.Format, "md", "json"); err != nil {
		return err
	}
	if err := checkLearningsName(opts.Runbook); err != nil {
		return err
	}
	j, err := opts.f.openJournalRO(opts.JournalPath)
	if err != nil {
		return err
	}
	defer j.Close()
	list, err := learningsFor(ctx, j, opts.Runbook)
	if err != nil {
		return err
	}
	if opts.Format == "json" {
		if list == nil {
			list = []learning{}
		}
		return writeJSON(opts.f.Out, list)
	}
	return writeLearningsMarkdown(opts.f.Out, opts.Runbook, list)
}

// checkLearningsName refuses a runbook's file where its name is expected:
// no session's runbook is called "dir/x.yaml", so the answer would be a
// misleading "None yet". The runbook's name is given when the file parses.
func checkLearningsName(name string) error {
	if name == "" || !looksLikePath(name) {
		return nil
	}
	hint := "give the name: of a runbook, or a built-in protocol's name"
	if rb, err := runbook.ParseFile(name); err == nil {
		hint = "its name is " + rb.Name + ": lockstep learnings " + rb.Name
	}
	return usageError(fmt.Errorf("learnings takes a runbook's name, not a file (%s): %s", name, hint))
}

// writeLearningsMarkdown writes list, sorted by runbook, as a Markdown
// section per runbook.
func writeLearningsMarkdown(w io.Writer, name string, list []learning) error {
	title := "Learnings"
	if name != "" {
		title += " of " + name
	}
	if _, err := fmt.Fprintf(w, "# %s\n", title); err != nil {
		return fmt.Errorf("write learnings: %w", err)
	}
	if len(list) == 0 {
		_, err := fmt.Fprintf(w, "\nNone yet. A note whose text starts with %q is a learning.\n", learningPrefix)
		return err
	}
	cur := ""
	for _, l := range list {
		if l.Runbook != cur || cur == "" {
			cur = l.Runbook
			head := l.Runbook
			if l.Protocol != "" && l.Protocol != l.Runbook {
				head += " (from protocol " + l.Protocol + ")"
			}
			fmt.Fprintf(w, "\n## %s\n\n", head)
		}
		where := l.Env + ", " + string(l.Mode)
		if l.Step != "" {
			where += ", step " + l.Step
		}
		fmt.Fprintf(w, "- %s — %s (%s, %s; session %s)\n", l.Text, l.Operator,
			l.Time.UTC().Format("2006-01-02 15:04 UTC"), where, l.Session)
	}
	return nil
}
