package tui

import (
	"fmt"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
)

// endView is the step pane once the session ended: the outcome, the steps
// by status, the total duration and what the migrate steps did.
func (m *Model) endView() []string {
	var head string
	switch m.outcome {
	case engine.OutcomeCompleted:
		head = m.st.Done.Render("✓ Session completed")
	case engine.OutcomeStopped:
		head = m.st.Warn.Render("⏸ Session stopped (resumable)")
	case engine.OutcomeRolledBack:
		head = m.st.Skipped.Render("↶ Session rolled back")
	default:
		head = m.st.Failed.Render("✗ Session " + string(m.outcome))
	}
	label := func(k string) string { return m.st.Dim.Render(fmt.Sprintf("%-9s", k)) }
	duration := clock(m.elapsed(m.started))
	if !m.resumedAt.IsZero() {
		duration = fmt.Sprintf("%s this run · %s total", clock(m.elapsed(m.resumedAt)), duration)
	}
	lines := []string{head, "", label("Steps") + m.summary(), label("Duration") + duration}
	for _, p := range m.phases {
		for _, r := range p.steps {
			if f := r.migrate; f != nil {
				verb := "migrated"
				if f.DryRun {
					verb = "to migrate (dry-run)"
				}
				lines = append(lines, label("Migrate")+fmt.Sprintf("%s: %s %s · %s",
					r.step.ID, count(f.Migrated), verb, plural(int(f.Conflicts), "conflict")))
			}
		}
	}
	if m.endErr != nil {
		lines = append(lines, "", m.st.Error.Render(m.endErr.Error()))
	}
	if m.outcome == engine.OutcomeStopped && m.info.ID != "" {
		lines = append(lines, "", "Resume with: lockstep resume "+m.info.ID)
	}
	return append(lines, "", m.st.Dim.Render("Press any key to exit."))
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
