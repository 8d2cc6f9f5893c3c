package tui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// fit truncates s to w cells and pads it with spaces to exactly w.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "…")
	if pad := w - ansi.StringWidth(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// leftWidth is the width of the steps pane: narrower on small terminals.
func (m *Model) leftWidth() int { return min(max(m.width/3, 18), 34) }

// rightWidth is the width of the step pane.
func (m *Model) rightWidth() int { return max(m.width-m.leftWidth()-3, 10) }

// View renders the whole screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "lockstep · " + m.title
	return v
}

// render builds the screen as exactly height lines of width cells.
func (m *Model) render() string {
	footer := m.footer()
	bodyH := max(m.height-1-len(footer), 1)
	left := m.stepsPane(m.leftWidth(), bodyH)
	right := m.stepPane(m.rightWidth(), bodyH)
	lines := make([]string, 0, m.height)
	lines = append(lines, fit(m.header(), m.width))
	sep := m.st.Border.Render("│")
	for i := range bodyH {
		l, r := "", ""
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		lines = append(lines, fit(fit(l, m.leftWidth())+" "+sep+" "+r, m.width))
	}
	for _, f := range footer {
		lines = append(lines, fit(f, m.width))
	}
	return strings.Join(lines, "\n")
}

func (m *Model) header() string {
	env := m.st.BadgeEnv
	if m.protected {
		env = m.st.BadgeProt
	}
	envName := m.info.Env
	if m.protected {
		envName = "⚠ " + envName
	}
	mode := m.st.BadgeLive
	switch m.info.Mode {
	case engine.ModeRehearsal:
		mode = m.st.BadgeRehe
	case engine.ModeDryRun:
		mode = m.st.BadgeDry
	}
	modeName := strings.ToUpper(string(m.info.Mode))
	if modeName == "" {
		modeName = "LIVE"
	}
	right := m.st.Dim.Render(m.info.Operator + " · " + m.clocks())
	badges := env.Render(envName) + " " + mode.Render(modeName)
	// The badges stay whole; the pause state, then the title, give way.
	room := m.width - ansi.StringWidth(badges) - ansi.StringWidth(right) - 2
	if state := m.pauseState(); state != "" && room > 1 {
		state = ansi.Truncate(state, room-1, "…")
		badges += " " + m.st.Warn.Render(state)
		room -= 1 + ansi.StringWidth(state)
	}
	title := ""
	if room >= 8 {
		title = m.st.Title.Render(ansi.Truncate(m.title, room, "…")) + " "
	}
	left := title + badges
	gap := max(m.width-ansi.StringWidth(left)-ansi.StringWidth(right), 1)
	return left + strings.Repeat(" ", gap) + right
}

// pauseState is the header's pause badge: "⏸ PAUSED" once the session
// holds, "pausing after <step>…" while that step still runs.
func (m *Model) pauseState() string {
	switch {
	case !m.paused:
		return ""
	case m.pausingAfter != "":
		return "pausing after " + m.pausingAfter + "…"
	}
	return "⏸ PAUSED"
}

// clocks is the header's elapsed time, "⏱ 0:12:34" since the session
// started; a resumed session also shows this run's time, and its total
// (which spans the time it stood stopped) is labelled as such.
func (m *Model) clocks() string {
	total := "⏱ " + clock(m.elapsed(m.started))
	if m.resumedAt.IsZero() {
		return total
	}
	return fmt.Sprintf("this run %s · total %s", clock(m.elapsed(m.resumedAt)), total)
}

// elapsed is the time from since to now, or to the session's end.
func (m *Model) elapsed(since time.Time) time.Duration {
	if since.IsZero() {
		return 0
	}
	end := m.now()
	if m.ended && !m.endedAt.IsZero() {
		end = m.endedAt
	}
	return max(end.Sub(since), 0)
}

// clock formats d as h:mm:ss.
func clock(d time.Duration) string {
	d = d.Truncate(time.Second)
	return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

// short formats a step duration compactly.
func short(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

func (m *Model) glyph(s engine.StepStatus) string {
	switch s {
	case engine.StepRunning:
		if m.held() {
			return m.st.Warn.Render("⏸")
		}
		return m.spin.View()
	case engine.StepDone:
		return m.st.Done.Render("✓")
	case engine.StepFailed:
		return m.st.Failed.Render("✗")
	case engine.StepSkipped:
		return m.st.Skipped.Render("↷")
	case engine.StepInterrupted:
		return m.st.Warn.Render("!")
	case engine.StepRolledBack:
		return m.st.Skipped.Render("↶")
	}
	return m.st.Pending.Render("○")
}

func (m *Model) duration(r *stepRow) string {
	switch {
	case r.started.IsZero():
		return ""
	case !r.ended.IsZero():
		return short(r.ended.Sub(r.started))
	case r.status == engine.StepRunning:
		return short(m.now().Sub(r.started))
	}
	return ""
}

// stepsPane renders the phases and steps, scrolled to keep the current step
// in view.
func (m *Model) stepsPane(w, h int) []string {
	var lines []string
	cur := 0
	for _, p := range m.phases {
		lines = append(lines, m.st.Phase.Render(fit(strings.ToUpper(p.name), w)))
		for _, r := range p.steps {
			d := m.duration(r)
			name := fit(r.step.ID, max(w-4-len(d), 1))
			line := m.glyph(r.status) + " " + name + " " + m.st.Dim.Render(d)
			if r.step.ID == m.current {
				cur = len(lines)
				line = m.glyph(r.status) + " " + m.st.StepCur.Render(name) + " " + m.st.Dim.Render(d)
			}
			lines = append(lines, " "+line)
		}
	}
	if len(lines) > h {
		start := min(max(cur-h/2, 0), len(lines)-h)
		lines = lines[start : start+h]
	}
	return lines
}

// stepPane renders the current step: title, text, progress, prompt, output;
// once the session ended, its summary.
func (m *Model) stepPane(w, h int) []string {
	if m.ended {
		return m.endView(w)
	}
	r := m.byID[m.current]
	var top []string
	if r != nil {
		status := string(r.status)
		if m.rollingBack == r.step.ID {
			status = "rolling back"
		}
		if r.attempts > 1 {
			status += fmt.Sprintf(" · attempt %d", r.attempts)
		}
		top = append(top, m.st.Section.Render(r.step.ID)+m.st.Dim.Render(" · "+string(r.step.Kind)+" · "+status))
		if r.err != "" {
			top = append(top, styled(m.st.Error, "error: "+r.err, w, "  ")...)
		}
		if r.reason != "" {
			top = append(top, styled(m.st.Dim, "reason: "+r.reason, w, "  ")...)
		}
	}
	if m.notice != "" {
		top = append(top, styled(m.st.Warn, m.notice, w, "")...)
	}
	var mid []string
	if r != nil {
		for _, id := range []string{r.step.ID, r.step.ID + engine.RollbackSuffix} {
			if m.prog.Active(id) {
				m.prog.SetSize(w)
				mid = append(mid, m.prog.View(&m.st, r.step.Kind == runbook.KindMigrate)...)
				if id == r.step.ID && r.status == engine.StepRunning && r.step.Kind == runbook.KindMigrate {
					mid = append(mid, fit(m.rateLine(), w))
				}
			}
		}
	}
	if r != nil && len(r.step.Checklist) > 0 && (m.prompt == nil || m.prompt.kind != engine.PromptChecklist) {
		var list []string
		for i, item := range r.step.Checklist {
			box := "[ ] "
			if r.checked[i] {
				box = "[✓] "
			}
			for j, l := range wrap("  "+box+item, w, "      ") {
				if j == 0 && r.checked[i] {
					l = strings.Replace(l, "[✓]", m.st.Done.Render("[✓]"), 1)
				}
				list = append(list, l)
			}
		}
		if room := max(h-len(top)-len(mid)-6, 1); len(list) > room {
			list = append(list[:room-1], m.st.Dim.Render(fmt.Sprintf("  … %d more lines", len(list)-room+1)))
		}
		mid = append(list, mid...)
	}
	mid = append(mid, m.resultView(r, w)...)
	mid = append(mid, m.interaction(w, h-len(top)-len(mid))...)
	md := m.stepText(r, w)
	outH := h - len(top) - len(mid) - 1
	room := max(outH-3, 0)
	if len(md) > room {
		md = md[:room]
	}
	if len(md) > min(h/3, 12) && m.out.Len() > 0 {
		md = md[:min(h/3, 12)]
	}
	lines := append(top, md...)
	lines = append(lines, mid...)
	if rest := h - len(lines) - 1; rest >= 1 && m.out.Len() > 0 {
		n := m.out.Len()
		label := fmt.Sprintf("output · %s", plural(n, "line"))
		if !m.out.Following() {
			label += " · scrolled (pgdn to follow)"
		}
		lines = append(lines, m.st.Dim.Render("── "+label+" "+strings.Repeat("─", max(w-len(label)-5, 0))))
		m.out.SetSize(w, rest)
		lines = append(lines, strings.Split(m.out.View(), "\n")...)
	}
	return lines
}

func (m *Model) stepText(r *stepRow, w int) []string {
	if r == nil {
		return nil
	}
	return m.md.Render(r.step.ID, r.step.Text, w, &m.st)
}

// interaction renders the prompt in play and a local question within h
// lines (the local question first gets what it needs).
func (m *Model) interaction(w, h int) []string {
	var local []string
	if m.local != nil {
		m.local.SetSize(w)
		local = m.local.View(&m.st, max(h, 1))
	}
	var lines []string
	if f := m.prompt; f != nil {
		f.SetSize(w)
		f.text = m.promptText(f, w)
		lines = f.View(&m.st, max(h-len(local), 1))
	}
	return append(lines, local...)
}

// promptText renders an engine prompt's explanation (a lease takeover, a
// rehearsal drift), unless it is the step's text, which the pane shows.
func (m *Model) promptText(f *form, w int) []string {
	text := strings.TrimSpace(f.prompt.Text)
	if f.local() || text == "" {
		return nil
	}
	if r := m.byID[f.prompt.Step]; r != nil && r.step.ID == m.current && strings.TrimSpace(r.step.Text) == text {
		return nil
	}
	if lines := m.md.Render("\x00prompt\x00"+text, text, w, &m.st); len(lines) > 0 {
		return lines
	}
	return wrap(text, w, "")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
