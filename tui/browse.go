package tui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/timeline"
)

// BrowseOptions configures Browse.
type BrowseOptions struct {
	// Filter narrows the sessions listed at start (Limit 0: 500).
	Filter engine.SessionFilter
	// Dir is the folder x offers for a timeline export, the journal's
	// (default: the current directory); the operator edits the path
	// before anything is written.
	Dir string
	// Input and Output default to the terminal.
	Input  io.Reader
	Output io.Writer
}

// Browse shows the journal's sessions in a table and a session's timeline.
func Browse(ctx context.Context, j engine.Journal, opts BrowseOptions) error {
	m := NewBrowser(ctx, j, opts)
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	final, err := tea.NewProgram(m, popts...).Run()
	if err != nil {
		return fmt.Errorf("journal browser: %w", err)
	}
	if b, ok := final.(*Browser); ok && b.err != nil {
		return b.err
	}
	return nil
}

type sessionsMsg struct {
	sessions []engine.SessionInfo
	err      error
}

type timelineMsg struct {
	id       string
	timeline timeline.Timeline
	markdown string
	err      error
}

type exportedMsg struct {
	path string
	err  error
}

// browseKeys are the browser's key bindings.
type browseKeys struct {
	Open, Filter, Env, Mode, Outcome, Runbook, Export, Back, Quit, Move, Help, Scroll key.Binding
	// Apply, Clear and ForceQ are the keys while the filter takes the typing.
	Apply, Clear, ForceQ key.Binding
	// Write and Cancel are the keys while the export path prompt is up.
	Write, Cancel key.Binding
}

func newBrowseKeys() browseKeys {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return browseKeys{
		Move:    b("↑/↓", "select", "up", "down"),
		Open:    b("enter", "timeline", "enter"),
		Filter:  b("/", "filter", "/"),
		Env:     b("e", "env", "e"),
		Mode:    b("m", "mode", "m"),
		Outcome: b("o", "outcome", "o"),
		Runbook: b("r", "runbook", "r"),
		Export:  b("x", "export .md (asks where)", "x"),
		Help:    b("?", "all keys", "?"),
		Scroll:  b("pgup/pgdn", "page", "pgup", "pgdown"),
		Back:    b("esc", "back", "esc"),
		Quit:    b("q", "quit", "q", "ctrl+c"),
		Apply:   b("enter", "apply filter", "enter"),
		Clear:   b("esc", "clear filter", "esc"),
		ForceQ:  b("ctrl+c", "quit", "ctrl+c"),
		Write:   b("enter", "write the export", "enter"),
		Cancel:  b("esc", "cancel", "esc"),
	}
}

// Browser is the journal browser's root model.
type Browser struct {
	ctx   context.Context
	j     engine.Journal
	opts  BrowseOptions
	st    styles
	keys  browseKeys
	help  help.Model
	table table.Model
	vp    viewport.Model
	query textinput.Model
	md    *markdown

	all      []engine.SessionInfo
	shown    []engine.SessionInfo
	env      string
	mode     string
	outcome  string
	runbook  string
	typing   bool
	open     string // id of the session whose timeline is shown
	timeline timeline.Timeline
	mdText   string
	status   string
	// exporting is the export path prompt while it is up.
	exporting *exportPrompt
	// showHelp is the help overlay (?): every key of the view.
	showHelp bool
	err      error
	loc      *time.Location // time zone of the STARTED column
	width    int
	height   int
}

var _ tea.Model = (*Browser)(nil)

// NewBrowser builds the browser model; Init loads the sessions.
func NewBrowser(ctx context.Context, j engine.Journal, opts BrowseOptions) *Browser {
	b := &Browser{ctx: ctx, j: j, opts: opts, st: newStyles(true, noColorEnv()), keys: newBrowseKeys(),
		help: help.New(), vp: viewport.New(), md: newMarkdown(2), width: 80, height: 24, loc: time.Local,
		env: opts.Filter.Env, mode: string(opts.Filter.Mode), outcome: string(opts.Filter.Outcome), runbook: opts.Filter.Runbook}
	b.query = newInput("runbook, id, env or operator", &b.st)
	b.query.Prompt = "/ "
	b.table = table.New(table.WithFocused(true))
	b.applyStyles()
	return b
}

func (b *Browser) applyStyles() {
	b.help.Styles = help.Styles{ShortKey: b.st.HelpKey, ShortDesc: b.st.HelpDesc, ShortSeparator: b.st.HelpSep,
		FullKey: b.st.HelpKey, FullDesc: b.st.HelpDesc, FullSeparator: b.st.HelpSep, Ellipsis: b.st.HelpSep}
	b.table.SetStyles(table.Styles{
		Header:   b.st.TableHead.Padding(0, 1),
		Cell:     b.st.Dim.UnsetForeground().Padding(0, 1),
		Selected: b.st.TableSel,
	})
}

// Init loads the sessions.
func (b *Browser) Init() tea.Cmd { return tea.Batch(b.load(), tea.RequestBackgroundColor) }

func (b *Browser) load() tea.Cmd {
	ctx, j, f := b.ctx, b.j, engine.SessionFilter{Limit: b.opts.Filter.Limit}
	if f.Limit == 0 {
		f.Limit = 500
	}
	return func() tea.Msg {
		s, err := j.ListSessions(ctx, f)
		return sessionsMsg{sessions: s, err: err}
	}
}

func (b *Browser) loadTimeline(info engine.SessionInfo) tea.Cmd {
	ctx, j := b.ctx, b.j
	return func() tea.Msg {
		evs, err := j.Events(ctx, info.ID)
		if err != nil {
			return timelineMsg{id: info.ID, err: err}
		}
		info.Events = int64(len(evs))
		tl := timeline.Build(info, evs)
		var buf bytes.Buffer
		err = tl.WriteMarkdown(&buf)
		return timelineMsg{id: info.ID, timeline: tl, markdown: buf.String(), err: err}
	}
}

// Update handles one message.
func (b *Browser) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		b.width, b.height = msg.Width, msg.Height
		b.layout()
	case tea.BackgroundColorMsg:
		b.st = newStyles(msg.IsDark(), b.st.noColor)
		b.applyStyles()
		b.renderTimeline()
	case sessionsMsg:
		if msg.err != nil {
			b.err = fmt.Errorf("list sessions: %w", msg.err)
			return b, tea.Quit
		}
		b.all = msg.sessions
		slices.SortStableFunc(b.all, func(x, y engine.SessionInfo) int { return y.Started.Compare(x.Started) })
		b.refilter()
	case timelineMsg:
		if msg.err != nil {
			b.status = "✗ " + msg.err.Error()
			return b, nil
		}
		b.open, b.timeline, b.mdText = msg.id, msg.timeline, msg.markdown
		b.renderTimeline()
		b.vp.GotoTop()
	case exportReadyMsg:
		if msg.err != nil {
			b.status = "✗ " + msg.err.Error()
			return b, nil
		}
		return b, b.openExport(msg.id, msg.timeline)
	case exportedMsg:
		if msg.err != nil {
			b.status = "✗ " + msg.err.Error()
		} else {
			b.status = "exported to " + msg.path
		}
	case tea.KeyPressMsg:
		return b, b.handleKey(msg)
	}
	return b, nil
}

func (b *Browser) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := msg.String()
	if k == "ctrl+c" {
		return tea.Quit
	}
	if b.exporting != nil {
		return b.exportKey(msg)
	}
	if b.showHelp {
		if k == "q" {
			return tea.Quit
		}
		b.showHelp = false // any key closes the overlay
		return nil
	}
	if k == "?" && !b.typing {
		b.showHelp = true
		return nil
	}
	if b.typing {
		switch k {
		case "enter", "esc":
			b.typing = false
			b.query.Blur()
			if k == "esc" {
				b.query.SetValue("")
			}
			b.refilter()
			return nil
		}
		var cmd tea.Cmd
		b.query, cmd = b.query.Update(msg)
		b.refilter()
		return cmd
	}
	if b.open != "" {
		switch k {
		case "q":
			return tea.Quit
		case "esc":
			b.open, b.status = "", ""
			return nil
		case "x":
			return b.openExport(b.open, b.timeline)
		}
		var cmd tea.Cmd
		b.vp, cmd = b.vp.Update(msg)
		return cmd
	}
	switch k {
	case "q", "esc":
		return tea.Quit
	case "/":
		b.typing = true
		return b.query.Focus()
	case "e":
		b.env = b.cycle(b.env, func(s engine.SessionInfo) string { return s.Env })
	case "m":
		b.mode = b.cycle(b.mode, func(s engine.SessionInfo) string { return string(s.Mode) })
	case "o":
		b.outcome = b.cycle(b.outcome, func(s engine.SessionInfo) string { return outcomeName(s.Outcome) })
	case "r":
		b.runbook = b.cycle(b.runbook, func(s engine.SessionInfo) string { return s.Runbook })
	case "enter", "x":
		if i := b.table.Cursor(); i >= 0 && i < len(b.shown) {
			if k == "x" {
				return b.exportSelected(b.shown[i])
			}
			return b.loadTimeline(b.shown[i])
		}
		return nil
	default:
		var cmd tea.Cmd
		b.table, cmd = b.table.Update(msg)
		return cmd
	}
	b.refilter()
	return nil
}

// exportSelected loads the session's events, then asks where its
// timeline goes.
func (b *Browser) exportSelected(info engine.SessionInfo) tea.Cmd {
	load := b.loadTimeline(info)
	return func() tea.Msg {
		tm, ok := load().(timelineMsg)
		if !ok || tm.err != nil {
			return exportReadyMsg{err: tm.err}
		}
		return exportReadyMsg{id: tm.id, timeline: tm.timeline}
	}
}

// cycle moves a filter to the next value present in the sessions ("" = all).
func (b *Browser) cycle(cur string, field func(engine.SessionInfo) string) string {
	vals := []string{""}
	for _, s := range b.all {
		if v := field(s); !slices.Contains(vals, v) {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals[1:])
	i := slices.Index(vals, cur)
	return vals[(i+1)%len(vals)]
}

func outcomeName(o engine.Outcome) string {
	if o == engine.OutcomeRunning {
		return "running"
	}
	return string(o)
}

// refilter applies the filters and fills the table.
func (b *Browser) refilter() {
	q := strings.ToLower(strings.TrimSpace(b.query.Value()))
	b.shown = b.shown[:0]
	for _, s := range b.all {
		switch {
		case b.env != "" && s.Env != b.env,
			b.mode != "" && string(s.Mode) != b.mode,
			b.outcome != "" && outcomeName(s.Outcome) != b.outcome,
			b.runbook != "" && s.Runbook != b.runbook:
			continue
		}
		hay := strings.ToLower(strings.Join([]string{s.ID, s.Runbook, s.Title, s.Env, s.Operator}, " "))
		if q != "" && !strings.Contains(hay, q) {
			continue
		}
		b.shown = append(b.shown, s)
	}
	b.layout()
}
