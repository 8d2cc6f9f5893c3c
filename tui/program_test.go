package tui

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// waitScreen waits until the program's output, ANSI stripped, contains all of want.
func waitScreen(t *testing.T, out io.Reader, want ...string) {
	t.Helper()
	var seen bytes.Buffer
	teatest.WaitFor(t, out, func(b []byte) bool {
		seen.Write(b)
		s := ansi.Strip(seen.String())
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

func TestProgramPromptRoundTrip(t *testing.T) {
	m, rec := newTestModel(t, "staging", 100, 30)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
	out := tm.Output()
	waitScreen(t, out, "Split users.address", "ESTIMATE")

	reply := make(chan Reply, 1)
	tm.Send(PromptMsg{ID: 7, Prompt: engine.Prompt{Kind: engine.PromptDecision, Step: "strategy",
		Title: "strategy: pick one", Choices: []string{"big-bang", "multi-step"}}, Reply: reply})
	waitScreen(t, out, "Choose and give a rationale", "multi-step", "rationale")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
	tm.Type("expand then contract")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	select {
	case r := <-reply:
		if r.Answer.Choice != "multi-step" || r.Answer.Reason != "expand then contract" {
			t.Errorf("answer = %+v", r.Answer)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer from the program")
	}

	tm.Send(tm.GetProgram()) // unrelated messages are ignored
	tm.Type("n")
	waitScreen(t, out, "Add a note")
	tm.Type("slow scan")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	ev := eventtest.Raw(engine.EvSessionEnd, "", map[string]any{"outcome": "completed"})
	ev.Time = t0.Add(time.Minute)
	tm.Send(EventMsg{Event: ev})
	tm.Type("x") // messages are handled in order: this key comes after the end
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if got := rec.Commands(); len(got) != 1 || got[0].Kind != engine.CmdNote || got[0].Text != "slow scan" {
		t.Errorf("commands = %v, want one note", got)
	}
	fm := tm.FinalModel(t).(*Model)
	if fm.Outcome() != engine.OutcomeCompleted {
		t.Errorf("Outcome() = %q", fm.Outcome())
	}
	if v := ansi.Strip(fm.View().Content); !strings.Contains(v, "Session completed") || !strings.Contains(v, "Press any key") {
		t.Errorf("final screen lacks the outcome:\n%s", v)
	}
}

func TestProgramQuitDuringPrompt(t *testing.T) {
	m, _ := newTestModel(t, "production", 80, 24)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	reply := make(chan Reply, 1)
	tm.Send(PromptMsg{ID: 1, Prompt: engine.Prompt{Kind: engine.PromptConfirmEnv, Expect: "production",
		Title: "production is protected"}, Reply: reply})
	waitScreen(t, tm.Output(), "production is protected", "ctrl+c quit")
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	select {
	case r := <-reply:
		if !errors.Is(r.Err, engine.ErrQuit) {
			t.Errorf("Err = %v, want ErrQuit", r.Err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no reply")
	}
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func TestProgramResizeAndProgress(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	waitScreen(t, tm.Output(), "ESTIMATE") // the program's own initial size is in
	ev := eventtest.Raw(engine.EvStepStart, "backfill", map[string]any{"attempt": 1})
	ev.Time = t0
	tm.Send(EventMsg{Event: ev})
	p := eventtest.Raw(engine.EvProgress, "backfill", map[string]any{"done": 500, "total": 1000, "rate": 250, "eta_ms": 2000})
	tm.Send(EventMsg{Event: p})
	tm.Send(tea.WindowSizeMsg{Width: 132, Height: 43})
	waitScreen(t, tm.Output(), "500/1,000 items", "250 items/s", "ETA 2s")
	tm.Type("q") // a step runs: q asks first
	waitScreen(t, tm.Output(), "Quit while backfill runs?")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if fm := tm.FinalModel(t).(*Model); fm.width != 132 || !fm.Quitting() {
		t.Errorf("final width %d quitting %v", fm.width, fm.Quitting())
	}
}

func TestProgramBrowse(t *testing.T) {
	b := NewBrowser(t.Context(), journalFixture(t), BrowseOptions{Dir: t.TempDir()})
	b.loc = time.UTC
	tm := teatest.NewTestModel(t, b, teatest.WithInitialTermSize(120, 30))
	waitScreen(t, tm.Output(), "drop-legacy", "split-address")
	tm.Type("eee") // production, staging, all
	tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitScreen(t, tm.Output(), "no downtime allowed")
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if fb := tm.FinalModel(t).(*Browser); fb.open != "20261120-210000-aaaa0001" || fb.env != "" {
		t.Errorf("final: open %q env %q", fb.open, fb.env)
	}
}

func TestProgramPick(t *testing.T) {
	tm := teatest.NewTestModel(t, NewPicker(pickItems()), teatest.WithInitialTermSize(80, 24))
	waitScreen(t, tm.Output(), "Pick a runbook", "split-address.yaml")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if it, ok := tm.FinalModel(t).(*Picker).Picked(); !ok || it.Name != "split-attribute" {
		t.Errorf("Picked() = %+v, %v", it, ok)
	}
}
