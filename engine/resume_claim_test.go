package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// TestResumeRefusesASessionHeldElsewhere: while the process that started a
// session lives (here: the Journal it holds the session through is open),
// another process (another Journal on the same file) cannot resume it;
// once it is gone, it can.
func TestResumeRefusesASessionHeldElsewhere(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := rig.NewHarness(t, crashRunbook(dir, ""), rig.Answers(map[string][]rig.Reply{
		"b:interrupted": {{Ans: engine.Answer{Action: engine.ActionRetry}}}}))
	id := crash(h) // started by alice through h.j, never ended

	other, err := journal.Open(h.J.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	cfg := h.Cfg
	cfg.Runbook, cfg.Operator, cfg.Journal = nil, "bob", other
	_, err = engine.Resume(context.Background(), cfg, id)
	var held *engine.SessionHeldError
	if !errors.As(err, &held) || !errors.Is(err, engine.ErrSessionHeld) {
		t.Fatalf("Resume(held elsewhere) error = %v, want a *SessionHeldError", err)
	}
	if held.Owner.Operator != "alice" || held.Owner.PID != os.Getpid() || held.Owner.Host == "" || held.Owner.Since.IsZero() {
		t.Errorf("holder = %+v, want alice, this pid, a host and a time", held.Owner)
	}
	if n := len(h.Find(engine.EvSessionResume, "")); n != 0 {
		t.Errorf("a refused resume journaled %d session.resume events", n)
	}

	h.J.Close() // the first process is gone
	s, err := engine.Resume(context.Background(), cfg, id)
	if err != nil {
		t.Fatalf("Resume after the holder ended: %v", err)
	}
	if out, err := s.Run(context.Background()); out != engine.OutcomeCompleted || err != nil {
		t.Fatalf("Run() = %s, %v", out, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "log"))
	if got := strings.Join(strings.Fields(string(b)), " "); got != "b c" {
		t.Errorf("log = %q, want %q", got, "b c")
	}
}

// TestResumeReadsTheEndFromEvents: a session that ended for good cannot be
// resumed even when its session row, which no hash covers, was edited to
// look resumable.
func TestResumeReadsTheEndFromEvents(t *testing.T) {
	t.Parallel()
	src := rig.Header + `
phases:
  - name: p
    steps:
      - {id: a, kind: shell, with: {run: "echo a"}}
      - {id: b, kind: shell, with: {run: "exit 1"}}
      - {id: c, kind: shell, with: {run: "echo c >> log", cwd: "DIR"}}
`
	tests := []struct {
		name    string
		replies map[string][]rig.Reply
		outcome engine.Outcome
	}{
		{"aborted", map[string][]rig.Reply{"b:failed": {{Ans: engine.Answer{Action: engine.ActionAbort}}}}, engine.OutcomeAborted},
		{"completed", map[string][]rig.Reply{"b:failed": {{Ans: engine.Answer{Action: engine.ActionSkip, Reason: "known"}}}}, engine.OutcomeCompleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			h := rig.NewHarness(t, strings.ReplaceAll(src, "DIR", dir), rig.Answers(tt.replies))
			h.MustRun(tt.outcome)
			os.Remove(filepath.Join(dir, "log"))
			db, err := sql.Open("sqlite3", h.J.Path())
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`UPDATE sessions SET outcome = 'stopped', ended = NULL WHERE id = ?`, h.S.ID()); err != nil {
				t.Fatal(err)
			}

			_, err = engine.Resume(context.Background(), h.Cfg, h.S.ID())
			if !errors.Is(err, engine.ErrSessionEnded) || !strings.Contains(err.Error(), string(tt.outcome)) {
				t.Fatalf("Resume(edited row) error = %v, want ErrSessionEnded (%s)", err, tt.outcome)
			}
			if n := len(h.Find(engine.EvSessionResume, "")); n != 0 {
				t.Errorf("a refused resume journaled %d session.resume events", n)
			}
			if _, err := os.Stat(filepath.Join(dir, "log")); err == nil {
				t.Error("step c ran after the session ended")
			}
		})
	}
}

func TestEndedOutcome(t *testing.T) {
	t.Parallel()
	end := func(o engine.Outcome) engine.Event {
		return eventtest.Raw(engine.EvSessionEnd, "", map[string]any{"outcome": o})
	}
	resume := eventtest.Raw(engine.EvSessionResume, "", nil)
	tests := []struct {
		name   string
		events []engine.Event
		want   engine.Outcome
	}{
		{"no events", nil, engine.OutcomeRunning},
		{"never ended", []engine.Event{eventtest.Raw(engine.EvSessionStart, "", nil)}, engine.OutcomeRunning},
		{"ended", []engine.Event{end(engine.OutcomeAborted)}, engine.OutcomeAborted},
		{"stopped then resumed", []engine.Event{end(engine.OutcomeStopped), resume}, engine.OutcomeRunning},
		{"resumed then completed", []engine.Event{end(engine.OutcomeStopped), resume, end(engine.OutcomeCompleted)}, engine.OutcomeCompleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := engine.EndedOutcome(tt.events); got != tt.want {
				t.Errorf("EndedOutcome() = %q, want %q", got, tt.want)
			}
		})
	}
}
