package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestLearningsGivenAFile: learnings takes a runbook's name; given the
// runbook's file it said "None yet" as if the runbook had no learnings.
// It is bad input (exit 2) saying which name to give.
func TestLearningsGivenAFile(t *testing.T) {
	dir := t.TempDir()
	rb, env, _ := stoppedDecision(t, dir)
	tests := []struct {
		name string
		arg  string
		want []string
	}{
		{"the runbook's file", rb, []string{"not a file", "lockstep learnings t"}},
		{"a missing file", filepath.Join(dir, "nosuch.yaml"), []string{"not a file", "the name: of a runbook"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := execCmd(env, "learnings", tt.arg)
			if got := exitCode(err); got != exitBadInput {
				t.Fatalf("exit %d (%v), want %d\n%s", got, err, exitBadInput, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, _, err := execCmd(env, "learnings", "t"); err != nil {
		t.Errorf("learnings t: %v", err)
	}
}
