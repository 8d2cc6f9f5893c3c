package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/lockstep-run/lockstep/engine"
)

// endView is the step pane once the session ended: the outcome, the steps
// by status, the total duration, what the migrate steps did and why a step
// stopped the session, wrapped at w (never cut: the resume command is
// copied from here).
func (m *Model) endView(w int) []string {
	var head string
	var hs lipgloss.Style
	switch m.outcome {
	case engine.OutcomeCompleted:
		head, hs = "✓ Session completed", m.st.Done
	case engine.OutcomeStopped:
		head, hs = "⏸ Session stopped (resumable)", m.st.Warn
	case engine.OutcomeRolledBack:
		head, hs = "↶ Session rolled back", m.st.Skipped
	default:
		head, hs = "✗ Session "+string(m.outcome), m.st.Failed
	}
	plain := lipgloss.NewStyle()
	lines := styled(hs, head, w, "  ")
	lines = append(lines, "")
	add := func(label, text string, style lipgloss.Style) {
		lines = append(lines, m.endLine(label, text, style, w)...)
	}
	duration := clock(m.elapsed(m.started))
	if !m.resumedAt.IsZero() {
		duration = fmt.Sprintf("%s this run · %s total", clock(m.elapsed(m.resumedAt)), duration)
	}
	add("Steps", m.summary(), plain)
	add("Duration", duration, plain)
	for _, p := range m.phases {
		for _, r := range p.steps {
			if f := r.migrate; f != nil {
				verb := "migrated"
				if f.DryRun {
					verb = "to migrate (dry-run)"
				}
				add("Migrate", fmt.Sprintf("%s: %s %s · %s",
					r.step.ID, count(f.Migrated), verb, plural(int(f.Conflicts), "conflict")), plain)
			}
		}
	}
	// Why the session stopped, when a step stopped it: its error.
	for _, p := range m.phases {
		for _, r := range p.steps {
			if r.err != "" && (r.status == engine.StepFailed || r.status == engine.StepInterrupted) {
				add("Stopped", fmt.Sprintf("%s %s: %s", r.step.ID, r.status, r.err), m.st.Error)
			}
		}
	}
	if m.endErr != nil {
		lines = append(lines, "")
		lines = append(lines, styled(m.st.Error, m.endErr.Error(), w, "  ")...)
	}
	// Once the UI is gone the caller prints the resume command, with the
	// flags the session needs (--journal …), under the outcome line.
	if m.outcome == engine.OutcomeStopped && m.info.ID != "" && !m.exited {
		lines = append(lines, "")
		// The command is copied from here: it stays on one line.
		cmd := "lockstep resume " + m.info.ID
		if ansi.StringWidth("Resume with: "+cmd) <= w {
			lines = append(lines, "Resume with: "+cmd)
		} else {
			lines = append(lines, "Resume with:")
			lines = append(lines, strings.Split(ansi.Hardwrap(cmd, max(w, 1), true), "\n")...)
		}
	}
	if m.exited {
		return lines
	}
	lines = append(lines, "")
	return append(lines, styled(m.st.Dim, "Press any key to exit.", w, "")...)
}

// endLine renders "label    text" wrapped at w, continuation lines under
// the text.
func (m *Model) endLine(label, text string, style lipgloss.Style, w int) []string {
	const lw = 9
	lines := wrap(text, max(w-lw, 1), "")
	for i, l := range lines {
		prefix := strings.Repeat(" ", lw)
		if i == 0 {
			prefix = m.st.Dim.Render(fmt.Sprintf("%-*s", lw, label))
		}
		lines[i] = prefix + style.Render(l)
	}
	return lines
}

// summary counts the steps by status.
func (m *Model) summary() string {
	n := map[engine.StepStatus]int{}
	for _, p := range m.phases {
		for _, r := range p.steps {
			n[r.status]++
		}
	}
	parts := []string{fmt.Sprintf("%d done · %d skipped · %d failed",
		n[engine.StepDone], n[engine.StepSkipped], n[engine.StepFailed])}
	for _, s := range []engine.StepStatus{engine.StepInterrupted, engine.StepRolledBack, engine.StepPending} {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
		}
	}
	return strings.Join(parts, " · ")
}
