package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

func TestRollback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		answer  engine.Answer // to c's failed prompt
		control bool          // send CmdRollback instead, when c starts
	}{
		{"operator picks rollback", engine.Answer{Action: engine.ActionRollback, Reason: "c broke"}, false},
		{"rollback command", engine.Answer{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			run := "exit 1"
			if tt.control {
				run = "sleep 30"
			}
			h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - {id: a, kind: shell, with: {run: "echo a >> log", cwd: "`+dir+`"}, rollback: {kind: shell, with: {run: "echo undo-a >> log", cwd: "`+dir+`"}}}
      - {id: n, kind: shell, with: {run: "echo n >> log", cwd: "`+dir+`"}}
      - {id: b, kind: shell, with: {run: "echo b >> log", cwd: "`+dir+`"}, rollback: {kind: shell, with: {run: "echo undo-b >> log", cwd: "`+dir+`"}}}
      - {id: c, kind: shell, with: {run: "`+run+`"}, rollback: {kind: shell, with: {run: "echo undo-c >> log", cwd: "`+dir+`"}}}
      - {id: d, kind: shell, with: {run: "echo d >> log", cwd: "`+dir+`"}}
`, rig.Answers(map[string][]rig.Reply{"c:failed": {{Ans: tt.answer}}}))
			if tt.control {
				if out := <-startAsync(h, "c", engine.Command{Kind: engine.CmdRollback, Text: "stop"}); out != engine.OutcomeRolledBack {
					t.Fatalf("outcome = %s, want rolled-back\n%s", out, h.Dump())
				}
			} else {
				h.MustRun(engine.OutcomeRolledBack)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			if got, want := strings.Fields(string(b)), "a n b undo-b undo-a"; strings.Join(got, " ") != want {
				t.Errorf("log = %q, want %q", got, want)
			}
			for id, want := range map[string]engine.StepStatus{"a": engine.StepRolledBack, "b": engine.StepRolledBack, "n": engine.StepDone, "d": engine.StepPending} {
				if got := h.Status(id); got != want {
					t.Errorf("%s status = %s, want %s", id, got, want)
				}
			}
			if len(h.Find(engine.EvStepEnd, "b.rollback")) != 1 || len(h.Find(engine.EvRollbackStart, "")) != 1 || len(h.Find(engine.EvRollbackEnd, "")) != 1 {
				t.Errorf("rollback events missing\n%s", h.Dump())
			}
			var start struct {
				RollbackOf string `json:"rollback_of"`
			}
			_ = h.Find(engine.EvStepStart, "a.rollback")[0].Decode(&start)
			if start.RollbackOf != "a" {
				t.Errorf("a.rollback step.start rollback_of = %q", start.RollbackOf)
			}
			replayed := engine.Replay(h.S.Runbook(), h.S.Info(), h.Events())
			if got := replayed.StepState("a").Status; got != engine.StepRolledBack {
				t.Errorf("Replay: a = %s, want rolled-back", got)
			}
			applied, _ := h.J.AppliedMigrations(context.Background(), "test", "t")
			if len(applied) != 1 || applied[0].Status != "rolled-back" {
				t.Errorf("applied = %+v, want one rolled-back", applied)
			}
		})
	}
}
