package tui

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

func TestChecklistTicksAndConfirms(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	reply := openPrompt(m, engine.Prompt{Kind: engine.PromptChecklist, Step: "deploy-reader", Title: "deploy-reader",
		Checklist: []string{"Deployed to all regions", "Error rate normal"}})
	press(t, m, "enter")
	noReply(t, reply)
	if got := m.prompt.err; got == "" {
		t.Errorf("enter with nothing ticked: no error shown")
	}
	press(t, m, "down", "space", "up", "space", "enter")
	r := replyOf(t, reply)
	if got, want := r.Answer.Checked, []int{1, 0}; !slices.Equal(got, want) {
		t.Errorf("Checked = %v, want %v (tick order)", got, want)
	}
	if m.prompt != nil {
		t.Errorf("prompt still open after the answer")
	}
}

// TestChecklistUntickRefused: each tick is journaled as it is made, so a
// ticked item cannot be unticked on screen: space on it says so.
func TestChecklistUntickRefused(t *testing.T) {
	m, rec := newTestModel(t, "staging", 80, 24)
	reply := openPrompt(m, engine.Prompt{Kind: engine.PromptChecklist, Step: "deploy-reader", Checklist: []string{"a", "b"}})
	press(t, m, "space", "up", "space") // tick a, try to untick a
	if !m.prompt.ticked[0] || !strings.Contains(m.prompt.err, "cannot be undone") {
		t.Errorf("after untick: ticked %v err %q, want a still ticked and a notice", m.prompt.ticked, m.prompt.err)
	}
	if !strings.Contains(plainView(m), "cannot be undone") {
		t.Errorf("the refusal is not on screen:\n%s", plainView(m))
	}
	press(t, m, "down", "space", "enter")
	if got, want := replyOf(t, reply).Answer.Checked, []int{0, 1}; !slices.Equal(got, want) {
		t.Errorf("Checked = %v, want %v", got, want)
	}
	var ticks []string
	for _, c := range rec.Commands() {
		if c.Kind == engine.CmdCheck {
			ticks = append(ticks, c.Text)
		}
	}
	if got, want := strings.Join(ticks, ","), "deploy-reader 0,deploy-reader 1"; got != want {
		t.Errorf("check commands = %q, want %q (one per tick, as it is made)", got, want)
	}
}

func TestSkipAsksReason(t *testing.T) {
	for _, kind := range []engine.PromptKind{engine.PromptChecklist, engine.PromptManual, engine.PromptDestructive, engine.PromptStep} {
		t.Run(string(kind), func(t *testing.T) {
			m, _ := newTestModel(t, "staging", 80, 24)
			reply := openPrompt(m, engine.Prompt{Kind: kind, Step: "deploy-reader", Checklist: []string{"a"}})
			if kind == engine.PromptDestructive {
				press(t, m, "esc") // leave the field where the step id is typed
			}
			press(t, m, "s", "enter")
			noReply(t, reply)
			if m.prompt.err != "a reason is required" {
				t.Errorf("err = %q, want a reason is required", m.prompt.err)
			}
			press(t, m, "type:not needed in staging", "enter")
			r := replyOf(t, reply)
			if r.Answer.Action != engine.ActionSkip || r.Answer.Reason != "not needed in staging" {
				t.Errorf("answer = %+v, want skip with reason", r.Answer)
			}
		})
	}
}

func TestSkipReasonEscGoesBack(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	reply := openPrompt(m, engine.Prompt{Kind: engine.PromptManual, Step: "deploy-reader"})
	press(t, m, "s", "type:x", "esc", "enter")
	if r := replyOf(t, reply); !r.Answer.Confirm || r.Answer.Action != engine.ActionNone {
		t.Errorf("answer = %+v, want an acknowledgement", r.Answer)
	}
}

// TestStepPromptRuns: in step-by-step mode enter runs the step, and the
// footer offers enter and s.
func TestStepPromptRuns(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	reply := openPrompt(m, engine.Prompt{Kind: engine.PromptStep, Step: "dump", Title: "run dump (shell)?"})
	if v := plainView(m); !strings.Contains(v, "run dump (shell)?") || !strings.Contains(v, "s skip") {
		t.Errorf("view lacks the question or the skip key:\n%s", v)
	}
	press(t, m, "enter")
	if r := replyOf(t, reply); !r.Answer.Confirm || r.Answer.Action != engine.ActionNone {
		t.Errorf("answer = %+v, want run", r.Answer)
	}
}

func TestManualAcknowledge(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	reply := openPrompt(m, engine.Prompt{Kind: engine.PromptManual, Step: "deploy-reader"})
	press(t, m, "enter")
	if r := replyOf(t, reply); !r.Answer.Confirm {
		t.Errorf("Confirm = false, want true")
	}
}

// TestDestructiveConfirm: a destructive step runs only once its id is
// typed: enter alone, or a wrong id, answers nothing.
func TestDestructiveConfirm(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	reply := openPrompt(m, engine.Prompt{Kind: engine.PromptDestructive, Step: "drop-address", Title: "drop-address is destructive: run it?"})
	if v := plainView(m); !strings.Contains(v, "type drop-address to run it") {
		t.Errorf("the prompt does not say what to type:\n%s", v)
	}
	press(t, m, "enter")
	noReply(t, reply)
	press(t, m, "type:drop", "enter")
	noReply(t, reply)
	if !strings.Contains(m.prompt.err, `"drop-address"`) {
		t.Errorf("err = %q, want the id to type", m.prompt.err)
	}
	press(t, m, "type:-address", "enter")
	if r := replyOf(t, reply); !r.Answer.Confirm || r.Answer.Value != "drop-address" {
		t.Errorf("answer = %+v, want Confirm with the typed id", r.Answer)
	}
}

func TestDecisionNeedsRationale(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	reply := openPrompt(m, engine.Prompt{Kind: engine.PromptDecision, Step: "strategy", Choices: []string{"big-bang", "multi-step"}})
	press(t, m, "down", "enter")
	noReply(t, reply)
	// letters are typed, not taken as hotkeys, while the rationale is focused
	press(t, m, "type:quiet period, a/b tested", "enter")
	r := replyOf(t, reply)
	if r.Answer.Choice != "multi-step" || r.Answer.Reason != "quiet period, a/b tested" {
		t.Errorf("answer = %+v", r.Answer)
	}
}

func TestApproval(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	reply := openPrompt(m, engine.Prompt{Kind: engine.PromptApproval, Step: "go-no-go", Role: "accountable", Holders: []string{"bob"}})
	press(t, m, "type:mallory", "enter", "type:looks fine", "enter")
	noReply(t, reply)
	if m.prompt.err == "" {
		t.Fatal("approval by a non-holder accepted")
	}
	press(t, m, "tab")
	for range len("mallory") {
		press(t, m, "backspace")
	}
	press(t, m, "type:bob", "tab", "enter")
	r := replyOf(t, reply)
	if r.Answer.Approver != "bob" || r.Answer.Reason != "looks fine" {
		t.Errorf("answer = %+v, want bob / looks fine", r.Answer)
	}
}

func TestConfirmEnvMustMatch(t *testing.T) {
	m, _ := newTestModel(t, "production", 80, 24)
	reply := openPrompt(m, engine.Prompt{Kind: engine.PromptConfirmEnv, Expect: "production"})
	press(t, m, "type:prod", "enter")
	noReply(t, reply)
	press(t, m, "type:uction", "enter")
	r := replyOf(t, reply)
	if r.Answer.Value != "production" {
		t.Errorf("Value = %q, want production", r.Answer.Value)
	}
}

func TestReasonPrompt(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	reply := openPrompt(m, engine.Prompt{Kind: engine.PromptReason, Title: "runbook differs from its rehearsal"})
	press(t, m, "enter")
	noReply(t, reply)
	press(t, m, "type:typo fix only", "enter")
	if got := replyOf(t, reply).Answer.Reason; got != "typo fix only" {
		t.Errorf("Reason = %q", got)
	}
}

func TestInterruptedActions(t *testing.T) {
	tests := []struct {
		keys []string
		want engine.Answer
	}{
		{[]string{"r"}, engine.Answer{Action: engine.ActionRetry}},
		{[]string{"enter"}, engine.Answer{Action: engine.ActionRetry}},
		{[]string{"d", "type:ran it by hand", "enter"}, engine.Answer{Action: engine.ActionDone, Reason: "ran it by hand"}},
		{[]string{"down", "enter", "type:done by hand", "enter"}, engine.Answer{Action: engine.ActionDone, Reason: "done by hand"}},
		{[]string{"s", "type:not needed", "enter"}, engine.Answer{Action: engine.ActionSkip, Reason: "not needed"}},
	}
	for _, tt := range tests {
		m, _ := newTestModel(t, "staging", 80, 24)
		reply := openPrompt(m, engine.Prompt{Kind: engine.PromptInterrupted, Step: "dump"})
		press(t, m, tt.keys...)
		r := replyOf(t, reply)
		if r.Answer.Action != tt.want.Action || r.Answer.Reason != tt.want.Reason {
			t.Errorf("keys %v: answer = %+v, want %+v", tt.keys, r.Answer, tt.want)
		}
	}
}

func TestFailedActions(t *testing.T) {
	tests := []struct {
		keys []string
		want engine.Answer
	}{
		{[]string{"r"}, engine.Answer{Action: engine.ActionRetry}},
		{[]string{"s", "type:flaky", "enter"}, engine.Answer{Action: engine.ActionSkip, Reason: "flaky"}},
		{[]string{"a", "enter"}, engine.Answer{Action: engine.ActionAbort}},
		{[]string{"down", "down", "down", "enter"}, engine.Answer{Action: engine.ActionAbort}},
		{[]string{"b", "type:bad data", "enter"}, engine.Answer{Action: engine.ActionRollback, Reason: "bad data"}},
	}
	for _, tt := range tests {
		m, rec := newTestModel(t, "staging", 80, 24)
		reply := openPrompt(m, engine.Prompt{Kind: engine.PromptFailed, Step: "dump"})
		press(t, m, tt.keys...)
		r := replyOf(t, reply)
		if r.Answer.Action != tt.want.Action || r.Answer.Reason != tt.want.Reason {
			t.Errorf("keys %v: answer = %+v, want %+v", tt.keys, r.Answer, tt.want)
		}
		if got := rec.Commands(); len(got) != 0 {
			t.Errorf("keys %v: commands %v, want none (the prompt answers)", tt.keys, got)
		}
	}
}

func TestQuitAnswersErrQuit(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		m, _ := newTestModel(t, "staging", 80, 24)
		reply := openPrompt(m, engine.Prompt{Kind: engine.PromptManual, Step: "deploy-reader"})
		_, cmd := m.Update(keyMsg(k))
		if r := replyOf(t, reply); !errors.Is(r.Err, engine.ErrQuit) {
			t.Errorf("%s: Err = %v, want ErrQuit", k, r.Err)
		}
		if cmd == nil || cmd() != quitMsg {
			t.Errorf("%s: no tea.Quit", k)
		}
		if !m.Quitting() {
			t.Errorf("%s: Quitting() = false", k)
		}
	}
}

func TestQTypedIntoTextField(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	reply := openPrompt(m, engine.Prompt{Kind: engine.PromptReason})
	press(t, m, "q", "enter")
	if got := replyOf(t, reply).Answer.Reason; got != "q" {
		t.Errorf("Reason = %q, want q", got)
	}
	if m.quit {
		t.Error("q in a text field quit")
	}
}

func TestQuitWithoutPrompt(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	_, cmd := m.Update(keyMsg("q"))
	if cmd == nil || cmd() != quitMsg || !m.Quitting() {
		t.Error("q did not quit")
	}
}

func TestPauseResume(t *testing.T) {
	m, rec := newTestModel(t, "staging", 80, 24)
	press(t, m, "p")
	send(m, engine.EvPause, "", nil, at(5))
	if !m.paused {
		t.Fatal("not paused after the pause event")
	}
	press(t, m, "p")
	send(m, engine.EvResume, "", nil, at(6))
	want := []engine.Command{{Kind: engine.CmdPause}, {Kind: engine.CmdContinue}}
	if got := rec.Commands(); !slices.Equal(got, want) {
		t.Errorf("commands = %v, want %v", got, want)
	}
	if m.paused {
		t.Error("still paused after the resume event")
	}
}

func TestAbortAsksConfirmation(t *testing.T) {
	m, rec := newTestModel(t, "staging", 80, 24)
	press(t, m, "a", "esc")
	if got := rec.Commands(); len(got) != 0 {
		t.Fatalf("esc still sent %v", got)
	}
	press(t, m, "a", "enter")
	if got, want := rec.Commands(), []engine.Command{{Kind: engine.CmdAbort}}; !slices.Equal(got, want) {
		t.Errorf("commands = %v, want %v", got, want)
	}
}

func TestRollbackAsksReason(t *testing.T) {
	m, rec := newTestModel(t, "staging", 80, 24)
	press(t, m, "b", "enter")
	if len(rec.Commands()) != 0 {
		t.Fatal("rollback without a reason sent")
	}
	press(t, m, "type:verify found bad rows", "enter")
	want := []engine.Command{{Kind: engine.CmdRollback, Text: "verify found bad rows"}}
	if got := rec.Commands(); !slices.Equal(got, want) {
		t.Errorf("commands = %v, want %v", got, want)
	}
	if m.local != nil {
		t.Error("rollback form still open")
	}
}

func TestNote(t *testing.T) {
	m, rec := newTestModel(t, "staging", 80, 24)
	reply := openPrompt(m, engine.Prompt{Kind: engine.PromptManual, Step: "deploy-reader"})
	press(t, m, "n", "type:eu-west-1 slower than expected", "enter")
	want := []engine.Command{{Kind: engine.CmdNote, Text: "eu-west-1 slower than expected"}}
	if got := rec.Commands(); !slices.Equal(got, want) {
		t.Errorf("commands = %v, want %v", got, want)
	}
	noReply(t, reply) // the prompt underneath is still open
	press(t, m, "enter")
	if !replyOf(t, reply).Answer.Confirm {
		t.Error("prompt under the note not answered")
	}
}

func TestHelpToggleAndKeysThatApply(t *testing.T) {
	m, _ := newTestModel(t, "staging", 120, 40)
	short := m.footer()
	press(t, m, "?")
	if full := m.footer(); len(full) <= len(short) {
		t.Errorf("? did not expand help: %q", full)
	}
	has := func(keys ...string) map[string]bool {
		seen := map[string]bool{}
		for _, b := range m.helpKeys().short {
			seen[b.Help().Key] = true
		}
		return seen
	}
	if h := has(); h["space"] || h["r"] {
		t.Errorf("space/r shown with no prompt: %v", h)
	}
	openPrompt(m, engine.Prompt{Kind: engine.PromptChecklist, Step: "deploy-reader", Checklist: []string{"a"}})
	if h := has(); !h["space"] || !h["s"] || !h["q"] {
		t.Errorf("checklist help lacks space/s/q: %v", h)
	}
	m.prompt = nil
	openPrompt(m, engine.Prompt{Kind: engine.PromptReason})
	if h := has(); h["q"] || h["p"] || !h["ctrl+c"] {
		t.Errorf("text prompt help: %v, want ctrl+c and no q/p", h)
	}
}

func TestPromptCancel(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	reply := openPrompt(m, engine.Prompt{Kind: engine.PromptManual, Step: "deploy-reader"})
	m.Update(PromptCancelMsg{ID: 2})
	if m.prompt == nil {
		t.Fatal("cancel of another prompt closed this one")
	}
	m.Update(PromptCancelMsg{ID: 1})
	if m.prompt != nil {
		t.Fatal("prompt still open after its cancel")
	}
	noReply(t, reply)
}

func TestEndedAnyKeyExits(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	m.Update(SessionEndMsg{Outcome: engine.OutcomeCompleted})
	_, cmd := m.Update(keyMsg("x"))
	if cmd == nil || cmd() != quitMsg {
		t.Error("a key after the end did not exit")
	}
	if m.Quitting() {
		t.Error("Quitting() after the end, want false")
	}
}

func TestOutputScroll(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	send(m, engine.EvStepStart, "dump", nil, at(1))
	for range 100 {
		send(m, engine.EvOutput, "dump", map[string]any{"stream": "stdout", "text": "line\n"}, at(2))
	}
	plainView(m)
	press(t, m, "pgup")
	if m.out.Following() {
		t.Fatal("pgup did not scroll")
	}
	if v := plainView(m); !contains(v, "scrolled") {
		t.Errorf("scrolled view lacks the marker:\n%s", v)
	}
	press(t, m, "pgdown", "pgdown")
	if !m.out.Following() {
		t.Error("pgdown did not return to the tail")
	}
}

func TestEventsUpdateSteps(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	send(m, engine.EvStepStart, "dump", map[string]any{"attempt": 1}, at(1))
	if got := m.byID["dump"].status; got != engine.StepRunning {
		t.Errorf("after start: %s, want running", got)
	}
	send(m, engine.EvStepEnd, "dump", map[string]any{"status": "interrupted"}, at(2))
	if got := m.byID["dump"].status; got != engine.StepInterrupted {
		t.Errorf("after interrupted end: %s", got)
	}
	send(m, engine.EvStepMarkDone, "dump", map[string]any{"reason": "by hand"}, at(3))
	if r := m.byID["dump"]; r.status != engine.StepDone || r.reason != "by hand" {
		t.Errorf("after mark done: %s %q", r.status, r.reason)
	}
	send(m, engine.EvStepStart, "dump.rollback", map[string]any{"attempt": 1}, at(4))
	if m.current != "dump" {
		t.Errorf("current during its rollback = %q, want dump", m.current)
	}
	send(m, engine.EvOutput, "dump.rollback", map[string]any{"stream": "stdout", "text": "restoring\n"}, at(4.5))
	send(m, engine.EvStepEnd, "dump.rollback", map[string]any{"status": "done"}, at(5))
	if got := m.byID["dump"].status; got != engine.StepRolledBack {
		t.Errorf("after rollback: %s", got)
	}
	if v := plainView(m); !strings.Contains(v, "↶ dump") || !strings.Contains(v, "restoring") {
		t.Errorf("rolled-back step not shown with ↶ and its rollback output:\n%s", v)
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestRateKeys: + and - ask the engine for a higher or lower write rate
// while a migrate runs; the journaled rate event shows in the progress
// block; with no migrate running they only explain.
func TestRateKeys(t *testing.T) {
	m, rec := newTestModel(t, "production", 120, 40)
	press(t, m, "+")
	if got := rec.Commands(); len(got) != 0 {
		t.Fatalf("+ with no migrate running sent %v", got)
	}
	if !strings.Contains(plainView(m), "while a migrate step runs") {
		t.Errorf("+ with no migrate running does not explain:\n%s", plainView(m))
	}
	finish(m, "size", "snapshot", "drill", "go-no-go", "strategy", "deploy-reader", "dump")
	send(m, engine.EvStepStart, "backfill", map[string]any{"attempt": 1}, at(120))
	send(m, engine.EvProgress, "backfill", map[string]any{"done": 1000, "total": 120000, "rate": 400}, at(121))
	if v := plainView(m); !strings.Contains(v, "max write rate: unlimited · +/- change") || !strings.Contains(v, "+/- write rate") {
		t.Errorf("progress block lacks the rate line or the footer the keys:\n%s", v)
	}
	press(t, m, "+")
	press(t, m, "-", "-")
	var got []string
	for _, c := range rec.Commands() {
		if c.Kind != engine.CmdRate {
			t.Errorf("command %v, want rate", c)
		}
		got = append(got, c.Text)
	}
	if want := []string{"500", "400", "320"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("rate commands = %v, want %v (from the measured 400/s, ×1.25 then ÷1.25 twice)", got, want)
	}
	send(m, engine.EvRate, "backfill", map[string]any{"rate": 320}, at(122))
	if v := plainView(m); !strings.Contains(v, "max write rate 320 items/s (set by operator)") {
		t.Errorf("the journaled rate is not in the progress block:\n%s", v)
	}
}
