package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// crashRunbook: a is done, b was running when the process died, c never started.
func crashRunbook(dir, bExtra string) string {
	return rig.Header + `
phases:
  - name: p
    steps:
      - {id: a, kind: shell, with: {run: "echo a >> log", cwd: "` + dir + `"}}
      - {id: b, kind: shell, with: {run: "echo b >> log", cwd: "` + dir + `"}` + bExtra + `}
      - {id: c, kind: shell, with: {run: "echo c >> log", cwd: "` + dir + `"}}
`
}

// crash starts a session and appends, by hand, what a process killed with
// -9 during step b leaves behind: a's start and end, b's start only.
func crash(h *rig.Harness) string {
	h.T.Helper()
	ctx := context.Background()
	s, err := engine.Start(ctx, h.Cfg)
	if err != nil {
		h.T.Fatalf("Start: %v", err)
	}
	h.S = s
	for _, ev := range []engine.Event{
		eventtest.Raw(engine.EvStepStart, "a", map[string]any{"kind": "shell", "attempt": 1, "phase": "p"}),
		eventtest.Raw(engine.EvStepEnd, "a", map[string]any{"status": "done", "duration_ms": 3, "result": map[string]any{"exit_code": 0}}),
		eventtest.Raw(engine.EvStepStart, "b", map[string]any{"kind": "shell", "attempt": 1, "phase": "p"}),
	} {
		ev.SessionID, ev.Operator = s.ID(), "alice"
		if _, err := h.J.Append(ctx, ev); err != nil {
			h.T.Fatalf("Append: %v", err)
		}
	}
	return s.ID()
}

func resume(h *rig.Harness, id string) (engine.Outcome, error) {
	h.T.Helper()
	cfg := h.Cfg
	cfg.Runbook, cfg.Operator = nil, "bob" // re-parsed from the session row
	s, err := engine.Resume(context.Background(), cfg, id)
	if err != nil {
		h.T.Fatalf("Resume: %v", err)
	}
	h.S = s
	if st := s.State(); st.StepState("b").Status != engine.StepInterrupted || st.StepState("a").Status != engine.StepDone {
		h.T.Fatalf("replayed state: a=%s b=%s, want done/interrupted", st.StepState("a").Status, st.StepState("b").Status)
	}
	return s.Run(context.Background())
}

func TestResumeAfterCrash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		extra   string
		replies []rig.Reply
		want    engine.Outcome
		log     string
		bStatus engine.StepStatus
		prompt  bool
		event   engine.EventKind
	}{
		{"idempotent re-runs", ", idempotent: true", nil, engine.OutcomeCompleted, "b c", engine.StepDone, false, engine.EvStepRetry},
		{"retry", "", []rig.Reply{{Ans: engine.Answer{Action: engine.ActionRetry}}}, engine.OutcomeCompleted, "b c", engine.StepDone, true, engine.EvStepRetry},
		{"mark done", "", []rig.Reply{{Ans: engine.Answer{Action: engine.ActionDone, Reason: "saw it finish"}}}, engine.OutcomeCompleted, "c", engine.StepDone, true, engine.EvStepMarkDone},
		{"skip", "", []rig.Reply{{Ans: engine.Answer{Action: engine.ActionSkip, Reason: "not needed"}}}, engine.OutcomeCompleted, "c", engine.StepSkipped, true, engine.EvStepSkip},
		{"reason required", "", []rig.Reply{{Ans: engine.Answer{Action: engine.ActionDone}}}, engine.OutcomeStopped, "", engine.StepInterrupted, true, ""},
		{"no answer", "", nil, engine.OutcomeStopped, "", engine.StepInterrupted, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := rig.Answers(map[string][]rig.Reply{})
			if tt.replies != nil {
				p.Replies["b:interrupted"] = tt.replies
			}
			h := rig.NewHarness(t, crashRunbook(dir, tt.extra), p)
			id := crash(h)
			out, err := resume(h, id)
			if out != tt.want {
				t.Fatalf("Run() = %s, %v; want %s\n%s", out, err, tt.want, h.Dump())
			}
			switch tt.name {
			case "reason required":
				if !errors.Is(err, engine.ErrInvalidAnswer) {
					t.Errorf("err = %v, want ErrInvalidAnswer", err)
				}
			case "no answer":
				var miss *engine.MissingAnswerError
				if !errors.As(err, &miss) || miss.Key != "b.retry|done|skip" {
					t.Errorf("err = %v, want missing answer b.retry|done|skip", err)
				}
			}
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			if got := strings.Join(strings.Fields(string(b)), " "); got != tt.log {
				t.Errorf("log = %q, want %q (a must never run again)", got, tt.log)
			}
			if got := h.Status("b"); got != tt.bStatus {
				t.Errorf("b = %s, want %s", got, tt.bStatus)
			}
			if asked := len(p.Asked) > 0; asked != tt.prompt {
				t.Errorf("PromptInterrupted asked = %v, want %v", asked, tt.prompt)
			}
			if len(h.Find(engine.EvInterrupted, "b")) != 1 || len(h.Find(engine.EvStepStart, "a")) != 1 {
				t.Errorf("want one step.interrupted for b and a started once\n%s", h.Dump())
			}
			if tt.event != "" && len(h.Find(tt.event, "b")) != 1 {
				t.Errorf("no %s event for b", tt.event)
			}
			resumes := h.Find(engine.EvSessionResume, "")
			if len(resumes) != 1 || resumes[0].Operator != "bob" {
				t.Errorf("session.resume = %v, want one by bob", resumes)
			}
		})
	}
}

func TestResumeAfterQuit(t *testing.T) {
	t.Parallel()
	p := rig.Answers(map[string][]rig.Reply{"ask:decision": {{Err: engine.ErrQuit}, {Ans: engine.Answer{Choice: "b", Reason: "second look"}}}})
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - {id: first, kind: shell, with: {run: "echo first"}}
      - {id: ask, kind: decision, with: {choices: [a, b]}}
`, p)
	h.MustRun(engine.OutcomeStopped)
	s, err := engine.Resume(context.Background(), h.Cfg, h.S.ID())
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	h.S = s
	if out, err := s.Run(context.Background()); out != engine.OutcomeCompleted || err != nil {
		t.Fatalf("Run() = %s, %v\n%s", out, err, h.Dump())
	}
	if n := len(h.Find(engine.EvStepStart, "first")); n != 1 {
		t.Errorf("first started %d times, want 1", n)
	}
	if _, err := engine.Resume(context.Background(), h.Cfg, h.S.ID()); !errors.Is(err, engine.ErrSessionEnded) {
		t.Errorf("Resume(completed) error = %v, want ErrSessionEnded", err)
	}
}

func TestResumeRefusesChangedRunbook(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := rig.NewHarness(t, crashRunbook(dir, ""), nil)
	id := crash(h)
	cfg := h.Cfg
	cfg.Runbook = rig.ParseRunbook(t, crashRunbook(dir, ", idempotent: true"))
	_, err := engine.Resume(context.Background(), cfg, id)
	if !errors.Is(err, engine.ErrRunbookChanged) {
		t.Fatalf("Resume() error = %v, want ErrRunbookChanged", err)
	}
	cfg.Runbook = h.Cfg.Runbook
	if _, err := engine.Resume(context.Background(), cfg, id); err != nil {
		t.Fatalf("Resume(same runbook) error = %v", err)
	}
}

// TestResumeReplaysChecklistTicks: the items of a checklist ticked before a
// quit are in the resumed session's state (front ends show them ticked)
// and are not journaled again when the operator confirms the rest.
func TestResumeReplaysChecklistTicks(t *testing.T) {
	t.Parallel()
	p := rig.Answers(map[string][]rig.Reply{"deploy:checklist": {
		{Ans: engine.Answer{Checked: []int{1}}, Err: engine.ErrQuit},
		{Ans: engine.Answer{Checked: []int{1, 0, 2}}},
	}})
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - {id: deploy, kind: manual, checklist: [one, two, three]}
`, p)
	h.MustRun(engine.OutcomeStopped)
	live := h.S.State()
	if got, want := fmt.Sprint(live.StepState("deploy").Checked), "[1]"; got != want {
		t.Errorf("live Checked = %s, want %s", got, want)
	}
	s, err := engine.Resume(context.Background(), h.Cfg, h.S.ID())
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	h.S = s
	resumed := s.State()
	if got, want := fmt.Sprint(resumed.StepState("deploy").Checked), "[1]"; got != want {
		t.Fatalf("resumed Checked = %s, want %s", got, want)
	}
	if out, err := s.Run(context.Background()); out != engine.OutcomeCompleted || err != nil {
		t.Fatalf("Run() = %s, %v\n%s", out, err, h.Dump())
	}
	var ticks []int
	for _, ev := range h.Find(engine.EvCheck, "deploy") {
		var d struct{ Index int }
		_ = ev.Decode(&d)
		ticks = append(ticks, d.Index)
	}
	if got, want := fmt.Sprint(ticks), "[1 0 2]"; got != want {
		t.Errorf("check.tick indexes = %s, want %s (each once)", got, want)
	}
	replayed, final := engine.Replay(s.Runbook(), s.Info(), h.Events()), s.State()
	if got, want := fmt.Sprint(replayed.StepState("deploy").Checked), fmt.Sprint(final.StepState("deploy").Checked); got != want {
		t.Errorf("Replay Checked = %s, live %s", got, want)
	}
}
