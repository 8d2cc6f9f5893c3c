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
)

// tlFailStopResume is a session whose load step fails, is retried and
// fails again, the session stops (failed), is resumed and load is retried
// and succeeds; strategy is decided "big-bang".
func tlFailStopResume() (engine.SessionInfo, []engine.Event) {
	var es tlEvents
	es.add(0, "", engine.EvSessionStart, tlm{"env": "staging"}).
		add(1, "strategy", engine.EvStepStart, tlm{"kind": "decision", "attempt": 1}).
		add(2, "strategy", engine.EvDecision, tlm{"choice": "big-bang", "reason": "low traffic"}).
		add(2, "strategy", engine.EvStepEnd, tlm{"status": "done", "duration_ms": 1000}).
		add(3, "load", engine.EvStepStart, tlm{"kind": "shell", "attempt": 1}).
		add(7, "load", engine.EvStepEnd, tlm{"status": "failed", "error": "exit status 1: \x1b[31mconnection refused\x1b[0m", "duration_ms": 4000}).
		add(8, "load", engine.EvStepRetry, tlm{"reason": "db restarting"}).
		add(9, "load", engine.EvStepStart, tlm{"kind": "shell", "attempt": 2}).
		add(10, "load", engine.EvStepEnd, tlm{"status": "failed", "error": "exit status 2", "duration_ms": 1000}).
		add(11, "", engine.EvSessionEnd, tlm{"outcome": "failed", "error": "step load: exit status 2"}).
		add(600, "", engine.EvSessionResume, tlm{"operator": "carol"}, "carol").
		add(601, "load", engine.EvStepRetry, tlm{"reason": "db is back"}, "carol").
		add(602, "load", engine.EvStepStart, tlm{"kind": "shell", "attempt": 3}, "carol").
		add(608, "load", engine.EvStepEnd, tlm{"status": "done", "duration_ms": 6000}, "carol").
		add(609, "", engine.EvSessionEnd, tlm{"outcome": "completed"}, "carol")
	in := tlInfo(engine.OutcomeCompleted)
	in.Ended, in.Events = tlT0.Add(609*time.Second), int64(len(es))
	return in, es
}

// tlAttempts renders a step's attempt history as
// "N:status:started-ended:error|reason", times in seconds after tlT0
// ("-" for none).
func tlAttempts(s timeline.Step) string {
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return fmt.Sprint(t.Sub(tlT0).Seconds())
	}
	var got []string
	for _, a := range s.History {
		got = append(got, fmt.Sprintf("%d:%s:%s-%s:%s|%s", a.Attempt, a.Status, at(a.Started), at(a.Ended), a.Error, a.Reason))
	}
	return strings.Join(got, " ")
}

func TestTimelineAttemptHistory(t *testing.T) {
	tests := []struct {
		name   string
		info   engine.SessionInfo
		events func() []engine.Event
		step   string
		want   string // tlAttempts of step
		status engine.StepStatus
		err    string // the step's Error: the last attempt's
	}{
		{"failed, retried, stopped, resumed, done", tlInfo(engine.OutcomeCompleted),
			func() []engine.Event { _, es := tlFailStopResume(); return es }, "load",
			"1:failed:3-7:exit status 1: connection refused| 2:failed:9-10:exit status 2| 3:done:602-608:|",
			engine.StepDone, ""},
		{"one attempt", tlInfo(engine.OutcomeCompleted),
			func() []engine.Event { _, es := tlHappyPath(); return es }, "size",
			"1:done:1-3:|", engine.StepDone, ""},
		{"last attempt failed", tlInfo(engine.OutcomeFailed), func() []engine.Event {
			var es tlEvents
			es.add(0, "load", engine.EvStepStart, tlm{"kind": "shell", "attempt": 1}).
				add(1, "load", engine.EvStepEnd, tlm{"status": "failed", "error": "e1"}).
				add(2, "load", engine.EvStepRetry, tlm{}).
				add(3, "load", engine.EvStepStart, tlm{"kind": "shell", "attempt": 2}).
				add(4, "load", engine.EvStepEnd, tlm{"status": "failed", "error": "e2"}).
				add(5, "", engine.EvSessionEnd, tlm{"outcome": "failed", "error": "step load: e2"})
			return es
		}, "load", "1:failed:0-1:e1| 2:failed:3-4:e2|", engine.StepFailed, "e2"},
		{"crash mid-attempt, resumed, retried", tlInfo(engine.OutcomeCompleted), func() []engine.Event {
			var es tlEvents
			es.add(0, "notify", engine.EvStepStart, tlm{"kind": "shell", "attempt": 1}).
				add(600, "", engine.EvSessionResume, tlm{"operator": "carol"}, "carol").
				add(601, "notify", engine.EvInterrupted, tlm{"kind": "shell"}).
				add(602, "notify", engine.EvStepRetry, tlm{"reason": "rerun-safe"}).
				add(603, "notify", engine.EvStepStart, tlm{"kind": "shell", "attempt": 2}).
				add(605, "notify", engine.EvStepEnd, tlm{"status": "done"})
			return es
		}, "notify", "1:interrupted:0--:| 2:done:603-605:|", engine.StepDone, ""},
		{"stopped mid-attempt and marked done", tlInfo(engine.OutcomeCompleted), func() []engine.Event {
			var es tlEvents
			es.add(0, "deploy", engine.EvStepStart, tlm{"kind": "manual", "attempt": 1}).
				add(5, "deploy", engine.EvStepEnd, tlm{"status": "interrupted", "error": "quit"}).
				add(5, "", engine.EvSessionEnd, tlm{"outcome": "stopped"}).
				add(60, "", engine.EvSessionResume, tlm{}).
				add(61, "deploy", engine.EvStepMarkDone, tlm{"reason": "deployed by hand"})
			return es
		}, "deploy", "1:interrupted:0-5:quit|", engine.StepDone, "quit"},
		{"skipped inside its attempt", tlInfo(engine.OutcomeCompleted), func() []engine.Event {
			var es tlEvents
			es.add(0, "announce", engine.EvStepStart, tlm{"kind": "notify", "attempt": 1}).
				add(2, "announce", engine.EvStepSkip, tlm{"reason": "announced by hand"}).
				add(2, "announce", engine.EvStepEnd, tlm{"status": "skipped", "reason": "announced by hand"})
			return es
		}, "announce", "1:skipped:0-2:|announced by hand", engine.StepSkipped, ""},
		{"skipped by the runbook runs nothing", tlInfo(engine.OutcomeCompleted), func() []engine.Event {
			var es tlEvents
			es.add(0, "drill", engine.EvStepEnd, tlm{"status": "skipped", "reason": "dry-run"})
			return es
		}, "drill", "", engine.StepSkipped, ""},
		{"failed before it could start", tlInfo(engine.OutcomeFailed), func() []engine.Event {
			var es tlEvents
			es.add(0, "gate", engine.EvStepEnd, tlm{"status": "failed", "error": "when: x undefined"})
			return es
		}, "gate", "1:failed:--0:when: x undefined|", engine.StepFailed, "when: x undefined"},
		{"still running", tlInfo(engine.OutcomeRunning), func() []engine.Event {
			var es tlEvents
			es.add(0, "backfill", engine.EvStepStart, tlm{"kind": "migrate", "attempt": 1}).
				add(3, "backfill", engine.EvStepEnd, tlm{"status": "failed", "error": "throttled"}).
				add(4, "backfill", engine.EvStepRetry, tlm{}).
				add(5, "backfill", engine.EvStepStart, tlm{"kind": "migrate", "attempt": 2})
			return es
		}, "backfill", "1:failed:0-3:throttled| 2:running:5--:|", engine.StepRunning, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := timeline.Build(tt.info, tt.events())
			var st *timeline.Step
			for i := range tl.Steps {
				if tl.Steps[i].ID == tt.step {
					st = &tl.Steps[i]
				}
			}
			if st == nil {
				t.Fatalf("no step %s in %+v", tt.step, tl.Steps)
			}
			if got := tlAttempts(*st); got != tt.want {
				t.Errorf("attempts = %s\nwant       %s", got, tt.want)
			}
			if st.Status != tt.status || st.Error != tt.err {
				t.Errorf("status, error = %s, %q; want %s, %q", st.Status, st.Error, tt.status, tt.err)
			}
		})
	}
}

func TestTimelineIntermediateSessionEnds(t *testing.T) {
	tests := []struct {
		name   string
		events func() []engine.Event
		want   string // notes as kind/operator/text
	}{
		{"failed, resumed, completed", func() []engine.Event { _, es := tlFailStopResume(); return es },
			"session.end/alice/failed: step load: exit status 2|session.resume/carol/resumed by carol"},
		{"stopped twice", func() []engine.Event {
			var es tlEvents
			es.add(0, "", engine.EvSessionEnd, tlm{"outcome": "stopped"}).
				add(10, "", engine.EvSessionResume, tlm{"operator": "bob"}, "bob").
				add(20, "", engine.EvSessionEnd, tlm{"outcome": "stopped", "error": "lock lost: \x1b]0;pwned\x07held by dave"}, "bob").
				add(30, "", engine.EvSessionResume, tlm{"operator": "carol"}, "carol").
				add(40, "", engine.EvSessionEnd, tlm{"outcome": "completed"}, "carol")
			return es
		}, "session.end/alice/stopped|session.resume/bob/resumed by bob|" +
			"session.end/bob/stopped: lock lost: held by dave|session.resume/carol/resumed by carol"},
		{"the final end is the outcome, not a note", func() []engine.Event {
			var es tlEvents
			es.add(0, "", engine.EvSessionEnd, tlm{"outcome": "failed", "error": "boom"})
			return es
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := timeline.Build(tlInfo(engine.OutcomeCompleted), tt.events())
			var got []string
			for _, n := range tl.Notes {
				got = append(got, fmt.Sprintf("%s/%s/%s", n.Kind, n.Operator, n.Text))
			}
			if strings.Join(got, "|") != tt.want {
				t.Errorf("notes = %s\nwant    %s", strings.Join(got, "|"), tt.want)
			}
		})
	}
}

func TestTimelineMarkdownShowsFailedAttempts(t *testing.T) {
	in, es := tlFailStopResume()
	var buf bytes.Buffer
	if err := timeline.Build(in, es).WriteMarkdown(&buf); err != nil {
		t.Fatalf("WriteMarkdown: %v", err)
	}
	md := buf.String()
	for _, want := range []string{
		"| load |  | shell | done | 3 (2 failed) | 11.0s |",
		"### load (shell) — done\n\n" +
			"- Started 2026-11-23 19:00:03 UTC, ended 2026-11-23 19:10:08 UTC: 11.0s over 3 attempt(s)\n" +
			"- Attempt 1 failed at 2026-11-23 19:00:07 UTC: exit status 1: connection refused\n" +
			"- Attempt 2 failed at 2026-11-23 19:00:10 UTC: exit status 2\n" +
			"- Operator chose **retry** — db restarting (alice, 2026-11-23 19:00:08 UTC)\n",
		"- 2026-11-23 19:00:11 UTC **session.end** by alice: failed: step load: exit status 2\n" +
			"- 2026-11-23 19:10:00 UTC **session.resume** by carol: resumed by carol\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q\n--- got ---\n%s", want, md)
		}
	}
	if strings.Contains(md, "\x1b") {
		t.Errorf("markdown carries an escape sequence from the journal:\n%q", md)
	}
}

func TestTimelineJSONAttemptHistory(t *testing.T) {
	in, es := tlFailStopResume()
	var buf bytes.Buffer
	if err := timeline.Build(in, es).WriteJSON(&buf); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	var doc struct {
		Steps []map[string]json.RawMessage `json:"steps"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("decode: %v\n%s", err, buf.String())
	}
	tests := []struct {
		step  int
		field string
		want  string
	}{
		{0, "attempt_history", `[{"attempt":1,"started":"2026-11-23T19:00:01Z","ended":"2026-11-23T19:00:02Z","status":"done"}]`},
		{1, "attempts", `3`},
		{1, "status", `"done"`},
		{1, "attempt_history", `[{"attempt":1,"started":"2026-11-23T19:00:03Z","ended":"2026-11-23T19:00:07Z","status":"failed","error":"exit status 1: connection refused"},` +
			`{"attempt":2,"started":"2026-11-23T19:00:09Z","ended":"2026-11-23T19:00:10Z","status":"failed","error":"exit status 2"},` +
			`{"attempt":3,"started":"2026-11-23T19:10:02Z","ended":"2026-11-23T19:10:08Z","status":"done"}]`},
	}
	for _, tt := range tests {
		var compact bytes.Buffer
		if err := json.Compact(&compact, doc.Steps[tt.step][tt.field]); err != nil {
			t.Errorf("steps[%d].%s: %v", tt.step, tt.field, err)
			continue
		}
		if compact.String() != tt.want {
			t.Errorf("steps[%d].%s = %s\nwant %s", tt.step, tt.field, compact.String(), tt.want)
		}
	}
	if _, ok := doc.Steps[1]["error"]; ok {
		t.Errorf("steps[1] has an error though its last attempt is done: %s", doc.Steps[1]["error"])
	}
	// A step that never started has an empty history, not null.
	var es2 tlEvents
	es2.add(0, "drill", engine.EvStepEnd, tlm{"status": "skipped", "reason": "dry-run"})
	buf.Reset()
	if err := timeline.Build(tlInfo(engine.OutcomeCompleted), es2).WriteJSON(&buf); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	if !strings.Contains(buf.String(), `"attempt_history": []`) {
		t.Errorf("a skipped step's attempt_history is not []:\n%s", buf.String())
	}
}

func TestCompareAttemptsAndDecisions(t *testing.T) {
	ain, aes := tlHappyPath()
	bin, bes := tlFailStopResume()
	ain.ID, bin.ID = "A1", "B1"
	// B also approves go-no-go, as carol; A approved it as bob.
	var extra tlEvents
	extra.add(620, "go-no-go", engine.EvStepStart, tlm{"kind": "approval", "attempt": 1}).
		add(621, "go-no-go", engine.EvApproval, tlm{"approver": "carol", "role": "accountable"}, "carol").
		add(621, "go-no-go", engine.EvStepEnd, tlm{"status": "done", "duration_ms": 1000})
	bes = append(bes[:len(bes)-1:len(bes)-1], extra...)
	d := timeline.Compare(timeline.Build(ain, aes), timeline.Build(bin, bes))
	byID := map[string]timeline.StepDiff{}
	for _, s := range d.Steps {
		byID[s.ID] = s
	}
	tests := []struct {
		id                 string
		attemptsA, failedA int
		attemptsB, failedB int
		differ             bool
	}{
		{"strategy", 1, 0, 1, 0, false},
		{"go-no-go", 1, 0, 1, 0, true},
		{"load", 0, 0, 3, 2, false},
		{"size", 1, 0, 0, 0, false},
	}
	for _, tt := range tests {
		s := byID[tt.id]
		if s.AttemptsA != tt.attemptsA || s.FailedA != tt.failedA || s.AttemptsB != tt.attemptsB || s.FailedB != tt.failedB ||
			s.DecisionsDiffer() != tt.differ {
			t.Errorf("%s: attempts %d/%d failed %d/%d differ %v; want %d/%d failed %d/%d differ %v", tt.id,
				s.AttemptsA, s.AttemptsB, s.FailedA, s.FailedB, s.DecisionsDiffer(),
				tt.attemptsA, tt.attemptsB, tt.failedA, tt.failedB, tt.differ)
		}
	}
	var buf bytes.Buffer
	if err := d.WriteText(&buf); err != nil {
		t.Fatalf("WriteText: %v", err)
	}
	text := buf.String()
	for _, want := range []string{
		"load      —         —           —       done      3 (2 failed)",
		"Decisions and approvals that differ:\nSTEP      A                               B\n" +
			"go-no-go  approved by bob as accountable  approved by carol as accountable\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("diff text lacks %q\n--- got ---\n%s", want, text)
		}
	}
	if strings.Contains(text, "strategy  decided") {
		t.Errorf("diff text lists strategy, decided alike on both sides:\n%s", text)
	}
}

// TestTimelineEngineNotes: a note the engine writes itself (the leases it
// released) is not attributed to the operator.
func TestTimelineEngineNotes(t *testing.T) {
	at := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)
	evs := []engine.Event{
		{Seq: 1, Kind: engine.EvNote, Operator: "alice", Time: at, Data: []byte(`{"text":"db restarted by hand"}`)},
		{Seq: 2, Kind: engine.EvNote, Operator: "alice", Time: at, Data: []byte(`{"text":"released 1 migration lease(s)","by":"lockstep"}`)},
	}
	tl := timeline.Build(engine.SessionInfo{ID: "s"}, evs)
	if len(tl.Notes) != 2 || tl.Notes[0].Operator != "alice" || tl.Notes[1].Operator != engine.NoteByLockstep {
		t.Errorf("notes = %+v, want alice's then lockstep's", tl.Notes)
	}
}
