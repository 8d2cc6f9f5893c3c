package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/lockstep-run/lockstep/engine"
)

var actionLabels = map[engine.Action]string{
	engine.ActionRetry:    "retry the step",
	engine.ActionDone:     "mark done (with a reason)",
	engine.ActionSkip:     "skip (with a reason)",
	engine.ActionAbort:    "abort the session",
	engine.ActionRollback: "roll back completed steps (with a reason)",
}

// title is the question the form asks. The engine titles the prompts of
// manual, decision and approval steps with the step id, which the pane's
// first line already shows: those get the question for their kind.
func (f *form) title() string {
	switch f.kind {
	case engine.PromptChecklist:
		return "Tick each item, then enter"
	case engine.PromptDecision:
		return "Choose and give a rationale"
	case engine.PromptApproval:
		if f.prompt.Role != "" {
			return "Approval by " + f.prompt.Role
		}
	case engine.PromptManual:
		return "Confirm when done"
	}
	return f.prompt.Title
}

// wrap breaks plain text s into lines of at most w cells, at spaces only
// (an id such as drop-address or a session id stays whole; a word longer
// than a line is cut hard); lines after the first start with indent.
// Nothing the operator confirms is cut off.
func wrap(s string, w int, indent string) []string {
	if w <= 0 {
		return []string{s}
	}
	var lines []string
	line, lw := "", 0
	limit := w
	flush := func() {
		lines = append(lines, line)
		line, lw = indent, ansi.StringWidth(indent)
		limit = w
	}
	for _, word := range strings.Fields(s) {
		ww := ansi.StringWidth(word)
		if lw > 0 && strings.TrimSpace(line) != "" && lw+1+ww > limit {
			flush()
		}
		for ww > limit-lw && limit-lw > 0 && ww > w-ansi.StringWidth(indent) {
			// A word longer than a whole line: cut it hard.
			room := limit - lw
			if strings.TrimSpace(line) != "" {
				line += " "
				room--
			}
			cut := ansi.Truncate(word, room, "")
			line += cut
			word = strings.TrimPrefix(word, cut)
			ww = ansi.StringWidth(word)
			flush()
		}
		if strings.TrimSpace(line) != "" {
			line += " "
			lw++
		}
		line += word
		lw += ww
	}
	if strings.TrimSpace(line) != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

// styled wraps s at w and renders each line with style (a style never
// spans a line break, so it cannot bleed into the steps pane).
func styled(style lipgloss.Style, s string, w int, indent string) []string {
	lines := wrap(s, w, indent)
	for i, l := range lines {
		lines[i] = style.Render(l)
	}
	return lines
}

// View renders the form as lines of at most width cells and at most h
// lines (h <= 0: no limit). A list taller than that shows a window around
// the cursor; the title, the fields and the error line always show.
func (f *form) View(st *styles, h int) []string {
	w := f.width
	head := styled(st.PromptBox, "▶ "+f.title(), w, "  ")
	text := f.text
	if f.local() && f.prompt.Text != "" {
		text = styled(st.Dim, f.prompt.Text, w, "")
	}
	var items []string // one entry per list item (each maybe several lines)
	cur := -1
	var body []string
	mark := func(sel bool, s string) string {
		lines := wrap(s, max(w-2, 1), "    ")
		for i, l := range lines {
			switch {
			case sel && i == 0:
				lines[i] = st.Selected.Render("› " + l)
			case sel:
				lines[i] = st.Selected.Render("  " + l)
			default:
				lines[i] = "  " + l
			}
		}
		return strings.Join(lines, "\n")
	}
	switch f.kind {
	case engine.PromptChecklist:
		for i, item := range f.prompt.Checklist {
			box := "[ ] "
			if f.ticked[i] {
				box = "[✓] "
			}
			line := mark(i == f.cursor, box+item)
			if f.ticked[i] {
				line = strings.Replace(line, "[✓]", st.Done.Render("[✓]"), 1)
			}
			items = append(items, line)
		}
		cur = f.cursor
	case engine.PromptDecision:
		for i, c := range f.prompt.Choices {
			items = append(items, mark(i == f.cursor, c))
		}
		cur = f.cursor
	case engine.PromptApproval:
		holders := strings.Join(f.prompt.Holders, ", ")
		if holders == "" {
			holders = "—"
		}
		body = wrap(fmt.Sprintf("role %s · holders: %s", f.prompt.Role, holders), w, "  ")
	case engine.PromptConfirmEnv:
		body = wrap("Type the environment name "+f.prompt.Expect+" to continue.", w, "")
		for i, l := range body {
			body[i] = strings.Replace(l, f.prompt.Expect, st.Error.Render(f.prompt.Expect), 1)
		}
	case engine.PromptDestructive:
		body = styled(st.Warn, fmt.Sprintf("This step is destructive. Type %s to run it; esc, then s, skips it (with a reason).",
			f.destructiveID()), w, "")
	case engine.PromptManual:
		body = []string{"Press enter when done."}
	case engine.PromptInterrupted, engine.PromptFailed:
		for i, a := range f.actions {
			items = append(items, mark(i == f.cursor, actionLabels[a]))
		}
		cur = f.cursor
	}
	var tail []string
	for i, in := range f.inputs {
		tail = append(tail, fmt.Sprintf("%-11s %s", f.labels[i]+":", in.View()))
	}
	if f.pending != engine.ActionNone {
		tail = append(tail, fmt.Sprintf("%-11s %s", string(f.pending)+" reason:", f.reason.View()))
	}
	switch {
	case f.err != "":
		tail = append(tail, styled(st.Error, "✗ "+f.err, w, "  ")...)
	case f.prompt.Retry != "":
		tail = append(tail, styled(st.Error, "✗ "+f.prompt.Retry, w, "  ")...)
	}
	return layoutForm(head, text, body, items, cur, tail, h)
}

// layoutForm stacks a form's parts within h lines: the explanation gives
// way first, then the list shows a window around the cursor (with "↑ n
// more" / "↓ n more" marks); head and tail always show.
func layoutForm(head, text, body, items []string, cur int, tail []string, h int) []string {
	var list []string
	pos := make([]int, len(items)+1) // first line of each item in list
	for i, it := range items {
		pos[i] = len(list)
		list = append(list, strings.Split(it, "\n")...)
	}
	pos[len(items)] = len(list)
	fixed := len(head) + len(body) + len(tail)
	if h <= 0 || fixed+len(text)+len(list) <= h {
		return concat(head, text, body, list, tail)
	}
	room := h - fixed - len(list)
	if room > 0 {
		text = text[:min(room-1, len(text))] // keep a line's gap: "…" marks the cut
		text = append(text, "…")
		return concat(head, text, body, list, tail)
	}
	room = max(h-fixed, 1)
	if len(list) <= room {
		return concat(head, body, list, tail)
	}
	start, end := 0, len(list)
	if cur >= 0 && cur < len(items) {
		// The cursor's item, centred; marks take a line at each cut end.
		a, b := pos[cur], pos[cur+1]
		start = max(min(a-(room-(b-a))/2, len(list)-room), 0)
		end = min(start+room, len(list))
		if start > 0 {
			start++
		}
		if end < len(list) {
			end--
		}
		if a < start || b > end { // a tall item at a small height: its first lines
			start, end = a, min(a+max(room-2, 1), len(list))
		}
	} else {
		end = max(room-1, 0)
	}
	window := append([]string(nil), list[start:end]...)
	above, below := 0, 0
	for i := range items {
		if pos[i] < start {
			above++
		}
		if pos[i+1] > end {
			below++
		}
	}
	if start > 0 {
		window = append([]string{fmt.Sprintf("  ↑ %d more", above)}, window...)
	}
	if end < len(list) {
		window = append(window, fmt.Sprintf("  ↓ %d more", below))
	}
	return concat(head, body, window, tail)
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
