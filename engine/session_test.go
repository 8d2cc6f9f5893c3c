package engine_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

func TestRunCompletesInOrder(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: one
    steps:
      - {id: a, kind: shell, with: {run: "echo first"}}
      - {id: b, kind: shell, with: {argv: [echo, second]}}
  - name: two
    steps:
      - {id: c, kind: shell, with: {run: "echo third"}}
`, nil)
	h.MustRun(engine.OutcomeCompleted)
	var order []string
	for _, ev := range h.Find(engine.EvStepStart, "*") {
		order = append(order, ev.Step)
	}
	if got, want := strings.Join(order, ","), "a,b,c"; got != want {
		t.Errorf("step order = %s, want %s", got, want)
	}
	for _, ev := range h.Events() {
		if ev.Operator != "alice" {
			t.Errorf("event %s operator = %q, want alice", ev.Kind, ev.Operator)
		}
	}
	start := h.Find(engine.EvStepStart, "b")[0]
	var d struct {
		Kind    string
		Attempt int
		Phase   string
	}
	_ = start.Decode(&d)
	if d.Kind != "shell" || d.Attempt != 1 || d.Phase != "one" {
		t.Errorf("step.start data = %+v, want shell/1/one", d)
	}
	info, err := h.J.Session(context.Background(), h.S.ID())
	if err != nil || info.Outcome != engine.OutcomeCompleted || len(info.RunbookSource) == 0 {
		t.Errorf("session row = %+v, %v; want completed with the runbook source", info.Outcome, err)
	}
	applied, err := h.J.AppliedMigrations(context.Background(), "test", "t")
	if err != nil || len(applied) != 1 || applied[0].Status != "completed" {
		t.Errorf("AppliedMigrations = %+v, %v; want one completed", applied, err)
	}
	evs := h.Events()
	if first, last := evs[0].Kind, evs[len(evs)-1].Kind; first != engine.EvSessionStart || last != engine.EvSessionEnd {
		t.Errorf("first/last events = %s/%s, want session.start/session.end", first, last)
	}
}

func TestStartValidation(t *testing.T) {
	t.Parallel()
	src := rig.Header + `
phases:
  - name: p
    steps: [{id: a, kind: shell, with: {run: "true"}}]
`
	tests := []struct {
		name string
		edit func(*engine.Config)
		want error
	}{
		{"unknown env", func(c *engine.Config) { c.Env = "nope" }, engine.ErrConfig},
		{"bad mode", func(c *engine.Config) { c.Mode = "yolo" }, engine.ErrConfig},
		{"no operator", func(c *engine.Config) { c.Operator = "" }, engine.ErrConfig},
		{"no journal", func(c *engine.Config) { c.Journal = nil }, engine.ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := rig.NewHarness(t, src, nil)
			tt.edit(&h.Cfg)
			_, err := engine.Start(context.Background(), h.Cfg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Start() error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestWhenFalseSkips(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
vars: {flavour: vanilla}
phases:
  - name: p
    steps:
      - {id: pick, kind: shell, with: {run: "echo hi"}}
      - {id: choc, kind: shell, with: {run: "echo choc"}, when: 'vars.flavour == "chocolate"'}
      - {id: van, kind: shell, with: {run: "echo van"}, when: 'vars.flavour == "vanilla" && steps.pick.exit_code == 0 && env.name == "test"'}
`, nil)
	h.MustRun(engine.OutcomeCompleted)
	end := h.EndOf("choc")
	if end["status"] != "skipped" || end["reason"] != `when: vars.flavour == "chocolate" is false` {
		t.Errorf("choc step.end = %v, want skipped with the when reason", end)
	}
	if len(h.Find(engine.EvStepStart, "choc")) != 0 {
		t.Errorf("choc started, want never started")
	}
	if got := h.Status("van"); got != engine.StepDone {
		t.Errorf("van status = %s, want done", got)
	}
}

func TestFailedStepRetrySkipAbort(t *testing.T) {
	t.Parallel()
	// The step fails on its first run and succeeds once a marker exists.
	tests := []struct {
		name    string
		reply   []rig.Reply
		outcome engine.Outcome
		status  engine.StepStatus
		nextRan bool
	}{
		{"retry", []rig.Reply{{Ans: engine.Answer{Action: engine.ActionRetry}}}, engine.OutcomeCompleted, engine.StepDone, true},
		{"skip needs reason", []rig.Reply{{Ans: engine.Answer{Action: engine.ActionSkip}}, {Ans: engine.Answer{Action: engine.ActionSkip, Reason: "known flake"}}},
			engine.OutcomeCompleted, engine.StepSkipped, true},
		{"abort", []rig.Reply{{Ans: engine.Answer{Action: engine.ActionAbort}}}, engine.OutcomeAborted, engine.StepFailed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - {id: flaky, kind: shell, with: {run: "test -e marker || { touch marker; echo boom >&2; exit 3; }", cwd: "`+dir+`"}}
      - {id: next, kind: shell, with: {run: "echo next"}}
`, rig.Answers(map[string][]rig.Reply{"flaky:failed": tt.reply}))
			h.MustRun(tt.outcome)
			if got := h.Status("flaky"); got != tt.status {
				t.Errorf("flaky status = %s, want %s", got, tt.status)
			}
			if ran := len(h.Find(engine.EvStepStart, "next")) > 0; ran != tt.nextRan {
				t.Errorf("next ran = %v, want %v", ran, tt.nextRan)
			}
			first := h.Find(engine.EvStepEnd, "flaky")[0]
			var d struct {
				Status string
				Error  string
				Result struct {
					ExitCode int `json:"exit_code"`
				}
			}
			_ = first.Decode(&d)
			if d.Status != "failed" || d.Result.ExitCode != 3 || !strings.Contains(d.Error, "exit code 3") {
				t.Errorf("first step.end = %+v, want failed with exit code 3", d)
			}
			if !strings.Contains(h.Output("flaky"), "boom") {
				t.Errorf("stderr not journaled: %q", h.Output("flaky"))
			}
		})
	}
}

func TestFailedStepMissingAnswer(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps: [{id: bad, kind: shell, with: {run: "exit 1"}}]
`, nil)
	got, err := h.Run()
	var miss *engine.MissingAnswerError
	if got != engine.OutcomeStopped || !errors.As(err, &miss) {
		t.Fatalf("Run() = %q, %v; want stopped with a *MissingAnswerError", got, err)
	}
	if miss.Key != "bad.retry|skip|abort" {
		t.Errorf("missing key = %q", miss.Key)
	}
}

func TestPhaseRequires(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: verify
    steps: [{id: check, kind: shell, with: {run: "exit 1"}}]
  - name: cleanup
    requires: [verify]
    steps: [{id: drop, kind: shell, with: {run: "echo dropped"}}]
`, rig.Answers(map[string][]rig.Reply{"check:failed": {{Ans: engine.Answer{Action: engine.ActionSkip, Reason: "no time"}}}}))
	h.MustRun(engine.OutcomeCompleted)
	end := h.EndOf("drop")
	if end["status"] != "skipped" || end["reason"] != "requires: phase verify not completed" {
		t.Errorf("drop step.end = %v, want skipped: operator-skipped verify does not complete its phase", end)
	}
}

// TestRequiresNotMetIsNotCompleted: a phase skipped because its own
// requirement was not met does not complete it, so a skip upstream cannot
// unlock cleanup through a verify phase that never ran.
func TestRequiresNotMetIsNotCompleted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, phases string
	}{
		{"phase requires", `
  - name: run
    steps: [{id: backfill, kind: shell, with: {run: "exit 1"}}]
  - name: verify
    requires: [run]
    steps: [{id: check, kind: shell, with: {run: "true"}}]
  - name: cleanup
    requires: [verify]
    steps: [{id: drop, kind: shell, with: {run: "echo dropped"}}]
`},
		{"step requires", `
  - name: run
    steps: [{id: backfill, kind: shell, with: {run: "exit 1"}}]
  - name: verify
    steps: [{id: check, kind: shell, with: {run: "true"}, requires: [backfill]}]
  - name: cleanup
    requires: [verify]
    steps: [{id: drop, kind: shell, with: {run: "echo dropped"}}]
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := rig.NewHarness(t, rig.Header+"\nphases:"+tt.phases,
				rig.Answers(map[string][]rig.Reply{"backfill:failed": {{Ans: engine.Answer{Action: engine.ActionSkip, Reason: "deploy is late"}}}}))
			h.MustRun(engine.OutcomeCompleted)
			if got := h.EndOf("check"); got["status"] != "skipped" || got["unmet"] != true {
				t.Errorf("check step.end = %v, want skipped with unmet", got)
			}
			if len(h.Find(engine.EvStepStart, "drop")) != 0 {
				t.Fatalf("drop ran although verify never ran")
			}
			if end := h.EndOf("drop"); end["reason"] != "requires: phase verify not completed" {
				t.Errorf("drop step.end = %v", end)
			}
		})
	}
}

func TestDestructiveConfirm(t *testing.T) {
	t.Parallel()
	src := rig.Header + `
phases:
  - name: p
    steps: [{id: drop, kind: shell, with: {run: "echo dropping"}, destructive: true}]
`
	tests := []struct {
		name    string
		confirm bool
		want    engine.Outcome
		ran     bool
	}{
		{"confirmed", true, engine.OutcomeCompleted, true},
		{"refused stops resumably", false, engine.OutcomeStopped, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := rig.NewHarness(t, src, rig.Answers(map[string][]rig.Reply{"drop:destructive": {{Ans: engine.Answer{Confirm: tt.confirm}}}}))
			h.MustRun(tt.want)
			if ran := len(h.Find(engine.EvStepStart, "drop")) > 0; ran != tt.ran {
				t.Errorf("drop ran = %v, want %v", ran, tt.ran)
			}
			if len(h.Find(engine.EvConfirm, "drop")) != 1 {
				t.Errorf("confirm not journaled")
			}
		})
	}
}

func TestQuitStopsResumably(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - {id: ask, kind: decision, with: {choices: [a, b]}}
      - {id: after, kind: shell, with: {run: "true"}}
`, rig.Answers(map[string][]rig.Reply{"ask:decision": {{Err: engine.ErrQuit}}}))
	h.MustRun(engine.OutcomeStopped)
	if got := h.EndOf("ask")["status"]; got != "interrupted" {
		t.Errorf("ask step.end status = %v, want interrupted", got)
	}
	if slices.Contains(h.P.Kinds(), "after:") || len(h.Find(engine.EvStepStart, "after")) != 0 {
		t.Errorf("after ran after quit")
	}
}

func TestRetryIsBounded(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps: [{id: bad, kind: shell, with: {run: "exit 1"}}]
`, rig.Answers(map[string][]rig.Reply{"bad:failed": {{Ans: engine.Answer{Action: engine.ActionRetry}}}}))
	got, err := h.Run()
	if got != engine.OutcomeStopped || !errors.Is(err, engine.ErrInvalidAnswer) {
		t.Fatalf("Run() = %s, %v; want stopped (resumable) with ErrInvalidAnswer once retries run out", got, err)
	}
	if n := len(h.Find(engine.EvStepStart, "bad")); n != engine.MaxAttempts {
		t.Errorf("bad ran %d times, want %d", n, engine.MaxAttempts)
	}
}

func TestJournalFailureEndsSession(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - {id: a, kind: shell, with: {run: "echo a"}}
      - {id: b, kind: shell, with: {run: "echo b"}}
`, nil)
	h.Cfg.Observer = func(ev engine.Event) {
		if ev.Kind == engine.EvStepStart && ev.Step == "a" {
			h.J.Close() // the disk went away
		}
	}
	got, err := h.Run()
	if got != engine.OutcomeFailed || err == nil || !strings.Contains(err.Error(), "append") {
		t.Fatalf("Run() = %s, %v; want failed with the journal error", got, err)
	}
	if len(h.P.Asked) != 0 {
		t.Errorf("asked %v after a journal failure, want no prompt", h.P.Kinds())
	}
}
