package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/lockstep-run/lockstep/engine"
)

// layout sizes the columns to the width and refills the rows. Narrow
// terminals drop the started (the id carries it), operator and duration
// columns.
func (b *Browser) layout() {
	w := max(b.width, 40)
	wide := w >= 110
	type col struct {
		table.Column
		cell func(engine.SessionInfo) string
	}
	cols := []col{
		{table.Column{Title: "SESSION", Width: 24}, func(s engine.SessionInfo) string { return s.ID }},
		{table.Column{Title: "RUNBOOK", Width: 0}, func(s engine.SessionInfo) string { return s.Runbook }},
	}
	if wide {
		cols = append(cols, col{table.Column{Title: "STARTED", Width: 16},
			func(s engine.SessionInfo) string { return s.Started.In(b.loc).Format("2006-01-02 15:04") }})
	}
	cols = append(cols,
		col{table.Column{Title: "ENV", Width: 10}, func(s engine.SessionInfo) string { return s.Env }},
		col{table.Column{Title: "MODE", Width: 9}, func(s engine.SessionInfo) string { return string(s.Mode) }})
	if wide {
		cols = append(cols, col{table.Column{Title: "OPERATOR", Width: 9}, func(s engine.SessionInfo) string { return s.Operator }})
	}
	cols = append(cols, col{table.Column{Title: "OUTCOME", Width: 11}, func(s engine.SessionInfo) string { return outcomeName(s.Outcome) }})
	if wide {
		cols = append(cols, col{table.Column{Title: "DURATION", Width: 8}, sessionDuration})
	}
	used := 0
	for _, c := range cols {
		used += c.Width + 2
	}
	cols[1].Width = max(w-used-2, 8)
	tcols := make([]table.Column, len(cols))
	for i, c := range cols {
		tcols[i] = c.Column
	}
	rows := make([]table.Row, 0, len(b.shown))
	for _, s := range b.shown {
		row := make(table.Row, len(cols))
		for i, c := range cols {
			row[i] = c.cell(s)
		}
		rows = append(rows, row)
	}
	cur := b.table.Cursor()
	b.table.SetRows(nil)
	b.table.SetColumns(tcols)
	b.table.SetRows(rows)
	b.table.SetCursor(min(max(cur, 0), max(len(rows)-1, 0)))
	b.table.SetWidth(w)
	b.table.SetHeight(max(b.height-4, 3))
	b.vp.SetWidth(w)
	b.vp.SetHeight(max(b.height-3, 1))
	b.query.SetWidth(max(w-20, 10))
	b.renderTimeline()
}

func sessionDuration(s engine.SessionInfo) string {
	if s.Ended.IsZero() || s.Started.IsZero() {
		return "—"
	}
	return engine.FormatDuration(s.Ended.Sub(s.Started))
}

func (b *Browser) renderTimeline() {
	if b.open == "" {
		return
	}
	lines := b.md.Render("timeline:"+b.open, humaniseTimeline(b.mdText), max(b.width-2, 20), &b.st)
	b.vp.SetContentLines(slices.Clone(lines))
}

// View renders the browser.
func (b *Browser) View() tea.View {
	v := tea.NewView(b.render())
	v.AltScreen = true
	v.WindowTitle = "lockstep · journal"
	return v
}

func (b *Browser) render() string {
	var lines []string
	bindings := b.bindings()
	switch {
	case b.showHelp:
		lines = b.helpOverlay()
	case b.open != "":
		lines = append(lines, b.st.Title.Render("Session "+b.open)+b.st.Dim.Render(" · timeline"))
		lines = append(lines, strings.Split(b.vp.View(), "\n")...)
	default:
		lines = append(lines, b.st.Title.Render("Journal")+" "+b.st.Dim.Render(b.filterLine()))
		if len(b.shown) == 0 {
			lines = append(lines, "", b.st.Dim.Render("  No session matches."))
		} else {
			lines = append(lines, strings.Split(b.table.View(), "\n")...)
		}
	}
	body := max(b.height-2, 1)
	for len(lines) < body {
		lines = append(lines, "")
	}
	lines = lines[:body]
	status := b.st.Warn.Render(b.status)
	switch {
	case b.exporting != nil:
		status = b.exporting.input.View()
	case b.typing || b.query.Value() != "":
		status = b.query.View()
	}
	b.help.SetWidth(b.width)
	lines = append(lines, status, b.help.ShortHelpView(bindings))
	for i, l := range lines {
		lines[i] = fit(l, b.width)
	}
	return strings.Join(lines, "\n")
}

// bindings are the keys of the footer: those that act right now, most
// useful first, with ? for the rest.
func (b *Browser) bindings() []key.Binding {
	k := b.keys
	switch {
	case b.exporting != nil:
		return []key.Binding{k.Write, k.Cancel, k.ForceQ}
	case b.typing: // q and the letters type into the filter
		return []key.Binding{k.Apply, k.Clear, k.ForceQ}
	case b.showHelp:
		return []key.Binding{key.NewBinding(key.WithKeys(""), key.WithHelp("any key", "close")), k.Quit}
	case b.open != "":
		return []key.Binding{k.Move, k.Export, k.Back, k.Help, k.Quit}
	}
	// ? and q come before the filters: a narrow footer cuts the tail, and
	// a newcomer must always see how to get help and how to leave.
	return []key.Binding{k.Move, k.Open, k.Help, k.Quit, k.Filter, k.Env, k.Mode, k.Outcome, k.Runbook, k.Export}
}

// allKeys are every key of the view with what it does, for the help
// overlay: [key, description].
func (b *Browser) allKeys() [][2]string {
	if b.open != "" {
		return [][2]string{
			{"↑/↓", "scroll the timeline"}, {"pgup/pgdn", "scroll a page"},
			{"x", "export the timeline as Markdown (asks where)"}, {"esc", "back to the sessions"},
			{"?", "this help"}, {"q", "quit"},
		}
	}
	return [][2]string{
		{"↑/↓", "select a session"}, {"enter", "open its timeline"},
		{"/", "filter by text (enter keeps it, esc clears it)"},
		{"e", "cycle the environment filter"}, {"m", "cycle the mode filter"},
		{"o", "cycle the outcome filter"}, {"r", "cycle the runbook filter"},
		{"x", "export its timeline as Markdown (asks where)"},
		{"?", "this help"}, {"q", "quit"},
	}
}

// helpOverlay lists every key of the view with what it does.
func (b *Browser) helpOverlay() []string {
	where := "session list"
	if b.open != "" {
		where = "timeline"
	}
	lines := []string{b.st.Title.Render("Keys") + b.st.Dim.Render(" · "+where), ""}
	keys := b.allKeys()
	wk := 0
	for _, kd := range keys {
		wk = max(wk, ansi.StringWidth(kd[0]))
	}
	for _, kd := range keys {
		lines = append(lines, "  "+b.st.HelpKey.Render(kd[0]+strings.Repeat(" ", wk-ansi.StringWidth(kd[0])))+"  "+kd[1])
	}
	return append(lines, "", b.st.Dim.Render("  The export path is offered beside the journal; edit it before enter."))
}

func (b *Browser) filterLine() string {
	show := func(name, v string) string {
		if v == "" {
			v = "all"
		}
		return name + ": " + v
	}
	return fmt.Sprintf("%d of %d sessions · %s · %s · %s · %s", len(b.shown), len(b.all),
		show("env", b.env), show("mode", b.mode), show("outcome", b.outcome), show("runbook", b.runbook))
}
