package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestConfigSteps: a session runs the step kinds of Config.Steps, each
// kind's executor and traits from one table entry; a nil table is a
// configuration error.
func TestConfigSteps(t *testing.T) {
	t.Parallel()
	src := rig.Header + `
phases:
  - name: p
    steps:
      - {id: sh, kind: shell, with: {run: "exit 3"}}
`
	replaced := func(k engine.StepKind) engine.StepKinds {
		kinds := steps.Default()
		kinds[runbook.KindShell] = k
		return kinds
	}
	custom := engine.ExecutorFunc(func(context.Context, *engine.StepContext) (any, error) { return "custom", nil })
	tests := []struct {
		name       string
		mode       engine.Mode
		steps      engine.StepKinds
		want       engine.Outcome
		wantStatus string
		wantEnd    string // in the step.end event
	}{
		{"the default table", engine.ModeLive, steps.Default(), engine.OutcomeAborted, "failed", "exit"},
		{"the table's executor runs", engine.ModeLive, replaced(engine.StepKind{Executor: custom}),
			engine.OutcomeCompleted, "done", "custom"},
		{"a kind missing from the table", engine.ModeLive, engine.StepKinds{},
			engine.OutcomeAborted, "failed", "no executor for step kind"},
		{"the table's traits apply", engine.ModeDryRun, replaced(engine.StepKind{Executor: custom, DryRunSkipped: true}),
			engine.OutcomeCompleted, "skipped", "dry-run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := rig.Answers(map[string][]rig.Reply{"sh:failed": {{Ans: engine.Answer{Action: engine.ActionAbort}}}})
			h := rig.NewHarness(t, src, p)
			h.Cfg.Mode, h.Cfg.Steps = tt.mode, tt.steps
			got, _ := h.Run()
			end := h.EndOf("sh")
			if got != tt.want || end["status"] != tt.wantStatus || !strings.Contains(fmt.Sprint(end), tt.wantEnd) {
				t.Errorf("Run()=%q, step.end %v; want %q, status %q, containing %q\n%s", got, end, tt.want, tt.wantStatus, tt.wantEnd, h.Dump())
			}
		})
	}
}

// TestConfigStepsRequired: engine cannot import engine/steps, so a Config
// without a step table is refused by Start and Resume instead of running
// nothing.
func TestConfigStepsRequired(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - {id: m, kind: manual, text: "do it"}
`, rig.Answers(nil))
	h.Cfg.Steps = nil
	if _, err := engine.Start(context.Background(), h.Cfg); !errors.Is(err, engine.ErrConfig) || !strings.Contains(err.Error(), "Config.Steps") {
		t.Errorf("Start() error = %v, want ErrConfig naming Config.Steps", err)
	}
	if _, err := engine.Resume(context.Background(), h.Cfg, "any"); !errors.Is(err, engine.ErrConfig) || !strings.Contains(err.Error(), "Config.Steps") {
		t.Errorf("Resume() error = %v, want ErrConfig naming Config.Steps", err)
	}
}
