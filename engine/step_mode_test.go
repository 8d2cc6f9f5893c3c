package engine_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

const stepModeRunbook = rig.Header + `
phases:
  - name: one
    steps:
      - {id: read, kind: manual, text: "Read the plan."}
      - {id: a, kind: shell, with: {run: "echo ran-a"}}
      - {id: b, kind: shell, with: {run: "echo ran-b"}}
      - {id: c, kind: notify, with: {channel: stdout, template: "hello"}}
`

// TestStepByStepAsksBeforeAutomatedSteps: with Config.StepByStep each
// automated step is asked about before it starts (a manual step is not: it
// asks anyway); run is journaled as confirmed "step", skip as the
// operator's skip with its reason, and a skipped step never starts.
func TestStepByStepAsksBeforeAutomatedSteps(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		stepByStep bool
		wantAsked  []string
		wantRan    string
	}{
		{"step by step", true, []string{"a:step", "b:step", "c:step"}, "a,c"},
		{"default", false, nil, "a,b,c"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := rig.NewHarness(t, stepModeRunbook, rig.Answers(map[string][]rig.Reply{
				"read:manual": {{Ans: engine.Answer{Confirm: true}}},
				"a:step":      {{Ans: engine.Answer{Confirm: true}}},
				"b:step":      {{Ans: engine.Answer{Action: engine.ActionSkip, Reason: "done by hand last night"}}},
				"c:step":      {{Ans: engine.Answer{Confirm: true}}},
			}))
			h.Cfg.StepByStep = tt.stepByStep
			h.MustRun(engine.OutcomeCompleted)
			var asked []string
			for _, k := range h.P.Kinds() {
				if strings.HasSuffix(k, ":step") {
					asked = append(asked, k)
				}
			}
			if !slices.Equal(asked, tt.wantAsked) {
				t.Errorf("step prompts = %v, want %v", asked, tt.wantAsked)
			}
			var ran []string
			for _, ev := range h.Find(engine.EvStepStart, "*") {
				if ev.Step != "read" {
					ran = append(ran, ev.Step)
				}
			}
			if got := strings.Join(ran, ","); got != tt.wantRan {
				t.Errorf("started = %s, want %s\n%s", got, tt.wantRan, h.Dump())
			}
			if !tt.stepByStep {
				return
			}
			if got := h.Status("b"); got != engine.StepSkipped {
				t.Errorf("status(b) = %s, want skipped", got)
			}
			skips := h.Find(engine.EvStepSkip, "b")
			if len(skips) != 1 || !strings.Contains(string(skips[0].Data), "done by hand last night") || skips[0].Operator != "alice" {
				t.Errorf("skip events of b = %v, want one by alice with the reason", skips)
			}
			for _, id := range []string{"a", "c"} {
				var got []string
				for _, ev := range h.Find(engine.EvConfirm, id) {
					got = append(got, string(ev.Data))
				}
				if len(got) != 1 || !strings.Contains(got[0], `"what":"step"`) || !strings.Contains(got[0], `"value":true`) {
					t.Errorf("confirmed events of %s = %v, want one run answer", id, got)
				}
			}
		})
	}
}

// TestStepByStepUnansweredStops: a step prompt with no answer ends the
// session resumably before the step starts, naming the key.
func TestStepByStepUnansweredStops(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, stepModeRunbook, rig.Answers(map[string][]rig.Reply{
		"read:manual": {{Ans: engine.Answer{Confirm: true}}},
	}))
	h.Cfg.StepByStep = true
	got, err := h.Run()
	if err == nil || !strings.Contains(err.Error(), "a.run") {
		t.Fatalf("Run() = %q, %v; want an error naming a.run", got, err)
	}
	if n := len(h.Find(engine.EvStepStart, "a")); n != 0 {
		t.Errorf("a started %d times, want never", n)
	}
}
