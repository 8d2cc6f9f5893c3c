package main

import (
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestRunPlainEndings: in plain mode a failed step the answers file says
// nothing about ends the session as failed (exit 1, resumable with an
// answer), while a prompt without an answer stops it (exit 2).
func TestRunPlainEndings(t *testing.T) {
	tests := []struct {
		name     string
		step     string
		wantCode int
		want     engine.Outcome
		wantErr  string
	}{
		{"failed step", `{id: broken, kind: shell, with: {run: "exit 7"}}`, exitFailed, engine.OutcomeFailed,
			"no retry or skip answer for failed step broken"},
		{"unanswered prompt", `{id: deploy, kind: manual, checklist: [done]}`, exitBadInput, engine.OutcomeStopped,
			`missing answer "deploy.check"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jpath, _, errOut, err := runOneStep(t, t.TempDir(), "T", tt.step, nil)
			if got := exitCode(err); got != tt.wantCode {
				t.Errorf("exit %d (%v), want %d", got, err, tt.wantCode)
			}
			if !strings.Contains(errOut.String()+err.Error(), tt.wantErr) {
				t.Errorf("stderr %q / error %q lack %q", errOut.String(), err, tt.wantErr)
			}
			_, s := latestSession(t, jpath)
			if s.Outcome != tt.want {
				t.Errorf("outcome %q, want %q", s.Outcome, tt.want)
			}
			if !strings.Contains(errOut.String(), "lockstep resume "+s.ID+" --plain --answers FILE") {
				t.Errorf("stderr %q lacks the resume hint", errOut.String())
			}
		})
	}
}
