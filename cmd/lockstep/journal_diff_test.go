package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// diffEvent is one event of a session written by writeDiffSession.
type diffEvent struct {
	step     string
	kind     engine.EventKind
	data     map[string]any
	operator string
}

// writeDiffSession stores a session with events in the journal at jpath,
// one second apart, ended with outcome, and returns its id.
func writeDiffSession(t *testing.T, jpath, id string, outcome engine.Outcome, events ...diffEvent) string {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(jpath)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	t0 := time.Date(2026, 11, 23, 19, 0, 0, 0, time.UTC)
	info, err := j.CreateSession(ctx, engine.SessionInfo{ID: id, Runbook: "release", Env: "scratch",
		Mode: engine.ModeRehearsal, Operator: "alice", Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		ev := eventtest.Raw(e.kind, e.step, e.data)
		ev.SessionID, ev.Operator, ev.Time = info.ID, "alice", t0.Add(time.Duration(i+1)*time.Second)
		if e.operator != "" {
			ev.Operator = e.operator
		}
		if _, err := j.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.EndSession(ctx, info.ID, outcome); err != nil {
		t.Fatal(err)
	}
	return info.ID
}

func TestJournalDiffAttemptsAndDecisions(t *testing.T) {
	jpath := filepath.Join(t.TempDir(), "journal.db")
	type m = map[string]any
	// A (rehearsal): migrate fails once, is retried and succeeds; the
	// strategy is big-bang, approved by bob.
	a := writeDiffSession(t, jpath, "A1", engine.OutcomeCompleted,
		diffEvent{"strategy", engine.EvStepStart, m{"kind": "decision", "attempt": 1}, ""},
		diffEvent{"strategy", engine.EvDecision, m{"choice": "big-bang"}, ""},
		diffEvent{"strategy", engine.EvStepEnd, m{"status": "done", "duration_ms": 1000}, ""},
		diffEvent{"go", engine.EvStepStart, m{"kind": "approval", "attempt": 1}, ""},
		diffEvent{"go", engine.EvApproval, m{"approver": "bob", "role": "accountable"}, "bob"},
		diffEvent{"go", engine.EvStepEnd, m{"status": "done", "duration_ms": 1000}, ""},
		diffEvent{"migrate", engine.EvStepStart, m{"kind": "shell", "attempt": 1}, ""},
		diffEvent{"migrate", engine.EvStepEnd, m{"status": "failed", "error": "exit status 1", "duration_ms": 1000}, ""},
		diffEvent{"migrate", engine.EvStepRetry, m{"reason": "flaky"}, ""},
		diffEvent{"migrate", engine.EvStepStart, m{"kind": "shell", "attempt": 2}, ""},
		diffEvent{"migrate", engine.EvStepEnd, m{"status": "done", "duration_ms": 1000}, ""},
		diffEvent{"", engine.EvSessionEnd, m{"outcome": "completed"}, ""},
	)
	// B (live): migrate passes at once; the strategy is phased, approved by bob.
	b := writeDiffSession(t, jpath, "B1", engine.OutcomeCompleted,
		diffEvent{"strategy", engine.EvStepStart, m{"kind": "decision", "attempt": 1}, ""},
		diffEvent{"strategy", engine.EvDecision, m{"choice": "phased"}, ""},
		diffEvent{"strategy", engine.EvStepEnd, m{"status": "done", "duration_ms": 1000}, ""},
		diffEvent{"go", engine.EvStepStart, m{"kind": "approval", "attempt": 1}, ""},
		diffEvent{"go", engine.EvApproval, m{"approver": "bob", "role": "accountable"}, "bob"},
		diffEvent{"go", engine.EvStepEnd, m{"status": "done", "duration_ms": 1000}, ""},
		diffEvent{"migrate", engine.EvStepStart, m{"kind": "shell", "attempt": 1}, ""},
		diffEvent{"migrate", engine.EvStepEnd, m{"status": "done", "duration_ms": 1000}, ""},
		diffEvent{"", engine.EvSessionEnd, m{"outcome": "completed"}, ""},
	)

	t.Run("text", func(t *testing.T) {
		out, _, err := execCmd(nil, "journal", "diff", a, b, "--journal", jpath)
		if err != nil {
			t.Fatalf("journal diff: %v", err)
		}
		got := out.String()
		for _, want := range []string{
			"STEP      A STATUS  A ATTEMPTS    A TIME  B STATUS  B ATTEMPTS  B TIME  DELTA",
			"migrate   done      2 (1 failed)  2.0s    done      1           1.0s    -1.0s (-50%)",
			"Decisions and approvals that differ:\nSTEP      A                 B\nstrategy  decided big-bang  decided phased\n",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("journal diff lacks %q\n--- got ---\n%s", want, got)
			}
		}
		if strings.Contains(got, "go        approved") {
			t.Errorf("journal diff lists go, approved alike on both sides\n%s", got)
		}
	})

	t.Run("json", func(t *testing.T) {
		out, _, err := execCmd(nil, "journal", "diff", a, b, "--journal", jpath, "--format", "json")
		if err != nil {
			t.Fatalf("journal diff --format json: %v", err)
		}
		var doc struct {
			Steps []map[string]json.RawMessage `json:"steps"`
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("decode: %v\n%s", err, out)
		}
		byID := map[string]map[string]json.RawMessage{}
		for _, s := range doc.Steps {
			var id string
			_ = json.Unmarshal(s["id"], &id)
			byID[id] = s
		}
		tests := []struct {
			step, field, want string
		}{
			{"migrate", "status_a", `"done"`}, // kept: the last attempt's status
			{"migrate", "attempts_a", `2`},
			{"migrate", "failed_a", `1`},
			{"migrate", "attempts_b", `1`},
			{"migrate", "failed_b", `0`},
			{"migrate", "decisions_a", `[]`},
			{"strategy", "decisions_a", `[{"kind":"decision","choice":"big-bang"}]`},
			{"strategy", "decisions_b", `[{"kind":"decision","choice":"phased"}]`},
			{"strategy", "decisions_differ", `true`},
			{"go", "decisions_b", `[{"kind":"approval","choice":"bob","role":"accountable"}]`},
			{"go", "decisions_differ", `false`},
		}
		for _, tt := range tests {
			raw, ok := byID[tt.step][tt.field]
			var compact bytes.Buffer
			if ok {
				_ = json.Compact(&compact, raw)
			}
			if !ok || compact.String() != tt.want {
				t.Errorf("steps[%s].%s = %s, want %s", tt.step, tt.field, compact.String(), tt.want)
			}
		}
	})
}
