package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/lockstep-run/lockstep/engine"
)

// TestChecklistSkipAndQuitSendTicks: a skip or a quit answers a checklist
// with the items ticked so far, for the engine to journal.
func TestChecklistSkipAndQuitSendTicks(t *testing.T) {
	items := []string{"Plan read", "Team on call", "Dashboards open"}
	t.Run("skip", func(t *testing.T) {
		m, _ := newTestModel(t, "staging", 80, 24)
		reply := openPrompt(m, engine.Prompt{Kind: engine.PromptChecklist, Step: "deploy-reader", Checklist: items})
		press(t, m, "down", "down", "space", "up", "up", "space", "s", "type:nobody on call", "enter")
		r := replyOf(t, reply)
		if r.Answer.Action != engine.ActionSkip || r.Answer.Reason != "nobody on call" {
			t.Errorf("answer = %+v, want a skip with its reason", r.Answer)
		}
		if got, want := r.Answer.Checked, []int{2, 0}; !slices.Equal(got, want) {
			t.Errorf("Checked = %v, want %v (tick order)", got, want)
		}
	})
	t.Run("quit", func(t *testing.T) {
		m, _ := newTestModel(t, "staging", 80, 24)
		reply := openPrompt(m, engine.Prompt{Kind: engine.PromptChecklist, Step: "deploy-reader", Checklist: items})
		press(t, m, "space", "q")
		r := replyOf(t, reply)
		if !errors.Is(r.Err, engine.ErrQuit) || !slices.Equal(r.Answer.Checked, []int{0}) {
			t.Errorf("reply = %+v, want ErrQuit with Checked [0]", r)
		}
	})
	t.Run("skip of a manual step", func(t *testing.T) {
		m, _ := newTestModel(t, "staging", 80, 24)
		reply := openPrompt(m, engine.Prompt{Kind: engine.PromptManual, Step: "deploy-reader"})
		press(t, m, "s", "type:done by hand", "enter")
		if r := replyOf(t, reply); r.Answer.Checked != nil {
			t.Errorf("Checked = %v, want none", r.Answer.Checked)
		}
	})
}

// TestFooterKeepsQuitAndHelp: at 80 columns, on every screen, the one-line
// footer offers the prompt's own keys, quit and "? more" (ctrl+c while a
// field takes the typing); p/a/b/n come after, as space allows.
func TestFooterKeepsQuitAndHelp(t *testing.T) {
	checklist := []string{"Deployed to all regions", "Error rate normal"}
	tests := []struct {
		name   string
		setup  func(m *Model)
		want   []string
		typing bool
	}{
		{"no prompt", func(m *Model) {}, []string{"p pause"}, false},
		{"checklist", func(m *Model) {
			openPrompt(m, engine.Prompt{Kind: engine.PromptChecklist, Step: "deploy-reader", Checklist: checklist})
		}, []string{"space tick", "enter confirm", "s skip"}, false},
		{"checklist skip reason", func(m *Model) {
			openPrompt(m, engine.Prompt{Kind: engine.PromptChecklist, Step: "deploy-reader", Checklist: checklist})
			press(nil, m, "s")
		}, []string{"enter confirm", "esc back"}, true},
		{"manual", func(m *Model) { openPrompt(m, engine.Prompt{Kind: engine.PromptManual, Step: "deploy-reader"}) },
			[]string{"enter confirm", "s skip"}, false},
		{"destructive", func(m *Model) {
			openPrompt(m, engine.Prompt{Kind: engine.PromptDestructive, Step: "drop-address"})
		}, []string{"enter confirm", "esc leave field"}, true},
		{"destructive, field left", func(m *Model) {
			openPrompt(m, engine.Prompt{Kind: engine.PromptDestructive, Step: "drop-address"})
			press(nil, m, "esc")
		}, []string{"tab type", "s skip", "p pause", "a abort", "b roll back", "n note"}, false},
		{"decision, field left", func(m *Model) {
			openPrompt(m, engine.Prompt{Kind: engine.PromptDecision, Step: "strategy", Choices: []string{"a", "b"}})
			press(nil, m, "esc")
		}, []string{"tab type", "p pause", "a abort", "b roll back", "n note"}, false},
		{"interrupted", func(m *Model) { openPrompt(m, engine.Prompt{Kind: engine.PromptInterrupted, Step: "dump"}) },
			[]string{"↑/↓ choose", "enter confirm", "r retry", "d mark done", "s skip"}, false},
		{"failed", func(m *Model) { openPrompt(m, engine.Prompt{Kind: engine.PromptFailed, Step: "dump"}) },
			[]string{"↑/↓ choose", "enter confirm", "r retry", "s skip"}, false},
		{"decision", func(m *Model) {
			openPrompt(m, engine.Prompt{Kind: engine.PromptDecision, Step: "strategy", Choices: []string{"a", "b"}})
		}, []string{"↑/↓ choose", "enter confirm", "esc leave field"}, true},
		{"approval", func(m *Model) {
			openPrompt(m, engine.Prompt{Kind: engine.PromptApproval, Step: "go-no-go", Role: "accountable"})
		}, []string{"tab next field", "enter confirm", "esc leave field"}, true},
		{"abort question", func(m *Model) { press(nil, m, "a") }, []string{"enter confirm", "esc back"}, false},
		{"note", func(m *Model) { press(nil, m, "n") }, []string{"enter confirm", "esc back"}, true},
		{"paused", func(m *Model) { send(m, engine.EvPause, "", map[string]any{}, at(5)) }, []string{"p resume"}, false},
	}
	for _, tt := range tests {
		for _, w := range []int{80, 100} {
			t.Run(fmt.Sprintf("%s_%d", tt.name, w), func(t *testing.T) {
				m, _ := newTestModel(t, "staging", w, 24)
				tt.setup(m)
				footer := m.footer()
				if len(footer) != 1 {
					t.Fatalf("footer = %q, want one line", footer)
				}
				footer[0] = ansi.Strip(footer[0])
				want := append([]string{"q quit", "? more"}, tt.want...)
				if tt.typing {
					want = append([]string{"ctrl+c quit"}, tt.want...)
				}
				for _, k := range want {
					if !strings.Contains(footer[0], k) {
						t.Errorf("footer %q lacks %q", footer[0], k)
					}
				}
			})
		}
	}
}

// TestFooterWhileTyping: while a text field has focus, q and ? type into
// it, so the footer offers neither — even when the full help was open
// before the field took focus — and names the keys that still act.
func TestFooterWhileTyping(t *testing.T) {
	tests := []struct {
		name  string
		setup func(m *Model)
		field func(m *Model) string // the focused field's value
		want  []string
	}{
		{"decision rationale", func(m *Model) {
			openPrompt(m, engine.Prompt{Kind: engine.PromptDecision, Step: "strategy", Choices: []string{"a", "b"}})
		}, func(m *Model) string { return m.prompt.inputs[0].Value() }, []string{"enter confirm"}},
		{"skip reason", func(m *Model) {
			openPrompt(m, engine.Prompt{Kind: engine.PromptManual, Step: "deploy-reader"})
			press(nil, m, "s")
		}, func(m *Model) string { return m.prompt.reason.Value() }, []string{"enter confirm", "esc back"}},
		{"help open, then a decision", func(m *Model) {
			press(nil, m, "?")
			openPrompt(m, engine.Prompt{Kind: engine.PromptDecision, Step: "strategy", Choices: []string{"a", "b"}})
		}, func(m *Model) string { return m.prompt.inputs[0].Value() }, []string{"enter confirm"}},
		{"note", func(m *Model) { press(nil, m, "n") },
			func(m *Model) string { return m.local.inputs[0].Value() }, []string{"enter confirm", "esc back"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newTestModel(t, "staging", 100, 24)
			tt.setup(m)
			footer := m.footer()
			if len(footer) != 1 {
				t.Fatalf("footer = %q, want one line", footer)
			}
			line := ansi.Strip(footer[0])
			for _, k := range append(tt.want, "ctrl+c quit") {
				if !strings.Contains(line, k) {
					t.Errorf("footer %q lacks %q", line, k)
				}
			}
			for _, k := range []string{"q quit", "?"} {
				if strings.Contains(line, k) {
					t.Errorf("footer %q offers %q while typing", line, k)
				}
			}
			press(t, m, "type:q?")
			if got := tt.field(m); got != "q?" {
				t.Errorf("field = %q, want q? typed", got)
			}
		})
	}
}

// TestResumedClock: a resumed session shows this run's time and, labelled,
// the total since the session started (which spans the stop), in the
// header and in the summary at the end.
func TestResumedClock(t *testing.T) {
	m, _ := newTestModel(t, "staging", 100, 30)
	header := func() string { return strings.TrimSpace(strings.SplitN(plainView(m), "\n", 2)[0]) }
	if h := header(); !strings.HasSuffix(h, "alice · ⏱ 0:12:34") {
		t.Errorf("fresh session header = %q, want it to end with alice · ⏱ 0:12:34", h)
	}
	resumed := t0.Add(26 * time.Hour)
	m.now = func() time.Time { return resumed.Add(90 * time.Second) }
	send(m, engine.EvSessionResume, "", map[string]any{"operator": "alice"}, resumed)
	if h := header(); !strings.HasSuffix(h, "alice · this run 0:01:30 · total ⏱ 26:01:30") {
		t.Errorf("resumed header = %q, want this run 0:01:30 and total 26:01:30", h)
	}
	send(m, engine.EvSessionEnd, "", map[string]any{"outcome": "completed"}, resumed.Add(time.Minute))
	if v := plainView(m); !strings.Contains(v, "Duration 0:01:00 this run · 26:01:00 total") {
		t.Errorf("summary lacks this run's and the total duration:\n%s", v)
	}
}

// TestFullHelpKeepsResumable: ? lists every key, quit as resumable.
func TestFullHelpKeepsResumable(t *testing.T) {
	m, _ := newTestModel(t, "staging", 120, 40)
	press(t, m, "?")
	full := ansi.Strip(strings.Join(m.footer(), "\n"))
	for _, k := range []string{"quit (resumable)", "p", "pause", "roll back", "note", "fewer keys"} {
		if !strings.Contains(full, k) {
			t.Errorf("full help lacks %q:\n%s", k, full)
		}
	}
}

// TestNoticeClears: "resumed" (and other notices) do not outlive their
// moment: the next step clears them, a passing one also expires.
func TestNoticeClears(t *testing.T) {
	m, _ := newTestModel(t, "staging", 80, 24)
	send(m, engine.EvStepStart, "snapshot", map[string]any{"attempt": 1}, at(1))
	send(m, engine.EvPause, "snapshot", map[string]any{}, at(2))
	send(m, engine.EvResume, "snapshot", map[string]any{}, at(3))
	if !strings.Contains(plainView(m), "resumed") {
		t.Fatalf("no resumed notice:\n%s", plainView(m))
	}
	send(m, engine.EvStepEnd, "snapshot", map[string]any{"status": "done"}, at(4))
	send(m, engine.EvStepStart, "drill", map[string]any{"attempt": 1}, at(5))
	if v := plainView(m); strings.Contains(v, "resumed") {
		t.Errorf("resumed still shown under the next step:\n%s", v)
	}

	send(m, engine.EvNote, "drill", map[string]any{"text": "x"}, at(6))
	if m.notice == "" {
		t.Fatal("no note notice")
	}
	now := m.now()
	m.now = func() time.Time { return now.Add(noticeFor) }
	m.Update(tickMsg(now.Add(noticeFor)))
	if m.notice != "" {
		t.Errorf("notice %q still shown after %s", m.notice, noticeFor)
	}
	send(m, engine.EvWarning, "drill", map[string]any{"message": "slow"}, at(7))
	m.Update(tickMsg(now.Add(time.Hour)))
	if m.notice != "⚠ slow" {
		t.Errorf("notice = %q, want the warning kept until the next step", m.notice)
	}
}

// TestPauseWaitsForTheRunningStep: a pause during a non-migrate step shows
// "pausing after <step>…" until its step.end, then "⏸ PAUSED"; a migrate
// holds at its next batch, so it shows PAUSED at once.
func TestPauseWaitsForTheRunningStep(t *testing.T) {
	header := func(m *Model) string { return strings.SplitN(plainView(m), "\n", 2)[0] }
	m, _ := newTestModel(t, "staging", 100, 30)
	send(m, engine.EvStepStart, "snapshot", map[string]any{"attempt": 1}, at(1))
	press(t, m, "p")
	send(m, engine.EvPause, "snapshot", map[string]any{}, at(2))
	if h := header(m); !strings.Contains(h, "pausing after snapshot…") || strings.Contains(h, "PAUSED") {
		t.Errorf("header while snapshot runs = %q, want pausing after snapshot…", h)
	}
	if g := m.glyph(engine.StepRunning); g == m.st.Warn.Render("⏸") {
		t.Errorf("the running step shows ⏸ while it still runs")
	}
	send(m, engine.EvStepEnd, "snapshot", map[string]any{"status": "done"}, at(3))
	if h := header(m); !strings.Contains(h, "⏸ PAUSED") || strings.Contains(h, "pausing") {
		t.Errorf("header after snapshot ended = %q, want ⏸ PAUSED", h)
	}
	send(m, engine.EvResume, "", map[string]any{}, at(4))
	if h := header(m); strings.Contains(h, "PAUSED") || strings.Contains(h, "pausing") {
		t.Errorf("header after resume = %q", h)
	}

	send(m, engine.EvStepStart, "backfill", map[string]any{"attempt": 1}, at(5))
	send(m, engine.EvPause, "backfill", map[string]any{}, at(6))
	if h := header(m); !strings.Contains(h, "⏸ PAUSED") {
		t.Errorf("header during a migrate = %q, want ⏸ PAUSED at once", h)
	}
}

// TestHeaderKeepsBadges: at 80 columns the title gives way, never the
// environment and mode badges nor the clock.
func TestHeaderKeepsBadges(t *testing.T) {
	m, _ := newTestModel(t, "production", 80, 24)
	m.title = strings.Repeat("A very long runbook title ", 5)
	m.info.Mode = engine.ModeRehearsal
	send(m, engine.EvStepStart, "announce-the-migration-to-everyone", map[string]any{"attempt": 1}, at(1))
	m.paused, m.pausingAfter = true, "a-step-with-a-really-long-identifier-name"
	h := strings.SplitN(plainView(m), "\n", 2)[0]
	for _, want := range []string{"⚠ production", "REHEARSAL", "alice · ⏱ 0:12:34"} {
		if !strings.Contains(h, want) {
			t.Errorf("header %q lacks %q", h, want)
		}
	}
}

// TestPromptTitles: a prompt's title is its question, not the step id the
// pane's first line shows already.
func TestPromptTitles(t *testing.T) {
	tests := []struct {
		p    engine.Prompt
		want string
	}{
		{engine.Prompt{Kind: engine.PromptChecklist, Title: "deploy-reader", Checklist: []string{"a"}}, "▶ Tick each item, then enter"},
		{engine.Prompt{Kind: engine.PromptDecision, Title: "strategy", Choices: []string{"a"}}, "▶ Choose and give a rationale"},
		{engine.Prompt{Kind: engine.PromptApproval, Title: "go-no-go: approval by the accountable role", Role: "accountable"}, "▶ Approval by accountable"},
		{engine.Prompt{Kind: engine.PromptManual, Title: "look"}, "▶ Confirm when done"},
		{engine.Prompt{Kind: engine.PromptFailed, Title: "dump failed: exit status 1"}, "▶ dump failed: exit status 1"},
	}
	st := newStyles(true, true)
	for _, tt := range tests {
		if got := ansi.Strip(newForm(tt.p, &st).View(&st, 0)[0]); got != tt.want {
			t.Errorf("%s title = %q, want %q", tt.p.Kind, got, tt.want)
		}
	}
}

// TestMarkdownInlineCode: inline code keeps the text's own spacing.
func TestMarkdownInlineCode(t *testing.T) {
	for _, dark := range []bool{true, false} {
		st := newStyles(dark, false)
		lines := newMarkdown(0).Render("x", "We split `users.address` (a string) into `city`.", 60, &st)
		got := strings.TrimSpace(plainLines(lines))
		if want := "We split users.address (a string) into city."; got != want {
			t.Errorf("dark=%v: %q, want %q", dark, got, want)
		}
	}
}

func plainLines(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.TrimRight(ansi.Strip(l), " "))
	}
	return b.String()
}
