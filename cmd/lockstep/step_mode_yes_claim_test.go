package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunStepFlagIgnoresYes holds docs/answers.md: in step-by-step mode
// `run` answers "run this automated step", and "`--yes` does not answer
// it" — the operator asked to be asked. With --step --yes and no run
// answer, a destructive step's confirmation is given by --yes but the
// session still stops before the step (exit 2, naming STEP.run), and the
// step does not run.
func TestRunStepFlagIgnoresYes(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	step := `{id: touch, kind: shell, destructive: true, with: {run: "touch ` + marker + `"}}`
	_, out, errOut, err := runOneStep(t, dir, "step mode with yes", step, nil, "--step", "--yes")
	if code := exitCode(err); code != exitBadInput {
		t.Fatalf("run --step --yes: exit %d (%v), want %d\n%s%s", code, err, exitBadInput, out, errOut)
	}
	if all := out.String() + errOut.String(); !strings.Contains(all, `"touch.run"`) {
		t.Errorf("output lacks the missing key \"touch.run\":\n%s", all)
	}
	if _, serr := os.Stat(marker); serr == nil {
		t.Errorf("the step ran under --step with only --yes")
	}
}
