package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunStepFlag: with --step, plain mode runs an automated step only
// when the answers file says {run: true}, and without that answer exits 2
// naming STEP.run before the step starts; without --step it just runs.
func TestRunStepFlag(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		answers string
		code    int
		ran     bool
		want    string // in stdout or stderr
	}{
		{"run answered", []string{"--step"}, "touch: {run: true}\n", 0, true, "confirmed step"},
		{"run missing", []string{"--step"}, "other: {note: x}\n", exitBadInput, false, `"touch.run"`},
		{"without --step", nil, "other: {note: x}\n", 0, true, "✓ touch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			marker := filepath.Join(dir, "ran")
			answers := filepath.Join(dir, "answers.yaml")
			if err := os.WriteFile(answers, []byte(tt.answers), 0o600); err != nil {
				t.Fatal(err)
			}
			step := `{id: touch, kind: shell, with: {run: "touch ` + marker + `"}}`
			if tt.answers == "other: {note: x}\n" {
				step += "\n      - {id: other, kind: manual}"
			}
			_, out, errOut, err := runOneStep(t, dir, "step mode", step, nil, append(tt.args, "--answers", answers)...)
			if code := exitCode(err); code != tt.code {
				t.Fatalf("exit code %d (%v), want %d\n%s%s", code, err, tt.code, out, errOut)
			}
			if _, serr := os.Stat(marker); (serr == nil) != tt.ran {
				t.Errorf("step ran = %v, want %v\n%s", serr == nil, tt.ran, out)
			}
			if all := out.String() + errOut.String(); !strings.Contains(all, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, all)
			}
		})
	}
}
