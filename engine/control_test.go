package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// startAsync starts the session with an observer that sends cmd when it
// sees step.start of step, and runs it in the background.
func startAsync(h *rig.Harness, step string, cmd engine.Command) <-chan engine.Outcome {
	h.T.Helper()
	var sess atomic.Pointer[engine.Session]
	var sent atomic.Bool
	h.Cfg.Observer = func(ev engine.Event) {
		if ev.Kind == engine.EvStepStart && ev.Step == step && !sent.Swap(true) {
			sess.Load().Control(cmd)
		}
	}
	s, err := engine.Start(context.Background(), h.Cfg)
	if err != nil {
		h.T.Fatalf("Start: %v", err)
	}
	h.S = s
	sess.Store(s)
	done := make(chan engine.Outcome, 1)
	go func() {
		out, err := s.Run(context.Background())
		if err != nil {
			h.T.Errorf("Run: %v", err)
		}
		done <- out
	}()
	return done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestControlPauseContinue(t *testing.T) {
	t.Parallel()
	// a runs until the test sees the pause journaled, so the pause is in
	// force at the boundary after a without waiting on real time.
	release := filepath.Join(t.TempDir(), "release")
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - {id: a, kind: shell, with: {run: "while [ ! -e '`+release+`' ]; do sleep 0.01; done"}}
      - {id: b, kind: shell, with: {run: "echo b"}}
`, nil)
	done := startAsync(h, "a", engine.Command{Kind: engine.CmdPause})
	waitFor(t, "the pause journaled", func() bool { return h.S.State().Paused })
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pause after a", func() bool {
		st := h.S.State()
		return st.Paused && st.StepState("a").Status == engine.StepDone
	})
	// A note journaled while paused: the run loop took the command and
	// still did not start b (no sleep needed to give it the chance).
	h.S.Control(engine.Command{Kind: engine.CmdNote, Text: "looked at the graphs"})
	waitFor(t, "the note journaled while paused", func() bool { return len(h.Find(engine.EvNote, "*")) == 1 })
	if got := h.Status("b"); got != engine.StepPending {
		t.Fatalf("b status while paused = %s, want pending", got)
	}
	h.S.Control(engine.Command{Kind: engine.CmdContinue})
	if out := <-done; out != engine.OutcomeCompleted {
		t.Fatalf("outcome = %s, want completed\n%s", out, h.Dump())
	}
	h.S.Control(engine.Command{Kind: engine.CmdNote, Text: "after the end"}) // dropped, never blocks
	if n := len(h.Find(engine.EvNote, "*")); n != 1 {
		t.Errorf("note events = %d, want 1 (commands after the end are dropped)", n)
	}
	var kinds []engine.EventKind
	for _, ev := range h.Events() {
		if ev.Kind == engine.EvPause || ev.Kind == engine.EvNote || ev.Kind == engine.EvResume ||
			(ev.Kind == engine.EvStepStart && ev.Step == "b") {
			kinds = append(kinds, ev.Kind)
		}
	}
	want := []engine.EventKind{engine.EvPause, engine.EvNote, engine.EvResume, engine.EvStepStart}
	if len(kinds) != len(want) {
		t.Fatalf("events = %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Errorf("events = %v, want %v", kinds, want)
		}
	}
}

func TestControlAbortKillsRunningShell(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - {id: a, kind: shell, with: {run: "sleep 30"}}
      - {id: b, kind: shell, with: {run: "echo b"}}
`, nil)
	start := time.Now()
	done := startAsync(h, "a", engine.Command{Kind: engine.CmdAbort, Text: "wrong table"})
	select {
	case out := <-done:
		if out != engine.OutcomeAborted {
			t.Fatalf("outcome = %s, want aborted", out)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("abort did not stop the session")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("abort took %s", took)
	}
	if got := h.EndOf("a")["status"]; got != "interrupted" {
		t.Errorf("a step.end status = %v, want interrupted", got)
	}
	if len(h.Find(engine.EvAbort, "*")) != 1 || len(h.Find(engine.EvStepStart, "b")) != 0 {
		t.Errorf("want one abort event and b never started\n%s", h.Dump())
	}
}

func TestContextCancelStops(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps: [{id: a, kind: shell, with: {run: "sleep 30"}}]
`, nil)
	s, err := engine.Start(context.Background(), h.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.S = s
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		waitFor(t, "a running", func() bool { return h.Status("a") == engine.StepRunning })
		cancel()
	}()
	out, err := s.Run(ctx)
	if out != engine.OutcomeStopped || err != nil {
		t.Fatalf("Run() = %s, %v; want stopped", out, err)
	}
	if got := h.EndOf("a")["status"]; got != "interrupted" {
		t.Errorf("a step.end status = %v, want interrupted", got)
	}
}
