package journal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// endedSession stores a session the way the engine does: session.start
// with the runbook's name, path and sha256, a few events, session.end with
// outcome, then EndSession.
func endedSession(t *testing.T, j *journal.Journal, outcome engine.Outcome) engine.SessionInfo {
	t.Helper()
	info := sessionInfo("production", "r", engine.ModeLive, time.Time{})
	info.RunbookSource = []byte("lockstep: 1\nname: r\ntitle: Migrate r\n")
	s := createSession(t, j, info)
	start := eventtest.Raw(engine.EvSessionStart, "", map[string]any{
		"runbook": s.Runbook, "path": s.RunbookPath, "sha256": s.RunbookSHA256,
		"env": s.Env, "mode": s.Mode, "operator": s.Operator,
	})
	start.SessionID, start.Operator = s.ID, s.Operator
	if _, err := j.Append(context.Background(), start); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, j, s.ID, 2)
	endSession(t, j, s.ID, outcome)
	return s
}

func TestVerifyChecksTheSessionRow(t *testing.T) {
	tests := []struct {
		name       string
		tamper     string // ?1 is the session id
		wantReason string // "" = verifies
		repairable bool   // the chain explains the row: not tampering
	}{
		{"untouched", "", "", false},
		{"aborted made resumable", `UPDATE sessions SET outcome = 'stopped', ended = NULL WHERE id = ?1`,
			`outcome is "stopped", session.end (seq 4) says "aborted"`, false},
		{"aborted made completed", `UPDATE sessions SET outcome = 'completed' WHERE id = ?1`,
			`outcome is "completed", session.end (seq 4) says "aborted"`, false},
		{"aborted made never ended", `UPDATE sessions SET outcome = '', ended = NULL WHERE id = ?1`,
			`repairable, not tampering: session.end (seq 4) ended the session as "aborted"`, true},
		{"end time cleared", `UPDATE sessions SET ended = NULL WHERE id = ?1`, "no end time", false},
		{"end time moved", `UPDATE sessions SET ended = '2099-01-01T00:00:00.000000Z' WHERE id = ?1`,
			"end time 2099-01-01T00:00:00.000000Z does not match session.end (seq 4)", false},
		{"title", `UPDATE sessions SET title = 'Harmless cleanup' WHERE id = ?1`,
			`title is "Harmless cleanup", the saved runbook says "Migrate r"`, false},
		{"runbook path", `UPDATE sessions SET runbook_path = '/elsewhere.yaml' WHERE id = ?1`,
			`runbook_path is "/elsewhere.yaml", session.start (seq 1) says "/runbooks/r.yaml"`, false},
		{"runbook name", `UPDATE sessions SET runbook = 'other' WHERE id = ?1`, `runbook is "other"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, path := openTemp(t)
			s := endedSession(t, j, engine.OutcomeAborted)
			if tt.tamper != "" {
				if _, err := rawDB(t, path).Exec(tt.tamper, s.ID); err != nil {
					t.Fatalf("tamper: %v", err)
				}
			}
			res, err := j.Verify(context.Background(), s.ID)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if tt.wantReason == "" {
				if !res.OK {
					t.Errorf("Verify() = %+v, want OK", res)
				}
				return
			}
			want := "session row changed: " + tt.wantReason
			if tt.repairable {
				want = tt.wantReason
			}
			if res.OK || res.BadSeq != 0 || res.Repairable != tt.repairable || !strings.Contains(res.Reason, want) {
				t.Errorf("Verify() = %+v, want not OK, BadSeq 0, Repairable %v, reason containing %q", res, tt.repairable, want)
			}
		})
	}
}

// TestVerifyAcceptsAResumedSession: a session that ended resumably and was
// resumed is running again: outcome "" and no end time are right.
func TestVerifyAcceptsAResumedSession(t *testing.T) {
	j, _ := openTemp(t)
	s := endedSession(t, j, engine.OutcomeStopped)
	ev := engine.Event{SessionID: s.ID, Kind: engine.EvSessionResume, Operator: "bob"}
	if _, err := j.Append(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if res, err := j.Verify(context.Background(), s.ID); err != nil || !res.OK {
		t.Errorf("Verify(resumed) = %+v, %v; want OK", res, err)
	}
}

func TestVerifyReportsEventsWithoutASession(t *testing.T) {
	ctx := context.Background()
	j, path := openTemp(t)
	kept := endedSession(t, j, engine.OutcomeCompleted)
	gone := endedSession(t, j, engine.OutcomeAborted)
	if _, err := rawDB(t, path).Exec(`DELETE FROM sessions WHERE id = ?`, gone.ID); err != nil {
		t.Fatalf("tamper: %v", err)
	}

	res, err := j.Verify(ctx, gone.ID)
	if err != nil || res.OK || res.Events != 4 || !strings.Contains(res.Reason, "session row deleted") {
		t.Errorf("Verify(deleted session) = %+v, %v; want not OK: 4 events, session row deleted", res, err)
	}
	all, err := j.VerifyAll(ctx)
	if err != nil {
		t.Fatalf("VerifyAll: %v", err)
	}
	if len(all) != 2 || all[0].SessionID != kept.ID || !all[0].OK || all[1].SessionID != gone.ID || all[1].OK {
		t.Errorf("VerifyAll() = %+v, want %s OK then %s not OK", all, kept.ID, gone.ID)
	}
}
