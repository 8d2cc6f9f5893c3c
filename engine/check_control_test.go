package engine_test

import (
	"context"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestControlCheckJournalsEachTick: a tick sent with CmdCheck while the
// checklist is asked is journaled at once (a dropped session keeps it),
// and the answer does not journal it twice; a quit then leaves it for the
// resume.
func TestControlCheckJournalsEachTick(t *testing.T) {
	t.Parallel()
	p := rig.Answers(map[string][]rig.Reply{"list:checklist": {{Err: rig.ErrBlock}}})
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - {id: list, kind: manual, checklist: [one, two, three]}
`, p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sess *engine.Session
	p.OnAsk = func(pr engine.Prompt) {
		sess.Control(engine.Command{Kind: engine.CmdCheck, Text: "list 1"})
		sess.Control(engine.Command{Kind: engine.CmdCheck, Text: "other 0"}) // not in play: dropped
		sess.Control(engine.Command{Kind: engine.CmdCheck, Text: "list 1"})  // twice: once
	}
	s, err := engine.Start(ctx, h.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.S, sess = s, s
	done := make(chan engine.Outcome, 1)
	go func() {
		out, _ := s.Run(ctx)
		done <- out
	}()
	waitFor(t, "the tick journaled while the checklist is asked", func() bool {
		return len(h.Find(engine.EvCheck, "list")) == 1
	})
	if err := s.Quit(ctx, "operator quit"); err != nil {
		t.Fatalf("Quit: %v", err)
	}
	cancel()
	if out := <-done; out != engine.OutcomeStopped {
		t.Fatalf("outcome = %s, want stopped\n%s", out, h.Dump())
	}
	checks := h.Find(engine.EvCheck, "list")
	if len(checks) != 1 {
		t.Fatalf("check.tick events = %d, want 1\n%s", len(checks), h.Dump())
	}
	var d struct{ Index int }
	if err := checks[0].Decode(&d); err != nil || d.Index != 1 {
		t.Errorf("tick index = %d (%v), want 1", d.Index, err)
	}
	quits := h.Find(engine.EvQuit, "*")
	if len(quits) != 1 {
		t.Fatalf("quit events = %d, want 1\n%s", len(quits), h.Dump())
	}
	var seqQuit, seqEnd int64 = quits[0].Seq, 0
	for _, ev := range h.Events() {
		if ev.Kind == engine.EvStepEnd && ev.Step == "list" {
			seqEnd = ev.Seq
		}
	}
	if seqEnd != 0 && seqQuit > seqEnd {
		t.Errorf("quit journaled after the step ended (seq %d > %d)", seqQuit, seqEnd)
	}
	if st := engine.Replay(h.Cfg.Runbook, s.State().Info, h.Events()).StepState("list"); st == nil || len(st.Checked) != 1 {
		t.Errorf("replayed ticks = %+v, want [1]", st)
	}
}
