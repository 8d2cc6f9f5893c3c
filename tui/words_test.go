package tui

import (
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

func TestRecordLine(t *testing.T) {
	for _, tc := range []struct {
		kind engine.EventKind
		data map[string]any
		want string
	}{
		{engine.EvCheck, map[string]any{"index": 0, "item": "Plan read"}, `» ticked "Plan read"`},
		{engine.EvDecision, map[string]any{"choice": "multi-step", "reason": "no downtime"}, "» decided multi-step: no downtime"},
		{engine.EvApproval, map[string]any{"approver": "bob", "role": "accountable"}, "» approved by bob as accountable"},
		{engine.EvConfirm, map[string]any{"what": "env", "value": "production"}, "» confirmed environment production"},
		{engine.EvNotify, map[string]any{"channel": "slack", "to": []string{"#ops"}}, "» notified via slack to #ops"},
		{engine.EventKind("lease.taken"), map[string]any{}, "» lease taken"},
	} {
		if got := recordLine(eventtest.Raw(tc.kind, "s", tc.data)); got != tc.want {
			t.Errorf("recordLine(%s)=%q, want %q", tc.kind, got, tc.want)
		}
	}
}

// TestEventWordsCoverEveryKind: no event kind reads as its internal name.
func TestEventWordsCoverEveryKind(t *testing.T) {
	kinds := []engine.EventKind{engine.EvSessionStart, engine.EvSessionEnd, engine.EvSessionResume, engine.EvPhaseStart,
		engine.EvPhaseEnd, engine.EvStepStart, engine.EvStepEnd, engine.EvStepSkip, engine.EvStepRetry, engine.EvStepMarkDone,
		engine.EvInterrupted, engine.EvOutput, engine.EvCheck, engine.EvDecision, engine.EvApproval, engine.EvConfirm,
		engine.EvNotify, engine.EvNote, engine.EvPause, engine.EvResume, engine.EvAbort, engine.EvRollbackStart,
		engine.EvRollbackEnd, engine.EvCheckpoint, engine.EvProgress, engine.EvWarning, engine.EvResult,
		engine.EvRollbackRequest, engine.EvRate, engine.EvFleetSegment}
	for _, k := range kinds {
		w := eventWords(k)
		if strings.ContainsAny(w, "._") || (strings.Contains(string(k), ".") && w == string(k)) {
			t.Errorf("eventWords(%s)=%q: an internal name", k, w)
		}
		if _, ok := eventNames[k]; !ok {
			t.Errorf("eventNames lacks %s", k)
		}
	}
}
