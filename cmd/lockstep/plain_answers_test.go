package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestAnswersSkipSkipsStepsThatDoNotPrompt: `{skip: "reason"}` in the
// answers file keeps a shell step from running, though plain mode runs it
// without asking; the skip is journaled as the operator's, with the reason.
func TestAnswersSkipSkipsStepsThatDoNotPrompt(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	answers := filepath.Join(dir, "answers.yaml")
	if err := os.WriteFile(answers, []byte(`touch: {skip: "not in staging"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	step := `{id: touch, kind: shell, with: {run: "touch ` + marker + `"}}`
	jpath, out, errOut, err := runOneStep(t, dir, "preskip", step, nil, "--answers", answers)
	if err != nil {
		t.Fatalf("run: %v\n%s%s", err, out, errOut)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("the step ran although the answers file skips it:\n%s", out)
	}
	if !strings.Contains(out.String(), "not in staging") {
		t.Errorf("output does not show the skip reason:\n%s", out)
	}
	j, s := latestSession(t, jpath)
	evs, err := j.Events(context.Background(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	var skips []string
	for _, ev := range evs {
		if ev.Kind == engine.EvStepSkip && ev.Step == "touch" {
			var d struct{ Reason string }
			_ = ev.Decode(&d)
			skips = append(skips, d.Reason)
		}
		if ev.Kind == engine.EvStepStart && ev.Step == "touch" {
			t.Errorf("step.start journaled for a skipped step")
		}
	}
	if len(skips) != 1 || skips[0] != "not in staging" {
		t.Errorf("journaled skips = %q, want one with the reason", skips)
	}
}

// TestInvalidAnswerStopsResumably: an answer the engine rejects (an
// approver who does not hold the role, a choice not offered) is bad input:
// the session stops resumably with exit 2 at the answer's line, and the
// step is not recorded as failed.
func TestInvalidAnswerStopsResumably(t *testing.T) {
	tests := []struct {
		name, step, answer, want string
	}{
		{"approver without the role", `{id: ok, kind: approval, with: {role: responsible}}`,
			`ok: {approve: mallory, reason: "x"}`, `answers.yaml:1:15: ok.approve:`},
		{"choice not offered", `{id: pick, kind: decision, with: {choices: [a, b]}}`,
			`pick: {choice: zzz, reason: "x"}`, `answers.yaml:1:16: pick.choice "zzz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			answers := filepath.Join(dir, "answers.yaml")
			if err := os.WriteFile(answers, []byte(tt.answer+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			jpath, out, errOut, err := runOneStep(t, dir, "bad answer", tt.step, nil, "--answers", answers)
			if code := exitCode(err); code != exitBadInput {
				t.Fatalf("exit code %d (%v), want %d\n%s%s", code, err, exitBadInput, out, errOut)
			}
			if !strings.Contains(errOut.String(), tt.want) || !strings.Contains(errOut.String(), "Fix the answer") {
				t.Errorf("stderr does not point at the answer and say to fix it:\n%s", errOut)
			}
			_, s := latestSession(t, jpath)
			if s.Outcome != engine.OutcomeStopped {
				t.Errorf("session outcome %q, want stopped (resumable)", s.Outcome)
			}
		})
	}
}
