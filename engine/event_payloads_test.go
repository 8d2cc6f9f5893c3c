package engine_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// TestPayloadWireForm holds every payload type to the JSON the engine
// wrote before payloads had types (a map, so keys sorted; step.end was
// already a struct): journals stay byte for byte what they were.
func TestPayloadWireForm(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	seg, lim, rate, th, n := 0, 0.0, 12.5, int64(3), int64(0)
	tests := []struct {
		p    engine.Payload
		kind engine.EventKind
		old  any // what the engine used to pass to NewEvent
	}{
		{engine.SessionStarted{Runbook: "r", SHA256: "h", Env: "e", Mode: engine.ModeLive, Operator: "o", Vars: map[string]string{}, Version: 2, Path: "p"},
			engine.EvSessionStart, map[string]any{"runbook": "r", "sha256": "h", "env": "e", "mode": engine.ModeLive, "operator": "o", "vars": map[string]string{}, "version": 2, "path": "p"}},
		{engine.SessionEnded{Outcome: engine.OutcomeCompleted}, engine.EvSessionEnd, map[string]any{"outcome": engine.OutcomeCompleted}},
		{engine.SessionEnded{Outcome: engine.OutcomeFailed, Error: "x"}, engine.EvSessionEnd, map[string]any{"outcome": engine.OutcomeFailed, "error": "x"}},
		{engine.SessionResumed{Operator: "o"}, engine.EvSessionResume, map[string]any{"operator": "o"}},
		{engine.PhaseStarted{Phase: "p"}, engine.EvPhaseStart, map[string]any{"phase": "p"}},
		{engine.PhaseEnded{Phase: "p", Status: "completed"}, engine.EvPhaseEnd, map[string]any{"phase": "p", "status": "completed"}},
		{engine.StepStarted{StepKind: "shell", Attempt: 1, Phase: "p"}, engine.EvStepStart, map[string]any{"kind": "shell", "attempt": 1, "phase": "p"}},
		{engine.StepStarted{StepKind: "shell", Attempt: 2, Phase: "rollback", Resumed: true, RollbackOf: "a"}, engine.EvStepStart,
			map[string]any{"kind": "shell", "attempt": 2, "phase": "rollback", "resumed": true, "rollback_of": "a"}},
		{engine.StepEnded{Status: engine.StepSkipped, Reason: "r", Unmet: true, DurationMS: &n}, engine.EvStepEnd,
			json.RawMessage(`{"status":"skipped","reason":"r","unmet":true,"duration_ms":0}`)},
		{engine.StepEnded{Status: engine.StepDone, DurationMS: &th, Result: json.RawMessage(`{"b":1,"a":2}`)}, engine.EvStepEnd,
			json.RawMessage(`{"status":"done","duration_ms":3,"result":{"b":1,"a":2}}`)},
		{engine.StepSkip{Reason: "r"}, engine.EvStepSkip, map[string]any{"reason": "r"}},
		{engine.StepRetry{}, engine.EvStepRetry, map[string]any{"reason": ""}},
		{engine.StepMarkDone{Reason: "r"}, engine.EvStepMarkDone, map[string]any{"reason": "r"}},
		{engine.StepInterruption{StepKind: "migrate"}, engine.EvInterrupted, map[string]any{"kind": "migrate"}},
		{engine.Output{Stream: "stderr", Text: "t"}, engine.EvOutput, map[string]any{"stream": "stderr", "text": "t"}},
		{engine.CheckTicked{Index: 0, Item: "i"}, engine.EvCheck, map[string]any{"index": 0, "item": "i"}},
		{engine.Decided{Choice: "c", Reason: "r"}, engine.EvDecision, map[string]any{"choice": "c", "reason": "r"}},
		{engine.Decided{Choice: "take over expired lease", Reason: "r", PreviousHolder: "h", PreviousSession: "s"}, engine.EvDecision,
			map[string]any{"choice": "take over expired lease", "reason": "r", "previous_holder": "h", "previous_session": "s"}},
		{engine.Approved{Approver: "a", Role: "accountable", Reason: "r"}, engine.EvApproval, map[string]any{"approver": "a", "role": "accountable", "reason": "r"}},
		{engine.Confirmed{What: "destructive", Value: true}, engine.EvConfirm, map[string]any{"what": "destructive", "value": true}},
		{engine.Confirmed{What: "extend_window", Value: "r", WindowClosedAt: at}, engine.EvConfirm, map[string]any{"what": "extend_window", "value": "r", "window_closed_at": at}},
		{engine.Confirmed{What: "rehearsal_drift", Value: "r", RehearsalSHA256: "h"}, engine.EvConfirm, map[string]any{"what": "rehearsal_drift", "value": "r", "rehearsal_sha256": "h"}},
		{engine.Notified{Channel: "stdout", To: []string{"a"}, Message: "m", Sent: true}, engine.EvNotify, map[string]any{"channel": "stdout", "to": []string{"a"}, "message": "m", "sent": true}},
		{engine.Note{Text: "t"}, engine.EvNote, map[string]any{"text": "t"}},
		{engine.Note{Text: "t", By: engine.NoteByLockstep}, engine.EvNote, map[string]any{"text": "t", "by": engine.NoteByLockstep}},
		{engine.Paused{}, engine.EvPause, map[string]any{}},
		{engine.Resumed{}, engine.EvResume, map[string]any{}},
		{engine.Aborted{Reason: ""}, engine.EvAbort, map[string]any{"reason": ""}},
		{engine.RollbackStarted{Reason: "r"}, engine.EvRollbackStart, map[string]any{"reason": "r"}},
		{engine.RollbackEnded{}, engine.EvRollbackEnd, map[string]any{}},
		{engine.RollbackRequested{Reason: "r"}, engine.EvRollbackRequest, map[string]any{"reason": "r"}},
		{engine.RateChanged{Rate: 5}, engine.EvRate, map[string]any{"rate": 5}},
		{engine.QuitRequested{Reason: "r"}, engine.EvQuit, map[string]any{"reason": "r"}},
		{engine.Progress{Done: 3, Total: 4, Rate: 1.5, ItemsPerSec: 2, WriteRate: 20, ETAms: 7}, engine.EvProgress, map[string]any{
			"done": int64(3), "total": int64(4), "scanned": int64(0), "migrated": int64(0), "skipped": int64(0), "unchanged": int64(0),
			"conflicts": int64(0), "throttles": int64(0), "failures": int64(0), "rate": 1.5, "items_per_sec": 2.0,
			"write_limit": 0.0, "write_rate": 20.0, "eta_ms": int64(7)}},
		{engine.Progress{Done: 3, Segments: 4, SegmentsDone: 1, SegmentsClaimed: 2, SegmentsLeft: 1, WorkersAlive: 2}, engine.EvProgress, map[string]any{
			"done": int64(3), "total": int64(0), "scanned": int64(0), "migrated": int64(0), "skipped": int64(0), "unchanged": int64(0),
			"conflicts": int64(0), "throttles": int64(0), "failures": int64(0), "rate": 0.0, "items_per_sec": 0.0,
			"write_limit": 0.0, "write_rate": 0.0, "eta_ms": int64(0), "segments": 4, "segments_done": 1, "segments_claimed": 2,
			"segments_left": 1, "workers_alive": 2}},
		{engine.Warning{Message: "m"}, engine.EvWarning, map[string]any{"message": "m"}},
		{engine.Warning{Message: "m", Key: "id=1", Segment: &seg, Error: "e"}, engine.EvWarning, map[string]any{"message": "m", "key": "id=1", "segment": 0, "error": "e"}},
		{engine.Warning{Message: "m", Throttles: &th, WriteLimit: &lim, WriteRate: &rate}, engine.EvWarning, map[string]any{"message": "m", "throttles": th, "write_limit": lim, "write_rate": rate}},
		{engine.Warning{Message: "m", StaleCount: &n, Sample: &th}, engine.EvWarning, map[string]any{"message": "m", "stale_count": n, "sample": th}},
		{engine.Warning{Message: "m", Errors: &th, Keys: []string{"k"}}, engine.EvWarning, map[string]any{"message": "m", "errors": th, "keys": []string{"k"}}},
		{engine.Warning{Message: "m", WindowClosedAt: at, Env: "e"}, engine.EvWarning, map[string]any{"message": "m", "window_closed_at": at, "env": "e"}},
		{engine.Result{Value: struct {
			B int `json:"b"`
			A int `json:"a"`
		}{1, 2}}, engine.EvResult, json.RawMessage(`{"b":1,"a":2}`)},
	}
	for _, tt := range tests {
		ev := engine.NewEvent("s", tt.p)
		want, err := json.Marshal(tt.old)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != tt.kind || ev.Step != "s" {
			t.Errorf("NewEvent(%T) kind %q step %q, want %q s", tt.p, ev.Kind, ev.Step, tt.kind)
		}
		if string(ev.Data) != string(want) {
			t.Errorf("NewEvent(%T).Data = %s, want %s", tt.p, ev.Data, want)
		}
		got, err := engine.DecodePayload(ev)
		if err != nil {
			t.Errorf("DecodePayload(%s) = %v", ev.Data, err)
			continue
		}
		if r, ok := got.(engine.Result); ok {
			if b, _ := json.Marshal(r); string(b) != string(want) {
				t.Errorf("DecodePayload(result) = %s, want %s", b, want)
			}
			continue
		}
		if !reflect.DeepEqual(got, tt.p) {
			t.Errorf("DecodePayload(%s) = %#v, want %#v", ev.Data, got, tt.p)
		}
	}
}

func TestDecodePayloadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   engine.Event
		want error  // errors.Is target; nil: any error
		text string // in the error
	}{
		{"wrong shape", engine.Event{Kind: engine.EvStepEnd, Seq: 7, Data: json.RawMessage(`{"status":5}`)}, nil, "decode step.end event 7"},
		{"not json", engine.Event{Kind: engine.EvProgress, Data: json.RawMessage(`{"done":`)}, nil, "decode progress event"},
		{"unknown kind", engine.Event{Kind: "from.the.future", Data: json.RawMessage(`{}`)}, engine.ErrUnknownKind, "from.the.future"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := engine.DecodePayload(tt.ev)
			if err == nil || !strings.Contains(err.Error(), tt.text) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("DecodePayload() error = %v, want one with %q", err, tt.text)
			}
		})
	}
	if _, err := engine.DecodeAs[engine.Warning](engine.Event{Kind: engine.EvNote}); !errors.Is(err, engine.ErrKindMismatch) {
		t.Errorf("DecodeAs[Warning](note) error = %v, want ErrKindMismatch", err)
	}
	if p, err := engine.DecodePayload(engine.Event{Kind: engine.EvPause}); err != nil || p != (engine.Paused{}) {
		t.Errorf("DecodePayload(pause without data) = %v, %v; want Paused{}", p, err)
	}
}
