package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/lockstep-run/lockstep/engine"
)

// finalView is what stays on the main screen once the full-screen UI is
// gone: the last screen without its key help (no key acts any more) and
// one outcome line, so the operator who pressed a key to leave still
// reads how the session ended and, when it is resumable, how to resume.
// A session the operator quit is shown as what the engine returned.
func (m *Model) finalView(outcome engine.Outcome, id string, err error) string {
	if m.info.ID == "" {
		m.info.ID = id
	}
	if !m.ended && outcome != "" && outcome != engine.OutcomeRunning {
		m.endSession(outcome, err)
	}
	m.exited = true
	lines := strings.Split(m.render(), "\n")
	// Rows with nothing in either pane are left out: the scrollback keeps
	// what was shown, not the screen's height.
	for len(lines) > 0 && strings.Trim(ansi.Strip(lines[len(lines)-1]), " │") == "" {
		lines = lines[:len(lines)-1]
	}
	if line := m.outcomeLine(outcome, err); line != "" {
		lines = append(lines, "", line)
	}
	return strings.Join(lines, "\n") + "\n"
}

// outcomeLine says in one line how the session ended: completed, failed,
// rolled back or stopped (resumable: the caller's resume command follows).
func (m *Model) outcomeLine(outcome engine.Outcome, err error) string {
	id := m.info.ID
	if id == "" {
		if err != nil {
			return m.st.Error.Render("✗ lockstep: the session did not start: " + err.Error())
		}
		return ""
	}
	took := ""
	if !m.started.IsZero() {
		took = " in " + clock(m.elapsed(m.started))
	}
	switch outcome {
	case engine.OutcomeCompleted:
		return m.st.Done.Render(fmt.Sprintf("✓ Session %s completed%s: %s", id, took, m.summary()))
	case engine.OutcomeStopped, engine.OutcomeRunning:
		// The caller prints the resume command next, with the flags the
		// session needs (--journal …).
		return m.st.Warn.Render(fmt.Sprintf("⏸ Session %s stopped%s (resumable): %s", id, took, m.summary()))
	case engine.OutcomeRolledBack:
		return m.st.Skipped.Render(fmt.Sprintf("↶ Session %s rolled back%s: %s", id, took, m.summary()))
	}
	line := fmt.Sprintf("✗ Session %s %s%s: %s", id, outcome, took, m.summary())
	if err != nil {
		line += " — " + err.Error()
	}
	return m.st.Failed.Render(line)
}
