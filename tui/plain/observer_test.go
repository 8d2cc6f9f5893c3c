package plain_test

import (
	"bytes"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/internal/eventtest"
	"github.com/lockstep-run/lockstep/tui/plain"
)

func ev(kind engine.EventKind, step string, data any) engine.Event {
	e := eventtest.Raw(kind, step, data)
	e.SessionID, e.Operator = "S1", "alice"
	return e
}

func TestObserverLines(t *testing.T) {
	tests := []struct {
		name string
		ev   engine.Event
		want string
	}{
		{"session start", ev(engine.EvSessionStart, "", map[string]any{"runbook": "rb", "env": "staging", "mode": "rehearsal", "operator": "alice"}),
			"lockstep: rb on staging (rehearsal) by alice — session S1\n"},
		{"phase", ev(engine.EvPhaseStart, "", map[string]any{"phase": "backup"}), "\n== backup ==\n"},
		{"step start", ev(engine.EvStepStart, "snap", map[string]any{"kind": "backup", "attempt": 1}), "▶ snap (backup)\n"},
		{"step retry start", ev(engine.EvStepStart, "snap", map[string]any{"kind": "backup", "attempt": 2}), "▶ snap (backup) attempt 2\n"},
		{"step done", ev(engine.EvStepEnd, "snap", map[string]any{"status": "done", "duration_ms": 1234}), "✓ snap 1.2s\n"},
		{"step failed", ev(engine.EvStepEnd, "snap", map[string]any{"status": "failed", "error": "disk full"}), "✗ snap: disk full\n"},
		{"step skipped", ev(engine.EvStepSkip, "snap", map[string]any{"reason": "not in staging"}), "↷ snap skipped: not in staging\n"},
		{"output", ev(engine.EvOutput, "sh", map[string]any{"stream": "stdout", "text": "one\ntwo\n"}), "    │ one\n    │ two\n"},
		{"stderr", ev(engine.EvOutput, "sh", map[string]any{"stream": "stderr", "text": "oops"}), "    ┆ oops\n"},
		{"decision", ev(engine.EvDecision, "pick", map[string]any{"choice": "now", "reason": "team here"}), "  ◆ pick: decided \"now\" by alice — team here\n"},
		{"approval", ev(engine.EvApproval, "go", map[string]any{"approver": "bob", "role": "accountable", "reason": "ok"}), "  ◆ go: approved by bob (accountable) — ok\n"},
		{"interrupted", ev(engine.EvInterrupted, "slow", map[string]any{"kind": "shell"}), "⚠ slow was interrupted\n"},
		{"mark done", ev(engine.EvStepMarkDone, "slow", map[string]any{"reason": "by hand"}), "✓ slow marked done by alice: by hand\n"},
		{"end", ev(engine.EvSessionEnd, "", map[string]any{"outcome": "stopped"}), "\n⏸ stopped (resumable) — session S1\n"},
		{"notify sns", ev(engine.EvNotify, "tell", map[string]any{"channel": "sns", "to": []any{"ops"}, "message": "starts\nnow", "sent": true}),
			"  ✉ tell: sending via sns to ops\n    » starts\n    » now\n"},
		{"notify stdout, dry-run", ev(engine.EvNotify, "tell", map[string]any{"channel": "stdout", "message": "hi", "sent": false}),
			"  ✉ tell: not sent via stdout\n    » hi\n"},
		{"notify stdout, live (the channel prints it)", ev(engine.EvNotify, "tell", map[string]any{"channel": "stdout", "message": "hi", "sent": true}),
			"  ✉ tell: sending via stdout\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			plain.Observer(&out)(tt.ev)
			if got := out.String(); got != tt.want {
				t.Errorf("printed %q, want %q", got, tt.want)
			}
		})
	}
}

func TestObserverSkipPrintedOnce(t *testing.T) {
	var out bytes.Buffer
	obs := plain.Observer(&out)
	obs(ev(engine.EvStepSkip, "a", map[string]any{"reason": "r"}))
	obs(ev(engine.EvStepEnd, "a", map[string]any{"status": "skipped", "reason": "r"}))
	if n := strings.Count(out.String(), "skipped"); n != 1 {
		t.Errorf("skip printed %d times:\n%s", n, out.String())
	}
}

func TestObserverThrottlesProgress(t *testing.T) {
	var out bytes.Buffer
	obs := plain.Observer(&out)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 { // 100 events over 10 s: one line every ProgressEvery, plus the final one
		e := ev(engine.EvProgress, "m", map[string]any{"done": (i + 1) * 10, "total": 1000, "rate": 100})
		e.Time = t0.Add(time.Duration(i) * 100 * time.Millisecond)
		obs(e)
	}
	lines := strings.Count(out.String(), "…")
	if lines < 3 || lines > 6 {
		t.Errorf("printed %d progress lines for 10 s of progress, want about 10s/%s + 1:\n%s", lines, plain.ProgressEvery, out.String())
	}
	if !strings.Contains(out.String(), "1000/1000 (100%)") {
		t.Errorf("final progress line missing:\n%s", out.String())
	}
}

func TestObserverSQLRows(t *testing.T) {
	var out bytes.Buffer
	obs := plain.Observer(&out)
	obs(ev(engine.EvStepStart, "count", map[string]any{"kind": "sql", "attempt": 1}))
	obs(ev(engine.EvStepEnd, "count", map[string]any{"status": "done", "duration_ms": 5, "result": map[string]any{
		"results": []map[string]any{{"statement": "SELECT count(*) AS n FROM t", "columns": []string{"n"}, "rows": [][]string{{"42"}}}},
	}}))
	if !strings.Contains(out.String(), "    = n=42\n") {
		t.Errorf("sql rows not printed:\n%s", out.String())
	}
}

// TestObserverUnreadableEvents: a payload that does not decode prints as
// an explicit unreadable line, not as a line of empty fields.
func TestObserverUnreadableEvents(t *testing.T) {
	tests := []struct {
		name string
		ev   engine.Event
	}{
		{"step end", ev(engine.EvStepEnd, "snap", map[string]any{"status": 5})},
		{"decision", ev(engine.EvDecision, "pick", map[string]any{"choice": []string{"a"}})},
		{"progress", ev(engine.EvProgress, "m", map[string]any{"done": "many"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			plain.Observer(&out)(tt.ev)
			want := "  ⚠ unreadable event " + string(tt.ev.Kind) + " (seq 0): decode " + string(tt.ev.Kind) + " event 0: "
			if got := out.String(); !strings.HasPrefix(got, want) || strings.Count(got, "\n") != 1 {
				t.Errorf("printed %q, want one line starting %q", got, want)
			}
		})
	}
}

// TestObserverProgressByKind: a backup's (or drill's, verify's, exact
// estimate's) progress reads done/total, items/s and ETA; a migrate's
// keeps its conflicts and throttles, and a fleet step's adds its workers
// alive and segments by state.
func TestObserverProgressByKind(t *testing.T) {
	fleet := map[string]any{"segments": 64, "segments_done": 10, "segments_claimed": 8, "segments_left": 46, "workers_alive": 7}
	tests := []struct {
		name, kind string
		extra      map[string]any
		want       string
	}{
		{"backup", "backup", nil, "    … 500/2000 (25%)  250 items/s  ETA 6s\n"},
		{"restore-drill", "restore-drill", nil, "    … 500/2000 (25%)  250 items/s  ETA 6s\n"},
		{"migrate", "migrate", nil, "    … 500/2000 (25%)  250 items/s  1 conflicts  2 throttles\n"},
		{"fleet", "migrate", fleet,
			"    … 500/2000 (25%)  250 items/s  1 conflicts  2 throttles  7 workers alive  segments 10 done / 8 claimed / 46 left\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			obs := plain.Observer(&out)
			obs(ev(engine.EvStepStart, "s", map[string]any{"kind": tt.kind, "attempt": 1}))
			out.Reset()
			data := map[string]any{"done": 500, "total": 2000, "rate": 250, "eta_ms": 6000, "conflicts": 1, "throttles": 2}
			maps.Copy(data, tt.extra)
			obs(ev(engine.EvProgress, "s", data))
			if got := out.String(); got != tt.want {
				t.Errorf("printed %q, want %q", got, tt.want)
			}
		})
	}
}
