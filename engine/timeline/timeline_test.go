package timeline_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/timeline"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

var tlT0 = time.Date(2026, 11, 23, 19, 0, 0, 0, time.UTC)

// tlEvents builds a session's event slice; at is seconds after tlT0.
type tlEvents []engine.Event

func (es *tlEvents) add(at float64, step string, kind engine.EventKind, data any, operator ...string) *tlEvents {
	ev := eventtest.Raw(kind, step, data)
	ev.SessionID, ev.Seq, ev.Operator = "S1", int64(len(*es)+1), "alice"
	ev.Time = tlT0.Add(time.Duration(at * float64(time.Second)))
	if len(operator) > 0 {
		ev.Operator = operator[0]
	}
	*es = append(*es, ev)
	return es
}

type tlm = map[string]any

func tlInfo(outcome engine.Outcome) engine.SessionInfo {
	return engine.SessionInfo{ID: "S1", Runbook: "split-address", Title: "Split address", Env: "staging",
		Mode: engine.ModeRehearsal, Operator: "alice", Started: tlT0, Outcome: outcome}
}

// tlHappyPath is a completed rehearsal with an estimate, a decision, an
// approval, a checklist and a migrate step.
func tlHappyPath() (engine.SessionInfo, []engine.Event) {
	var es tlEvents
	es.add(0, "", engine.EvSessionStart, tlm{"env": "staging"}).
		add(1, "", engine.EvPhaseStart, tlm{"phase": "estimate"}).
		add(1, "size", engine.EvStepStart, tlm{"kind": "estimate", "attempt": 1, "phase": "estimate"}).
		add(2, "size", engine.EvOutput, tlm{"stream": "stdout", "text": "counting\n12000 items\n"}).
		add(3, "size", engine.EvStepEnd, tlm{"status": "done", "duration_ms": 2000, "result": tlm{"duration_ms": 60000, "items": 12000}}).
		add(3, "", engine.EvPhaseEnd, tlm{"phase": "estimate", "status": "done"}).
		add(4, "strategy", engine.EvStepStart, tlm{"kind": "decision", "attempt": 1, "phase": "plan"}).
		add(5, "strategy", engine.EvDecision, tlm{"choice": "big-bang", "reason": "low traffic tonight"}).
		add(5, "strategy", engine.EvStepEnd, tlm{"status": "done", "duration_ms": 1000}).
		add(6, "go-no-go", engine.EvStepStart, tlm{"kind": "approval", "attempt": 1, "phase": "plan"}).
		add(7, "go-no-go", engine.EvApproval, tlm{"approver": "bob", "role": "accountable", "reason": "backup verified"}, "bob").
		add(7, "go-no-go", engine.EvStepEnd, tlm{"status": "done", "duration_ms": 1000}).
		add(8, "deploy", engine.EvStepStart, tlm{"kind": "manual", "attempt": 1, "phase": "run"}).
		add(9, "deploy", engine.EvCheck, tlm{"index": 0, "item": "Deployed to all regions"}).
		add(10, "deploy", engine.EvCheck, tlm{"index": 1, "item": "Error rate normal"}).
		add(10, "deploy", engine.EvStepEnd, tlm{"status": "done", "duration_ms": 2000}).
		add(11, "backfill", engine.EvStepStart, tlm{"kind": "migrate", "attempt": 1, "phase": "run"}).
		add(20, "backfill", engine.EvCheckpoint, tlm{"segment": 0, "cursor": "YQ=="}).
		add(30, "backfill", engine.EvProgress, tlm{"done": 12000, "total": 12000}).
		add(101, "backfill", engine.EvStepEnd, tlm{"status": "done", "duration_ms": 90000, "result": tlm{"migrated": 12000}}).
		add(102, "", engine.EvSessionEnd, tlm{"outcome": "completed"})
	in := tlInfo(engine.OutcomeCompleted)
	in.Ended, in.Events = tlT0.Add(102*time.Second), int64(len(es))
	return in, es
}

func TestTimelineBuild(t *testing.T) {
	tests := []struct {
		name     string
		info     engine.SessionInfo
		tlEvents func() []engine.Event
		check    func(t *testing.T, tl timeline.Timeline)
	}{
		{"happy path", tlInfo(engine.OutcomeCompleted), func() []engine.Event { _, es := tlHappyPath(); return es },
			func(t *testing.T, tl timeline.Timeline) {
				tlWantSteps(t, tl, "size:done", "strategy:done", "go-no-go:done", "deploy:done", "backfill:done")
				size, backfill := tl.Steps[0], tl.Steps[4]
				if size.Kind != "estimate" || size.Phase != "estimate" || size.Attempts != 1 || size.Duration != 2*time.Second {
					t.Errorf("size = %+v, want estimate/estimate/1 attempt/2s", size)
				}
				if got := strings.Join(size.Output, "|"); got != "counting|12000 items" || size.OutputLines != 2 {
					t.Errorf("size output = %q (%d lines), want counting|12000 items", got, size.OutputLines)
				}
				d := tl.Steps[1].Decisions
				if len(d) != 1 || d[0].Kind != "decision" || d[0].Choice != "big-bang" || d[0].Reason != "low traffic tonight" ||
					d[0].Operator != "alice" || !d[0].Time.Equal(tlT0.Add(5*time.Second)) {
					t.Errorf("strategy decisions = %+v", d)
				}
				a := tl.Steps[2].Decisions
				if len(a) != 1 || a[0].Kind != "approval" || a[0].Choice != "bob" || a[0].Role != "accountable" || a[0].Operator != "bob" {
					t.Errorf("go-no-go decisions = %+v", a)
				}
				if c := tl.Steps[3].Checks; len(c) != 2 || c[1].Item != "Error rate normal" || c[1].Index != 1 {
					t.Errorf("deploy checks = %+v", c)
				}
				if backfill.Checkpoints != 1 || string(backfill.Progress) != `{"done":12000,"total":12000}` ||
					len(backfill.Results) != 1 || backfill.Duration != 90*time.Second {
					t.Errorf("backfill = %+v", backfill)
				}
				est, act, ok := tl.EstimateVsActual()
				if !ok || est != time.Minute || act != 90*time.Second {
					t.Errorf("EstimateVsActual() = %v, %v, %v; want 1m, 1m30s, true", est, act, ok)
				}
				if tl.Outcome != engine.OutcomeCompleted || tl.Duration != 102*time.Second {
					t.Errorf("outcome %q duration %v, want completed 1m42s", tl.Outcome, tl.Duration)
				}
				if len(tl.Phases) != 1 || tl.Phases[0].Status != "done" || len(tl.Notes) != 0 {
					t.Errorf("phases %+v notes %+v", tl.Phases, tl.Notes)
				}
			}},
		{"retry after a failure", tlInfo(engine.OutcomeCompleted), func() []engine.Event {
			var es tlEvents
			es.add(0, "load", engine.EvStepStart, tlm{"kind": "shell", "attempt": 1}).
				add(4, "load", engine.EvStepEnd, tlm{"status": "failed", "error": "exit status 1", "duration_ms": 4000}).
				add(9, "load", engine.EvStepRetry, tlm{"reason": "network blip"}).
				add(10, "load", engine.EvStepStart, tlm{"kind": "shell", "attempt": 2}).
				add(16, "load", engine.EvStepEnd, tlm{"status": "done", "duration_ms": 6000})
			return es
		}, func(t *testing.T, tl timeline.Timeline) {
			tlWantSteps(t, tl, "load:done")
			s := tl.Steps[0]
			if s.Attempts != 2 || s.Duration != 10*time.Second || s.Error != "" {
				t.Errorf("load = attempts %d duration %v error %q, want 2, 10s, none", s.Attempts, s.Duration, s.Error)
			}
			if len(s.Decisions) != 1 || s.Decisions[0].Kind != "retry" || s.Decisions[0].Reason != "network blip" {
				t.Errorf("decisions = %+v", s.Decisions)
			}
		}},
		{"failure is kept", tlInfo(engine.OutcomeFailed), func() []engine.Event {
			var es tlEvents
			es.add(0, "load", engine.EvStepStart, tlm{"kind": "shell", "attempt": 1}).
				add(3, "load", engine.EvStepEnd, tlm{"status": "failed", "error": "exit status 2"}).
				add(4, "", engine.EvSessionEnd, tlm{"outcome": "failed", "error": "step load: exit status 2"})
			return es
		}, func(t *testing.T, tl timeline.Timeline) {
			tlWantSteps(t, tl, "load:failed")
			if s := tl.Steps[0]; s.Error != "exit status 2" || s.Duration != 3*time.Second {
				t.Errorf("load = error %q duration %v; want the error and 3s from the times", s.Error, s.Duration)
			}
			if tl.Outcome != engine.OutcomeFailed || tl.Error != "step load: exit status 2" {
				t.Errorf("outcome %q error %q", tl.Outcome, tl.Error)
			}
		}},
		{"crash, resume, mark done", tlInfo(engine.OutcomeCompleted), func() []engine.Event {
			var es tlEvents
			es.add(0, "notify", engine.EvStepStart, tlm{"kind": "shell", "attempt": 1}).
				add(600, "", engine.EvSessionResume, tlm{"operator": "carol"}, "carol").
				add(610, "notify", engine.EvStepMarkDone, tlm{"reason": "saw the message in #ops"}, "carol")
			return es
		}, func(t *testing.T, tl timeline.Timeline) {
			tlWantSteps(t, tl, "notify:done")
			s := tl.Steps[0]
			if s.Reason != "saw the message in #ops" || len(s.Decisions) != 1 || s.Decisions[0].Kind != "mark_done" ||
				s.Decisions[0].Operator != "carol" {
				t.Errorf("notify = %+v", s)
			}
			if tl.Resumes != 1 || len(tl.Notes) != 1 || tl.Notes[0].Text != "resumed by carol" {
				t.Errorf("resumes %d notes %+v", tl.Resumes, tl.Notes)
			}
		}},
		{"interrupted by a crash", tlInfo(engine.OutcomeStopped), func() []engine.Event {
			var es tlEvents
			es.add(0, "backfill", engine.EvStepStart, tlm{"kind": "migrate", "attempt": 1})
			return es
		}, func(t *testing.T, tl timeline.Timeline) { tlWantSteps(t, tl, "backfill:interrupted") }},
		{"still running", tlInfo(engine.OutcomeRunning), func() []engine.Event {
			var es tlEvents
			es.add(0, "backfill", engine.EvStepStart, tlm{"kind": "migrate", "attempt": 1}).
				add(5, "backfill", engine.EvProgress, tlm{"done": 10})
			return es
		}, func(t *testing.T, tl timeline.Timeline) {
			tlWantSteps(t, tl, "backfill:running")
			if tl.Duration != 5*time.Second {
				t.Errorf("duration of a running session = %v, want up to its last event (5s)", tl.Duration)
			}
		}},
		{"skips", tlInfo(engine.OutcomeCompleted), func() []engine.Event {
			var es tlEvents
			es.add(0, "drill", engine.EvStepEnd, tlm{"status": "skipped", "reason": "dry-run"}).
				add(1, "announce", engine.EvStepStart, tlm{"kind": "notify", "attempt": 1}).
				add(2, "announce", engine.EvStepSkip, tlm{"reason": "announced by hand"}).
				add(2, "announce", engine.EvStepEnd, tlm{"status": "skipped", "reason": "announced by hand"})
			return es
		}, func(t *testing.T, tl timeline.Timeline) {
			tlWantSteps(t, tl, "drill:skipped", "announce:skipped")
			if d := tl.Steps[0]; d.Reason != "dry-run" || d.Attempts != 0 || len(d.Decisions) != 0 {
				t.Errorf("drill = %+v, want skipped by the runbook", d)
			}
			if a := tl.Steps[1]; len(a.Decisions) != 1 || a.Decisions[0].Kind != "skip" || a.Decisions[0].Reason != "announced by hand" {
				t.Errorf("announce decisions = %+v", a.Decisions)
			}
		}},
		{"pauses, notes, abort", tlInfo(engine.OutcomeAborted), func() []engine.Event {
			var es tlEvents
			es.add(0, "backfill", engine.EvStepStart, tlm{"kind": "migrate", "attempt": 1}).
				add(10, "backfill", engine.EvPause, tlm{}).
				add(40, "backfill", engine.EvResume, tlm{}).
				add(45, "backfill", engine.EvNote, tlm{"text": "throttling on shard 3"}, "bob").
				add(50, "", engine.EvPause, tlm{}).
				add(55, "backfill", engine.EvAbort, tlm{"reason": "error rate up"}).
				add(60, "backfill", engine.EvStepEnd, tlm{"status": "interrupted", "duration_ms": 60000}).
				add(60, "", engine.EvSessionEnd, tlm{"outcome": "aborted"})
			return es
		}, func(t *testing.T, tl timeline.Timeline) {
			tlWantSteps(t, tl, "backfill:interrupted")
			if tl.Pauses != 2 || tl.Paused != 40*time.Second {
				t.Errorf("pauses %d paused %v, want 2 and 40s", tl.Pauses, tl.Paused)
			}
			var got []string
			for _, n := range tl.Notes {
				got = append(got, fmt.Sprintf("%s/%s/%s/%s", n.Kind, n.Step, n.Operator, n.Text))
			}
			want := "pause/backfill/alice/|resume/backfill/alice/|note/backfill/bob/throttling on shard 3|" +
				"pause//alice/|abort/backfill/alice/error rate up"
			if strings.Join(got, "|") != want {
				t.Errorf("notes = %s\nwant    %s", strings.Join(got, "|"), want)
			}
		}},
		{"output excerpt keeps the last lines", tlInfo(engine.OutcomeCompleted), func() []engine.Event {
			var es tlEvents
			es.add(0, "load", engine.EvStepStart, tlm{"kind": "shell", "attempt": 1})
			for i := 1; i <= 25; i += 5 {
				es.add(1, "load", engine.EvOutput, tlm{"stream": "stdout", "text": fmt.Sprintf("l%d\nl%d\nl%d\nl%d\nl%d\n", i, i+1, i+2, i+3, i+4)})
			}
			es.add(2, "load", engine.EvOutput, tlm{"stream": "stderr", "text": "warning: slow"})
			return es
		}, func(t *testing.T, tl timeline.Timeline) {
			s := tl.Steps[0]
			if s.OutputLines != 26 || len(s.Output) != 20 || // the excerpt keeps the last 20
				s.Output[0] != "l7" ||
				s.Output[len(s.Output)-1] != "stderr: warning: slow" {
				t.Errorf("output = %q (%d lines)", s.Output, s.OutputLines)
			}
		}},
		{"rollback", tlInfo(engine.OutcomeRolledBack), func() []engine.Event {
			var es tlEvents
			es.add(0, "backfill", engine.EvStepStart, tlm{"kind": "migrate", "attempt": 1, "phase": "run"}).
				add(10, "backfill", engine.EvStepEnd, tlm{"status": "done", "duration_ms": 10000}).
				add(11, "", engine.EvRollbackStart, tlm{"reason": "verify failed"}).
				add(12, "backfill.rollback", engine.EvStepStart, tlm{"kind": "migrate", "attempt": 1, "phase": "rollback", "rollback_of": "backfill"}).
				add(20, "backfill.rollback", engine.EvStepEnd, tlm{"status": "done", "duration_ms": 8000}).
				add(21, "", engine.EvRollbackEnd, tlm{}).
				add(21, "", engine.EvSessionEnd, tlm{"outcome": "rolled-back"})
			return es
		}, func(t *testing.T, tl timeline.Timeline) {
			tlWantSteps(t, tl, "backfill:rolled-back", "backfill.rollback:done")
			if r := tl.Steps[1]; r.RollbackOf != "backfill" || r.Phase != "rollback" {
				t.Errorf("rollback step = %+v", r)
			}
			if _, act, _ := tl.EstimateVsActual(); act != 10*time.Second {
				t.Errorf("actual = %v, want 10s (rollbacks excluded)", act)
			}
			if len(tl.Notes) != 2 || tl.Notes[0].Text != "verify failed" || tl.Notes[1].Kind != engine.EvRollbackEnd {
				t.Errorf("notes = %+v", tl.Notes)
			}
		}},
		{"phase split by a quit and a resume is one phase", tlInfo(engine.OutcomeCompleted), func() []engine.Event {
			var es tlEvents
			es.add(0, "", engine.EvPhaseStart, tlm{"phase": "run"}).
				add(1, "backfill", engine.EvStepStart, tlm{"kind": "migrate", "attempt": 1, "phase": "run"}).
				add(5, "backfill", engine.EvStepEnd, tlm{"status": "interrupted"}).
				add(5, "", engine.EvSessionEnd, tlm{"outcome": "stopped"}).
				add(60, "", engine.EvSessionResume, tlm{"operator": "alice"}).
				add(61, "", engine.EvPhaseStart, tlm{"phase": "run"}).
				add(62, "backfill", engine.EvStepStart, tlm{"kind": "migrate", "attempt": 2, "phase": "run"}).
				add(70, "backfill", engine.EvStepEnd, tlm{"status": "done"}).
				add(70, "", engine.EvPhaseEnd, tlm{"phase": "run", "status": "completed"}).
				add(71, "", engine.EvPhaseStart, tlm{"phase": "verify"}).
				add(72, "", engine.EvPhaseEnd, tlm{"phase": "verify", "status": "completed"})
			return es
		}, func(t *testing.T, tl timeline.Timeline) {
			var got []string
			for _, p := range tl.Phases {
				got = append(got, fmt.Sprintf("%s:%s:%s-%s", p.Name, p.Status,
					p.Started.Sub(tlT0), p.Ended.Sub(tlT0)))
			}
			if want := "run:completed:0s-1m10s verify:completed:1m11s-1m12s"; strings.Join(got, " ") != want {
				t.Errorf("phases = %s, want %s", strings.Join(got, " "), want)
			}
		}},
		{"result event and step.end result with the same data", tlInfo(engine.OutcomeCompleted), func() []engine.Event {
			var es tlEvents
			es.add(0, "size", engine.EvStepStart, tlm{"kind": "estimate", "attempt": 1}).
				add(1, "size", engine.EvResult, tlm{"items": 12000, "duration_ms": 60000}).
				add(2, "size", engine.EvStepEnd, tlm{"status": "done", "result": tlm{"duration_ms": 60000, "items": 12000}}).
				add(3, "verify", engine.EvStepStart, tlm{"kind": "verify", "attempt": 1}).
				add(4, "verify", engine.EvResult, tlm{"remaining": 0}).
				add(5, "verify", engine.EvStepEnd, tlm{"status": "done", "result": tlm{"remaining": 0, "sampled": 500}})
			return es
		}, func(t *testing.T, tl timeline.Timeline) {
			if n := len(tl.Steps[0].Results); n != 1 {
				t.Errorf("size has %d results, want the one result once: %s", n, tl.Steps[0].Results)
			}
			if n := len(tl.Steps[1].Results); n != 2 {
				t.Errorf("verify has %d results, want 2 different ones: %s", n, tl.Steps[1].Results)
			}
		}},
		{"no tlEvents", tlInfo(engine.OutcomeRunning), func() []engine.Event { return nil },
			func(t *testing.T, tl timeline.Timeline) {
				if len(tl.Steps) != 0 || tl.Duration != 0 {
					t.Errorf("timeline = %+v, want empty", tl)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, timeline.Build(tt.info, tt.tlEvents()))
		})
	}
}

// tlWantSteps checks the timeline's steps as "id:status" in order.
func tlWantSteps(t *testing.T, tl timeline.Timeline, want ...string) {
	t.Helper()
	var got []string
	for _, s := range tl.Steps {
		got = append(got, s.ID+":"+string(s.Status))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("steps = %v, want %v", got, want)
	}
}

func TestTimelineWriteJSON(t *testing.T) {
	in, es := tlHappyPath()
	var buf bytes.Buffer
	if err := timeline.Build(in, es).WriteJSON(&buf); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	var doc struct {
		Session struct {
			ID  string `json:"id"`
			Env string `json:"env"`
		} `json:"session"`
		Outcome    string `json:"outcome"`
		DurationMS int64  `json:"duration_ms"`
		Estimate   *struct {
			EstimatedMS int64 `json:"estimated_ms"`
			ActualMS    int64 `json:"actual_ms"`
			DeltaMS     int64 `json:"delta_ms"`
		} `json:"estimate"`
		Steps []map[string]json.RawMessage `json:"steps"`
		Notes json.RawMessage              `json:"notes"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("decode %s: %v", buf.String(), err)
	}
	if doc.Session.ID != "S1" || doc.Session.Env != "staging" || doc.Outcome != "completed" || doc.DurationMS != 102000 {
		t.Errorf("header = %+v", doc)
	}
	if doc.Estimate == nil || doc.Estimate.EstimatedMS != 60000 || doc.Estimate.ActualMS != 90000 || doc.Estimate.DeltaMS != 30000 {
		t.Errorf("estimate = %+v, want 60000/90000/30000", doc.Estimate)
	}
	if string(doc.Notes) != "[]" {
		t.Errorf("notes = %s, want []", doc.Notes)
	}
	tests := []struct {
		step  int
		field string
		want  string
	}{
		{0, "id", `"size"`},
		{0, "kind", `"estimate"`},
		{0, "status", `"done"`},
		{0, "duration_ms", `2000`},
		{0, "attempts", `1`},
		{0, "started", `"2026-11-23T19:00:01Z"`},
		{0, "output_excerpt", `["counting","12000 items"]`},
		{0, "decisions", `[]`},
		{1, "decisions", `[{"kind":"decision","choice":"big-bang","reason":"low traffic tonight","operator":"alice","time":"2026-11-23T19:00:05Z"}]`},
		{2, "decisions", `[{"kind":"approval","choice":"bob","reason":"backup verified","role":"accountable","operator":"bob","time":"2026-11-23T19:00:07Z"}]`},
		{4, "results", `[{"migrated":12000}]`},
		{4, "checkpoints", `1`},
	}
	for _, tt := range tests {
		var compact bytes.Buffer
		if err := json.Compact(&compact, doc.Steps[tt.step][tt.field]); err != nil {
			t.Errorf("steps[%d].%s: %v", tt.step, tt.field, err)
			continue
		}
		if compact.String() != tt.want {
			t.Errorf("steps[%d].%s = %s, want %s", tt.step, tt.field, compact.String(), tt.want)
		}
	}
	if _, ok := doc.Steps[0]["Duration"]; ok {
		t.Error("steps carry a Go Duration field; want duration_ms only")
	}
}

func TestTimelineWriteMarkdown(t *testing.T) {
	in, es := tlHappyPath()
	var es2 tlEvents = es[:len(es)-1]
	es2.add(100, "size", engine.EvResult, tlm{"items": 12000, "duration_ms": 60000}). // as estimate journals it
												add(100, "backfill", engine.EvOutput, tlm{"stream": "stdout", "text": "a ``` fence | pipe"}).
												add(101, "", engine.EvNote, tlm{"text": "next time, start earlier"}, "bob")
	var buf bytes.Buffer
	if err := timeline.Build(in, es2).WriteMarkdown(&buf); err != nil {
		t.Fatalf("WriteMarkdown: %v", err)
	}
	md := buf.String()
	if n := strings.Count(md, "- Result: `{\"duration_ms\":60000,\"items\":12000}`"); n != 1 {
		t.Errorf("the size result is written %d times, want once\n%s", n, md)
	}
	for _, want := range []string{
		"# Session S1 — Split address",
		"| Environment | staging |",
		"| Duration | 1m42s |",
		"## Estimate vs actual\n\nEstimated 1m00s, actual 1m30s (+30.0s (+50%)).",
		"| strategy | plan | decision | done | 1 | 1.0s |",
		"### go-no-go (approval) — done",
		"- Approved by **bob** as accountable — backup verified (bob, 2026-11-23 19:00:07 UTC)",
		"- Decided **big-bang** — low traffic tonight (alice, 2026-11-23 19:00:05 UTC)",
		"- [x] Error rate normal (alice, 2026-11-23 19:00:10 UTC)",
		"Output (last 2 of 2 lines):\n\n```\ncounting\n12000 items\n```",
		"````\na ``` fence | pipe\n````",
		"- Result: `{\"migrated\":12000}`",
		"## Notes and interventions\n\n- 2026-11-23 19:01:41 UTC **note** by bob: next time, start earlier",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q\n--- got ---\n%s", want, md)
		}
	}
}

func TestCompare(t *testing.T) {
	build := func(id string, env string, steps ...any) timeline.Timeline {
		var es tlEvents
		at := 0.0
		for i := 0; i < len(steps); i += 3 {
			ms := steps[i+2].(int)
			es.add(at, steps[i].(string), engine.EvStepStart, tlm{"kind": "shell", "attempt": 1})
			es.add(at+float64(ms)/1000, steps[i].(string), engine.EvStepEnd, tlm{"status": steps[i+1], "duration_ms": ms})
			at += float64(ms) / 1000
		}
		in := tlInfo(engine.OutcomeCompleted)
		in.ID, in.Env, in.Ended = id, env, tlT0.Add(time.Duration(at*float64(time.Second)))
		return timeline.Build(in, es)
	}
	a := build("A1", "staging", "size", "done", 2000, "backfill", "done", 60000, "old-only", "done", 1000)
	b := build("B1", "production", "size", "done", 3000, "backfill", "failed", 90000, "new-only", "skipped", 0)
	d := timeline.Compare(a, b)
	tests := []struct {
		id               string
		statusA, statusB engine.StepStatus
		delta            time.Duration
	}{
		{"size", "done", "done", time.Second},
		{"backfill", "done", "failed", 30 * time.Second},
		{"old-only", "done", "", -time.Second},
		{"new-only", "", "skipped", 0},
	}
	if len(d.Steps) != len(tests) {
		t.Fatalf("Compare() has %d steps, want %d: %+v", len(d.Steps), len(tests), d.Steps)
	}
	for i, tt := range tests {
		if s := d.Steps[i]; s.ID != tt.id || s.StatusA != tt.statusA || s.StatusB != tt.statusB || s.Delta != tt.delta {
			t.Errorf("Steps[%d] = %+v, want %s %s→%s delta %v", i, s, tt.id, tt.statusA, tt.statusB, tt.delta)
		}
	}
	var buf bytes.Buffer
	if err := d.WriteText(&buf); err != nil {
		t.Fatalf("WriteText: %v", err)
	}
	text := buf.String()
	for _, want := range []string{
		"A  A1  staging     rehearsal  completed  1m03s",
		"STEP      A STATUS  A ATTEMPTS  A TIME  B STATUS  B ATTEMPTS    B TIME  DELTA",
		"backfill  done      1           1m00s   failed    1 (1 failed)  1m30s   +30.0s (+50%)",
		"old-only  done      1           1.0s    —         —             —       —",
		"TOTAL                           1m03s                           1m33s   +30.0s (+48%)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("diff text lacks %q\n--- got ---\n%s", want, text)
		}
	}
	buf.Reset()
	if err := d.WriteJSON(&buf); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	if !strings.Contains(buf.String(), `"id": "backfill",
      "status_a": "done",
      "status_b": "failed",
      "duration_a_ms": 60000,
      "duration_b_ms": 90000,
      "delta_ms": 30000`) {
		t.Errorf("diff JSON:\n%s", buf.String())
	}
}

// TestTimelineUnreadableEvent: an event whose payload does not decode is a
// note saying so; it does not end the step as done with empty fields.
func TestTimelineUnreadableEvent(t *testing.T) {
	var es tlEvents
	es.add(0, "", engine.EvPhaseStart, tlm{"phase": "run"}).
		add(1, "dump", engine.EvStepStart, tlm{"kind": "shell", "attempt": 1, "phase": "run"}).
		add(2, "dump", engine.EvStepEnd, tlm{"status": 5, "duration_ms": 1000})
	tl := timeline.Build(tlInfo(engine.OutcomeRunning), es)
	if len(tl.Steps) != 1 || tl.Steps[0].Status != engine.StepRunning {
		t.Fatalf("steps = %+v, want dump still running", tl.Steps)
	}
	if len(tl.Notes) != 1 || !strings.HasPrefix(tl.Notes[0].Text, "unreadable event step.end (seq 3): decode step.end event 3: ") ||
		tl.Notes[0].Step != "dump" {
		t.Errorf("notes = %+v, want one unreadable-event note for dump", tl.Notes)
	}
}
