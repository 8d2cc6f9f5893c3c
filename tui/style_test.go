package tui

import (
	"image/color"
	"os"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// colorSGR matches SGR color parameters (foreground/background, 8/256/true color).
var colorSGR = regexp.MustCompile(`\x1b\[[0-9;]*(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m`)

func TestNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	for _, sc := range scenarios {
		m, _ := newTestModel(t, sc.env, 100, 30)
		sc.setup(m)
		v := m.View().Content
		if loc := colorSGR.FindStringIndex(v); loc != nil {
			t.Errorf("%s: color sequence %q with NO_COLOR set", sc.name, v[loc[0]:min(loc[1]+10, len(v))])
		}
		for _, glyph := range []string{"│"} {
			if !strings.Contains(v, glyph) {
				t.Errorf("%s: glyph %q missing with NO_COLOR", sc.name, glyph)
			}
		}
	}
}

func TestNoColorEnvConvention(t *testing.T) {
	for _, tc := range []struct {
		value string
		set   bool
		want  bool
	}{
		{"", false, false},
		{"", true, false}, // set but empty: colour stays (no-color.org)
		{"1", true, true},
		{"false", true, true}, // any non-empty value disables colour
	} {
		if tc.set {
			t.Setenv("NO_COLOR", tc.value)
		} else {
			t.Setenv("NO_COLOR", "x")
			os.Unsetenv("NO_COLOR")
		}
		if got := noColorEnv(); got != tc.want {
			t.Errorf("NO_COLOR=%q (set %t): noColorEnv()=%t, want %t", tc.value, tc.set, got, tc.want)
		}
	}
}

func TestColorsByDefault(t *testing.T) {
	m, _ := newTestModel(t, "production", 100, 30)
	if !colorSGR.MatchString(m.View().Content) {
		t.Error("no color at all without NO_COLOR")
	}
}

func TestLightBackground(t *testing.T) {
	m, _ := newTestModel(t, "staging", 100, 30)
	dark := m.st.Done.GetForeground()
	m.Update(tea.BackgroundColorMsg{Color: color.White})
	if m.st.isDark {
		t.Fatal("white background taken as dark")
	}
	if m.st.Done.GetForeground() == dark {
		t.Error("light background kept the dark palette")
	}
	m.Update(tea.BackgroundColorMsg{Color: color.Black})
	if !m.st.isDark {
		t.Error("black background taken as light")
	}
}

func TestChecklistShownWithTicks(t *testing.T) {
	m, _ := newTestModel(t, "staging", 100, 30)
	send(m, engine.EvStepStart, "deploy-reader", nil, at(1))
	send(m, engine.EvCheck, "deploy-reader", map[string]any{"index": 1, "item": "Error rate normal"}, at(2))
	v := plainView(m)
	if !strings.Contains(v, "[ ] Deployed to all regions") || !strings.Contains(v, "[✓] Error rate normal") {
		t.Errorf("checklist not shown with its ticks:\n%s", v)
	}
	// a re-ask keeps journaled ticks
	reply := openPrompt(m, engine.Prompt{Kind: engine.PromptChecklist, Step: "deploy-reader",
		Checklist: []string{"Deployed to all regions", "Error rate normal"}, Retry: "1 of 2 items ticked: tick them all"})
	if v := plainView(m); !strings.Contains(v, "1 of 2 items ticked") {
		t.Errorf("Retry not shown:\n%s", v)
	}
	press(t, m, "space", "enter")
	if got := replyOf(t, reply).Answer.Checked; len(got) != 2 {
		t.Errorf("Checked = %v, want both items", got)
	}
}

func TestQueueCoalescesProgress(t *testing.T) {
	q := newQueue()
	for i := range 5 {
		q.push(EventMsg{Event: eventtest.Raw(engine.EvProgress, "backfill", map[string]any{"done": i})})
	}
	q.push(EventMsg{Event: eventtest.Raw(engine.EvOutput, "backfill", nil)})
	q.push(EventMsg{Event: eventtest.Raw(engine.EvProgress, "backfill", map[string]any{"done": 9})})
	got := q.wait()().(queueMsg)
	if len(got) != 3 {
		t.Fatalf("queued %d messages, want 3 (progress coalesced)", len(got))
	}
	d, err := engine.DecodeAs[engine.Progress](got[0].(EventMsg).Event)
	if err != nil {
		t.Fatal(err)
	}
	if d.Done != 4 {
		t.Errorf("kept done=%d, want the newest sample (4)", d.Done)
	}
}
