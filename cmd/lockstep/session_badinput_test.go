package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"

	"github.com/lockstep-run/lockstep/engine"
)

// TestFinishSessionJournalFull: a journal that fills up between steps (a
// decision's or a phase's event, not a migrate page's checkpoint) stops
// the session resumably as the migrate step's gate does — exit 3, the
// cause and the resume command — and one that fills up before the session
// starts is bad input (exit 2) saying to free space.
func TestFinishSessionJournalFull(t *testing.T) {
	full := sqlite3.Error{Code: sqlite3.ErrFull}
	tests := []struct {
		name     string
		id       string
		err      error
		wantCode int
		want     []string // substrings of stderr and the error
	}{
		{"between steps", "S1", fmt.Errorf("append decision event: append event: commit: %w", full), exitStopped,
			[]string{"database or disk is full", "free space and run `lockstep resume S1`", "lockstep resume S1 --journal j.db"}},
		{"before the session starts", "", fmt.Errorf("start session: append session.start event: append event: commit: %w", full), exitBadInput,
			[]string{"database or disk is full", "free space on its disk"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, errOut := testFactory(nil, "u")
			err := finishSession(f, sessionRequest{resumeArgs: journalArg("j.db")}, engine.OutcomeRunning, tt.id, tt.err)
			if got := exitCode(err); got != tt.wantCode {
				t.Errorf("exit %d (%v), want %d", got, err, tt.wantCode)
			}
			shown := errOut.String()
			if !isSilent(err) {
				shown += "lockstep: " + err.Error()
			}
			for _, w := range tt.want {
				if !strings.Contains(shown, w) {
					t.Errorf("the operator sees %q, which lacks %q", shown, w)
				}
			}
		})
	}
}
