package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// auditScenarios are the screens of the operator audit, pinned as goldens
// (TestAuditGolden) and checked at awkward sizes (TestAuditViewSizes).
var auditScenarios = []struct {
	name  string
	env   string
	setup func(m *Model)
}{
	{"destructive_prompt", "production", func(m *Model) {
		finish(m, "size", "snapshot", "drill", "go-no-go", "strategy", "deploy-reader", "dump", "backfill", "all-done")
		openPrompt(m, engine.Prompt{Kind: engine.PromptDestructive, Step: "drop-address",
			Title: "drop-address is destructive: run it?", Key: "drop-address.confirm"})
		press(nil, m, "type:drop-")
	}},
	{"lease_takeover_prompt", "production", func(m *Model) {
		openPrompt(m, engine.Prompt{Kind: engine.PromptReason, Key: "lease_takeover",
			Title: "The migration lease of split-address in production is held by another session: take it over?",
			Text:  "Session 20261124-210000-ffff0000 of carol held the lease; it expired at 2026-11-24T21:30:00Z. Type why taking it over is safe."})
	}},
	{"abort_question", "staging", func(m *Model) {
		finish(m, "size", "snapshot")
		send(m, engine.EvStepStart, "drill", map[string]any{"attempt": 1}, at(30))
		press(nil, m, "a")
	}},
	{"long_checklist", "staging", longChecklist},
	{"stopped_by_step", "staging", func(m *Model) {
		finish(m, "size", "snapshot", "drill", "go-no-go", "strategy", "deploy-reader")
		send(m, engine.EvStepStart, "dump", map[string]any{"attempt": 1}, at(100))
		send(m, engine.EvOutput, "dump", map[string]any{"stream": "stdout", "text": "about to fail"}, at(101))
		send(m, engine.EvOutput, "dump", map[string]any{"stream": "stderr", "text": "err"}, at(101))
		send(m, engine.EvStepEnd, "dump", map[string]any{"status": "failed", "error": "exit status 3: pg_dump could not connect to the primary"}, at(102))
		send(m, engine.EvSessionEnd, "", map[string]any{"outcome": "stopped"}, at(103))
	}},
}

// longChecklist opens a checklist of 30 items with the cursor far down.
func longChecklist(m *Model) {
	items := make([]string, 30)
	for i := range items {
		items[i] = fmt.Sprintf("Item number %d", i+1)
	}
	items[0] = "A checklist item with a very long description that will certainly not fit on one line of the right pane"
	m.byID["deploy-reader"].step.Checklist = items
	finish(m, "size", "snapshot", "drill", "go-no-go", "strategy")
	send(m, engine.EvStepStart, "deploy-reader", map[string]any{"attempt": 1}, at(70))
	openPrompt(m, engine.Prompt{Kind: engine.PromptChecklist, Step: "deploy-reader", Title: "deploy-reader", Checklist: items})
	press(nil, m, "space")
	for range 24 {
		press(nil, m, "down")
	}
	press(nil, m, "enter") // items left: the error must show
}

func TestAuditGolden(t *testing.T) {
	for _, sc := range auditScenarios {
		for _, size := range [][2]int{{80, 24}, {120, 40}} {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				m, _ := newTestModel(t, sc.env, size[0], size[1])
				sc.setup(m)
				got := plainView(m)
				checkSize(t, got, size[0], size[1])
				golden(t, got)
			})
		}
	}
}

func TestAuditViewSizes(t *testing.T) {
	for _, sc := range auditScenarios {
		for _, size := range [][2]int{{40, 10}, {60, 15}, {80, 24}, {200, 60}} {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				m, _ := newTestModel(t, sc.env, size[0], size[1])
				sc.setup(m)
				checkSize(t, plainView(m), size[0], size[1])
			})
		}
	}
}

// joined is the step pane's text with its lines joined by spaces, so a
// phrase wrapped over two lines still reads whole (and a cut one "…" does
// not).
func joined(m *Model) string {
	var parts []string
	for _, l := range strings.Split(plainView(m), "\n") {
		if _, r, ok := strings.Cut(l, "│"); ok {
			parts = append(parts, strings.TrimSpace(r))
		}
	}
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}

// TestKeyGuard: a key pressed within the guard after a prompt opens (the
// bounce of the enter that answered the one before) is dropped; the
// prompt takes keys once the guard has passed, and the footer says so.
func TestKeyGuard(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	now := t0
	m.now = func() time.Time { return now }
	m.guard = 300 * time.Millisecond
	manual := openPrompt(m, engine.Prompt{Kind: engine.PromptManual, Step: "deploy-reader"})
	now = now.Add(350 * time.Millisecond)
	press(t, m, "enter")
	replyOf(t, manual)
	now = now.Add(5 * time.Millisecond)
	destructive := openPrompt(m, engine.Prompt{Kind: engine.PromptDestructive, Step: "drop-address"})
	if f := strings.Join(m.footer(), ""); !strings.Contains(f, "keys wait a moment") {
		t.Errorf("footer during the guard = %q, want it to say keys wait", f)
	}
	now = now.Add(40 * time.Millisecond)
	press(t, m, "enter", "type:drop-address", "enter") // all within the guard
	noReply(t, destructive)
	if got := m.prompt.inputs[0].Value(); got != "" {
		t.Errorf("the field took %q during the guard", got)
	}
	now = now.Add(300 * time.Millisecond)
	press(t, m, "type:drop-address", "enter")
	if r := replyOf(t, destructive); !r.Answer.Confirm {
		t.Errorf("answer = %+v, want Confirm", r.Answer)
	}
}

// TestOutputEventsAreWholeLines: the engine sends each chunk of output as
// whole lines with no trailing newline; two events are two lines, never
// one glued line.
func TestOutputEventsAreWholeLines(t *testing.T) {
	m, _ := newTestModel(t, "staging", 100, 30)
	send(m, engine.EvStepStart, "dump", map[string]any{"attempt": 1}, at(1))
	for i := 1; i <= 3; i++ {
		send(m, engine.EvOutput, "dump", map[string]any{"stream": "stdout", "text": fmt.Sprintf("tick %d", i)}, at(1))
	}
	send(m, engine.EvOutput, "dump", map[string]any{"stream": "stdout", "text": "about to fail"}, at(2))
	send(m, engine.EvOutput, "dump", map[string]any{"stream": "stderr", "text": "err\nsecond line"}, at(2))
	v := plainView(m)
	if strings.Contains(v, "tick 1tick") || strings.Contains(v, "failerr") {
		t.Fatalf("output lines are glued:\n%s", v)
	}
	if got := m.out.Len(); got != 6 {
		t.Errorf("output lines = %d, want 6\n%s", got, v)
	}
	if !strings.Contains(v, "output · 6 lines") {
		t.Errorf("the output label does not count 6 lines:\n%s", v)
	}
}

// TestEscLeavesTextField: at a prompt with a text field, esc leaves the
// field so the session keys act again: abort, roll back, pause, note,
// quit; tab goes back to the field, where letters are typed again.
func TestEscLeavesTextField(t *testing.T) {
	prompts := map[string]engine.Prompt{
		"decision":    {Kind: engine.PromptDecision, Step: "strategy", Choices: []string{"big-bang", "multi-step"}},
		"approval":    {Kind: engine.PromptApproval, Step: "go-no-go", Role: "accountable", Holders: []string{"bob"}},
		"confirm env": {Kind: engine.PromptConfirmEnv, Expect: "production"},
		"reason":      {Kind: engine.PromptReason, Title: "runbook differs from its rehearsal"},
		"destructive": {Kind: engine.PromptDestructive, Step: "drop-address"},
	}
	for name, p := range prompts {
		t.Run(name, func(t *testing.T) {
			m, rec := newTestModel(t, "production", 100, 30)
			reply := openPrompt(m, p)
			press(t, m, "a") // typed
			if m.local != nil {
				t.Fatal("a opened the abort question while typing")
			}
			press(t, m, "esc")
			if m.capturing() {
				t.Fatal("esc did not leave the field")
			}
			if f := plainView(m); !strings.Contains(f, "a abort") && !strings.Contains(f, "? more") {
				t.Errorf("footer after esc lacks the session keys:\n%s", f)
			}
			press(t, m, "p")
			press(t, m, "n", "type:looked at the graphs", "enter")
			press(t, m, "a")
			if m.local == nil || m.local.kind != formAbort {
				t.Fatal("a did not open the abort question after esc")
			}
			press(t, m, "esc", "b")
			if m.local == nil || m.local.kind != formRollback {
				t.Fatal("b did not open the rollback question after esc")
			}
			press(t, m, "esc", "tab", "type:x")
			if !m.capturing() {
				t.Error("tab did not go back to the field")
			}
			var kinds []string
			for _, c := range rec.Commands() {
				kinds = append(kinds, string(c.Kind))
			}
			if got := strings.Join(kinds, ","); got != "pause,note" {
				t.Errorf("commands = %s, want pause,note", got)
			}
			press(t, m, "esc", "q")
			if r := replyOf(t, reply); !errors.Is(r.Err, engine.ErrQuit) || !m.Quitting() {
				t.Errorf("q after esc: reply %+v quitting %v, want ErrQuit", r, m.Quitting())
			}
		})
	}
}

// TestEnginePromptText: an engine prompt's explanation shows, and its long
// title wraps instead of being cut.
func TestEnginePromptText(t *testing.T) {
	m, _ := newTestModel(t, "production", 80, 24)
	auditScenarios[1].setup(m)
	got := joined(m)
	for _, want := range []string{
		"held by another session: take it over?",
		"Session 20261124-210000-ffff0000 of carol held the lease; it expired at 2026-11-24T21:30:00Z.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("step pane lacks %q:\n%s", want, plainView(m))
		}
	}
}

// TestPromptsWrapAt80x24: what the operator confirms is wrapped, never cut.
func TestPromptsWrapAt80x24(t *testing.T) {
	tests := []struct {
		name  string
		setup func(m *Model)
		want  []string
	}{
		{"abort question", auditScenarios[2].setup, []string{
			"In-flight writes finish and progress is checkpointed. enter aborts, esc goes back."}},
		{"destructive", auditScenarios[0].setup, []string{
			"This step is destructive. Type drop-address to run it; esc, then s, skips it (with a reason)."}},
		{"long checklist item", func(m *Model) {
			longChecklist(m)
			press(nil, m, "up", "up", "up", "up", "up", "up", "up", "up", "up", "up", "up", "up",
				"up", "up", "up", "up", "up", "up", "up", "up", "up", "up", "up", "up")
		}, []string{"will certainly not fit on one line of the right pane"}},
		{"end summary", auditScenarios[4].setup, []string{
			"Steps 6 done · 0 skipped · 1 failed · 3 pending",
			"Resume with: lockstep resume 20261124-220500-abcd1234",
			"dump failed: exit status 3: pg_dump could not connect to the primary"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newTestModel(t, "staging", 80, 24)
			tt.setup(m)
			got := joined(m)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("step pane lacks %q:\n%s", w, plainView(m))
				}
			}
		})
	}
}

// TestResumeCommandOnOneLine: the command the operator copies to resume
// is never split over lines at 80×24.
func TestResumeCommandOnOneLine(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	auditScenarios[4].setup(m)
	if !strings.Contains(plainView(m), "lockstep resume 20261124-220500-abcd1234") {
		t.Errorf("the resume command is split over lines:\n%s", plainView(m))
	}
}

// TestLongChecklistKeepsCursorAndError: a checklist taller than the pane
// shows the items around the cursor, and the error line.
func TestLongChecklistKeepsCursorAndError(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	longChecklist(m)
	v := plainView(m)
	for _, want := range []string{"› [ ] Item number 26", "29 item(s) left to tick", "more"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
}

// TestDecisionFieldAtSmallHeight: the rationale field of a decision with
// many choices stays in view on a short terminal.
func TestDecisionFieldAtSmallHeight(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 15)
	choices := make([]string, 12)
	for i := range choices {
		choices[i] = fmt.Sprintf("choice %d", i+1)
	}
	openPrompt(m, engine.Prompt{Kind: engine.PromptDecision, Step: "strategy", Choices: choices})
	press(t, m, "down", "down", "down", "down", "down", "down", "down", "down", "enter")
	v := plainView(m)
	for _, want := range []string{"rationale:", "› choice 9", "a rationale is required"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
}

// TestFailedRollbackAsksReason: "roll back completed steps" from the
// failed-step menu asks why, as b does; the reason reaches the engine.
func TestFailedRollbackAsksReason(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	reply := openPrompt(m, engine.Prompt{Kind: engine.PromptFailed, Step: "dump"})
	press(t, m, "down", "down", "enter")
	noReply(t, reply)
	press(t, m, "enter")
	noReply(t, reply)
	press(t, m, "type:bad rows in the dump", "enter")
	r := replyOf(t, reply)
	if r.Answer.Action != engine.ActionRollback || r.Answer.Reason != "bad rows in the dump" {
		t.Errorf("answer = %+v, want a rollback with its reason", r.Answer)
	}
}

// TestQuitWhileRunningAsks: q while a step runs (no prompt) asks first and
// names what happens; esc goes back; enter quits and records the step for
// the journal.
func TestQuitWhileRunningAsks(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	send(m, engine.EvStepStart, "dump", map[string]any{"attempt": 1}, at(1))
	press(t, m, "q")
	if m.Quitting() {
		t.Fatal("q quit at once while a shell step runs")
	}
	if got := joined(m); !strings.Contains(got, "a running shell step will be killed") &&
		!strings.Contains(got, "A running shell step will be killed; the session stays resumable") {
		t.Errorf("the question does not say the step is killed:\n%s", plainView(m))
	}
	press(t, m, "esc")
	if m.local != nil || m.Quitting() {
		t.Fatal("esc did not go back")
	}
	_, cmd := m.Update(keyMsg("q"))
	runCmd(m, cmd)
	_, cmd = m.Update(keyMsg("enter"))
	if cmd == nil || !m.Quitting() || m.quitWhile != "dump" {
		t.Errorf("enter: quitting %v quitWhile %q, want quit while dump ran", m.Quitting(), m.quitWhile)
	}
}

// TestRollbackProgressAndNotice: a rollback migrate shows its progress
// and "rolling back"; a pause keeps the rolling-back notice.
func TestRollbackProgressAndNotice(t *testing.T) {
	m, _ := newTestModel(t, "staging", 100, 30)
	finish(m, "size", "snapshot", "drill", "go-no-go", "strategy", "deploy-reader", "dump", "backfill")
	send(m, engine.EvRollbackStart, "", map[string]any{}, at(200))
	id := "backfill" + engine.RollbackSuffix
	send(m, engine.EvStepStart, id, map[string]any{"attempt": 1}, at(201))
	send(m, engine.EvProgress, id, map[string]any{"done": 300, "total": 1000, "rate": 100, "eta_ms": 7000}, at(202))
	send(m, engine.EvPause, id, map[string]any{}, at(203))
	v := plainView(m)
	for _, want := range []string{"backfill · migrate · rolling back", "300/1,000 items", "rolling back backfill"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
}

// TestQuitWhileHeldQuitsAtOnce: a paused session that holds has nothing
// running to stop: q quits without asking.
func TestQuitWhileHeldQuitsAtOnce(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	send(m, engine.EvStepStart, "backfill", map[string]any{"attempt": 1}, at(1))
	send(m, engine.EvPause, "backfill", map[string]any{}, at(2))
	press(t, m, "q")
	if !m.Quitting() || m.local != nil {
		t.Errorf("q while held: quitting %v, question %v; want an immediate quit", m.Quitting(), m.local != nil)
	}
}
