package tui

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestRunQuitWhileRunningIsJournaled: q while a shell step runs asks
// first; once confirmed, the quit is journaled with the operator before
// the step is stopped, and the session stops resumably.
func TestRunQuitWhileRunningIsJournaled(t *testing.T) {
	slow := &runbook.Step{Phase: "run", ID: "slow", Kind: runbook.KindShell,
		Shell: &runbook.ShellSpec{Run: "echo started; sleep 30"}}
	rb := &runbook.Runbook{
		Name: "demo", Title: "Demo runbook", Version: 1, SHA256: "abc",
		Environments: []*runbook.Environment{{Name: "staging"}},
		Phases:       []*runbook.Phase{{Name: "run", Steps: []*runbook.Step{slow}}},
	}
	j := newMemJournal()
	in, keys := io.Pipe()
	defer keys.Close()
	out, seen := &syncBuffer{}, &events{}
	cfg := engine.Config{Runbook: rb, Env: "staging", Operator: "alice", Journal: j, Stdout: io.Discard, Observer: seen.observe, Steps: steps.Default()}
	done := goRun(Options{Config: cfg, Input: in, Output: out})
	until(t, "slow to print", func() bool { return seen.has(engine.EvOutput, "slow") }, nil)
	io.WriteString(keys, "q")
	waitFor(t, out, "Quit while slow runs?")
	if seen.has(engine.EvStepEnd, "slow") {
		t.Fatal("q stopped the step without asking")
	}
	time.Sleep(keyGuard + 50*time.Millisecond)
	io.WriteString(keys, "\r")
	r := waitRun(t, done, keys)
	if r.o != engine.OutcomeStopped {
		t.Fatalf("Run = %q, %v; want stopped", r.o, r.err)
	}
	evs, _ := j.Events(context.Background(), r.id)
	quit, end := -1, -1
	for i, ev := range evs {
		switch {
		case ev.Kind == engine.EvQuit && quit < 0:
			quit = i
			if ev.Operator != "alice" || ev.Step != "slow" {
				t.Errorf("quit event operator %q step %q, want alice at slow", ev.Operator, ev.Step)
			}
		case ev.Kind == engine.EvStepEnd && ev.Step == "slow":
			end = i
		}
	}
	if quit < 0 || end < 0 || quit > end {
		t.Errorf("quit event at %d, slow's step.end at %d: want the quit journaled first", quit, end)
	}
}

// TestRunTickIsJournaledAtOnce: a checklist tick reaches the journal when
// it is made, before the checklist is confirmed (a dropped SSH session
// keeps it).
func TestRunTickIsJournaledAtOnce(t *testing.T) {
	rb := manualRunbook()
	rb.Phases[0].Steps[0].Checklist = []string{"Deployed", "Error rate normal"}
	in, keys := io.Pipe()
	defer keys.Close()
	out, seen := &syncBuffer{}, &events{}
	cfg := engine.Config{Runbook: rb, Env: "staging", Operator: "alice", Journal: newMemJournal(), Stdout: io.Discard, Observer: seen.observe, Steps: steps.Default()}
	done := goRun(Options{Config: cfg, Input: in, Output: out})
	waitFor(t, out, "Tick each item")
	time.Sleep(keyGuard + 50*time.Millisecond)
	io.WriteString(keys, " ")
	until(t, "check.tick of the first item, before enter", func() bool {
		return seen.has(engine.EvCheck, "deploy-reader")
	}, nil)
	io.WriteString(keys, "q")
	if r := waitRun(t, done, keys); r.o != engine.OutcomeStopped {
		t.Fatalf("Run = %q, %v; want stopped", r.o, r.err)
	}
}
