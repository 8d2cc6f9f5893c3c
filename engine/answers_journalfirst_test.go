package engine_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestAnswerNotJournaledIsNotActedOn: an operator's answer that lets a
// step act (retry a failed step, roll back, run a destructive step, run
// a step in step-by-step mode) is acted on only once journaled. With the
// journal refusing that answer's event, the step (or rollback step) does
// not run again and the session fails on the journal error.
func TestAnswerNotJournaledIsNotActedOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		refuse   engine.EventKind
		step     string // the steps, %RUNS% the file each run appends to
		replies  map[string][]rig.Reply
		stepMode bool
		runs     int // lines in RUNS
	}{
		{
			name: "retry", refuse: engine.EvStepRetry,
			step:    `{id: a, kind: shell, with: {run: "echo a >> '%RUNS%'; exit 1"}}`,
			replies: map[string][]rig.Reply{"a:failed": {{Ans: engine.Answer{Action: engine.ActionRetry}}}},
			runs:    1,
		},
		{
			// Aborted, the session would release its leases and clear
			// their maintenance flags; failed, it keeps the flags on.
			name: "abort", refuse: engine.EvAbort,
			step:    `{id: a, kind: shell, with: {run: "echo a >> '%RUNS%'; exit 1"}}`,
			replies: map[string][]rig.Reply{"a:failed": {{Ans: engine.Answer{Action: engine.ActionAbort, Reason: "wrong table"}}}},
			runs:    1,
		},
		{
			name: "rollback request", refuse: engine.EvRollbackRequest,
			step: `{id: a, kind: shell, with: {run: "true"}, rollback: {kind: shell, with: {run: "echo undo >> '%RUNS%'"}}}
      - {id: b, kind: shell, with: {run: "exit 1"}}`,
			replies: map[string][]rig.Reply{"b:failed": {{Ans: engine.Answer{Action: engine.ActionRollback, Reason: "plan B"}}}},
		},
		{
			name: "rollback start", refuse: engine.EvRollbackStart,
			step: `{id: a, kind: shell, with: {run: "true"}, rollback: {kind: shell, with: {run: "echo undo >> '%RUNS%'"}}}
      - {id: b, kind: shell, with: {run: "exit 1"}}`,
			replies: map[string][]rig.Reply{"b:failed": {{Ans: engine.Answer{Action: engine.ActionRollback, Reason: "plan B"}}}},
		},
		{
			name: "destructive confirm", refuse: engine.EvConfirm,
			step:    `{id: a, kind: shell, destructive: true, with: {run: "echo a >> '%RUNS%'"}}`,
			replies: map[string][]rig.Reply{"a:destructive": {{Ans: engine.Answer{Confirm: true}}}},
		},
		{
			name: "step-by-step run", refuse: engine.EvConfirm, stepMode: true,
			step:    `{id: a, kind: shell, with: {run: "echo a >> '%RUNS%'"}}`,
			replies: map[string][]rig.Reply{"a:step": {{Ans: engine.Answer{Confirm: true}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runs := filepath.Join(t.TempDir(), "runs")
			h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - `+strings.ReplaceAll(tt.step, "%RUNS%", runs)+`
`, rig.Answers(tt.replies))
			h.Cfg.StepByStep = tt.stepMode
			j := refuse(h, tt.refuse)
			out, err := h.Run()
			if out != engine.OutcomeFailed || !errors.Is(err, errRefused) {
				t.Errorf("Run() = %s, %v; want failed on the journal error\n%s", out, err, h.Dump())
			}
			if j.refused.Load() == 0 {
				t.Fatalf("no %s was appended\n%s", tt.refuse, h.Dump())
			}
			b, err := os.ReadFile(runs)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if got := strings.Count(string(b), "\n"); got != tt.runs {
				t.Errorf("%d run(s) recorded, want %d: the %s the journal refused was acted on", got, tt.runs, tt.name)
			}
		})
	}
}
