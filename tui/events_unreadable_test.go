package tui

import (
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestUnreadableEventsShow: a payload that does not decode is said so in
// the notice and the output pane, never folded in as empty fields (a
// step.end with an unreadable status used to mark the step done).
func TestUnreadableEventsShow(t *testing.T) {
	tests := []struct {
		name string
		kind engine.EventKind
		data any
	}{
		{"step end", engine.EvStepEnd, map[string]any{"status": 5}},
		{"progress", engine.EvProgress, map[string]any{"done": "many"}},
		{"session end", engine.EvSessionEnd, map[string]any{"outcome": []int{1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newTestModel(t, "staging", 100, 30)
			send(m, engine.EvStepStart, "dump", map[string]any{"attempt": 1}, at(1))
			send(m, tt.kind, "dump", tt.data, at(2))
			want := "unreadable event " + string(tt.kind)
			if !strings.Contains(m.notice, want) {
				t.Errorf("notice = %q, want it to contain %q", m.notice, want)
			}
			if row := m.byID["dump"]; row.status != engine.StepRunning {
				t.Errorf("dump status = %q, want it still running", row.status)
			}
			if m.ended {
				t.Error("an unreadable session.end ended the session")
			}
		})
	}
}
