package tui

import (
	"encoding/json"

	"github.com/lockstep-run/lockstep/engine"
)

// keepResult keeps a finished step's result for the step pane; a retry
// clears it.
func (m *Model) keepResult(ev engine.Event) {
	row := m.byID[ev.Step]
	if row == nil {
		return
	}
	switch ev.Kind {
	case engine.EvStepStart, engine.EvStepRetry:
		row.result = nil
	case engine.EvStepEnd:
		var d struct{ Result json.RawMessage }
		if ev.Decode(&d) == nil {
			row.result = d.Result
		}
	}
}

// resultView is a finished step's result as an aligned key/value table
// with sizes, durations and counts for people; nothing while it runs.
func (m *Model) resultView(r *stepRow, w int) []string {
	if r == nil || r.status == engine.StepRunning || len(r.result) == 0 {
		return nil
	}
	rows := resultRows(r.result)
	if len(rows) == 0 {
		return nil
	}
	lines := []string{m.st.Section.Render("result")}
	for _, l := range resultLines(rows, "  ") {
		lines = append(lines, fit(l, w))
	}
	return lines
}
