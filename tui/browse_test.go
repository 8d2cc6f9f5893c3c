package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// journalFixture holds three sessions; the staging one has a full history.
func journalFixture(t *testing.T) *memJournal {
	t.Helper()
	ctx := context.Background()
	j := newMemJournal()
	add := func(id, rb, env string, mode engine.Mode, op string, start time.Time, dur time.Duration, o engine.Outcome) {
		info := engine.SessionInfo{ID: id, Runbook: rb, Title: "Split users.address", Env: env, Mode: mode,
			Operator: op, Started: start, Outcome: o}
		if dur > 0 {
			info.Ended = start.Add(dur)
		}
		if _, err := j.CreateSession(ctx, info); err != nil {
			t.Fatal(err)
		}
	}
	add("20261120-210000-aaaa0001", "split-address", "staging", engine.ModeRehearsal, "alice", t0.Add(-96*time.Hour), 42*time.Minute, engine.OutcomeCompleted)
	add("20261122-220000-bbbb0002", "split-address", "production", engine.ModeLive, "bob", t0.Add(-48*time.Hour), 7*time.Minute, engine.OutcomeStopped)
	add("20261123-090000-cccc0003", "drop-legacy", "staging", engine.ModeDryRun, "carol", t0.Add(-24*time.Hour), 0, engine.OutcomeRunning)
	id := "20261120-210000-aaaa0001"
	evs := []struct {
		kind engine.EventKind
		step string
		data any
		at   float64
	}{
		{engine.EvSessionStart, "", map[string]any{"runbook": "split-address", "env": "staging", "mode": "rehearsal", "operator": "alice"}, 0},
		{engine.EvStepStart, "strategy", map[string]any{"kind": "decision", "attempt": 1}, 1},
		{engine.EvDecision, "strategy", map[string]any{"choice": "multi-step", "reason": "no downtime allowed"}, 30},
		{engine.EvStepEnd, "strategy", map[string]any{"status": "done", "duration_ms": 29000}, 30},
		{engine.EvStepStart, "dump", map[string]any{"kind": "shell", "attempt": 1}, 31},
		{engine.EvOutput, "dump", map[string]any{"stream": "stdout", "text": "dumped 120000 rows\n"}, 40},
		{engine.EvStepEnd, "dump", map[string]any{"status": "done", "duration_ms": 9000,
			"result": map[string]any{"rows": 120000, "bytes": 16587500, "rate": 49441.4}}, 40},
		{engine.EvSessionEnd, "", map[string]any{"outcome": "completed"}, 42 * 60},
	}
	base := t0.Add(-96 * time.Hour)
	for _, e := range evs {
		ev := eventtest.Raw(e.kind, e.step, e.data)
		ev.SessionID, ev.Operator, ev.Time = id, "alice", base.Add(time.Duration(e.at*float64(time.Second)))
		if _, err := j.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

// drive runs b's command (and what it returns) and feeds the messages back.
func drive(b *Browser, cmd tea.Cmd) {
	for _, msg := range runCmdWithin(cmd, 5*time.Second) {
		if msg == quitMsg {
			continue
		}
		_, next := b.Update(msg)
		drive(b, next)
	}
}

func newTestBrowser(t *testing.T, w, h int, dir string) *Browser {
	b := NewBrowser(context.Background(), journalFixture(t), BrowseOptions{Dir: dir})
	b.loc = time.UTC
	b.Update(tea.WindowSizeMsg{Width: w, Height: h})
	drive(b, b.load())
	return b
}

func pressBrowse(b *Browser, keys ...string) {
	for _, k := range keys {
		if text, ok := strings.CutPrefix(k, "type:"); ok {
			for _, r := range text {
				_, cmd := b.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
				drive(b, cmd)
			}
			continue
		}
		_, cmd := b.Update(keyMsg(k))
		drive(b, cmd)
	}
}

func browserView(b *Browser) string { return ansi.Strip(b.View().Content) }

func TestBrowseGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(sizeName(size), func(t *testing.T) {
			b := newTestBrowser(t, size[0], size[1], t.TempDir())
			t.Run("list", func(t *testing.T) {
				v := browserView(b)
				checkSize(t, v, size[0], size[1])
				golden(t, v)
			})
			pressBrowse(b, "down", "down", "enter")
			t.Run("timeline", func(t *testing.T) {
				v := browserView(b)
				checkSize(t, v, size[0], size[1])
				golden(t, v)
			})
		})
	}
}

func sizeName(s [2]int) string { return fmt.Sprintf("%dx%d", s[0], s[1]) }

func TestBrowseFilters(t *testing.T) {
	b := newTestBrowser(t, 120, 30, t.TempDir())
	if got := len(b.shown); got != 3 {
		t.Fatalf("shown = %d, want 3", got)
	}
	pressBrowse(b, "e") // first env in order: production
	if b.env != "production" || len(b.shown) != 1 || b.shown[0].Operator != "bob" {
		t.Errorf("env filter: env=%q shown=%v", b.env, b.shown)
	}
	pressBrowse(b, "e", "e") // staging, then all
	if b.env != "" || len(b.shown) != 3 {
		t.Errorf("env cycle back to all: env=%q shown=%d", b.env, len(b.shown))
	}
	pressBrowse(b, "o")
	if b.outcome != "completed" || len(b.shown) != 1 {
		t.Errorf("outcome filter: %q %d", b.outcome, len(b.shown))
	}
	pressBrowse(b, "o", "o", "o")
	pressBrowse(b, "m")
	if b.mode != "dry-run" || len(b.shown) != 1 {
		t.Errorf("mode filter: %q %d", b.mode, len(b.shown))
	}
	pressBrowse(b, "m", "m", "m")
	pressBrowse(b, "/", "type:drop", "enter")
	if len(b.shown) != 1 || b.shown[0].Runbook != "drop-legacy" {
		t.Errorf("text filter: %v", b.shown)
	}
	pressBrowse(b, "/", "esc")
	if len(b.shown) != 3 {
		t.Errorf("esc did not clear the text filter: %d", len(b.shown))
	}
	pressBrowse(b, "r")
	if b.runbook != "drop-legacy" || len(b.shown) != 1 {
		t.Errorf("runbook filter: %q %d", b.runbook, len(b.shown))
	}
}

// TestBrowseFooterWhileFiltering: while the filter takes the typing, the
// footer names what enter and esc do there, and ctrl+c (q types).
func TestBrowseFooterWhileFiltering(t *testing.T) {
	b := newTestBrowser(t, 100, 30, t.TempDir())
	pressBrowse(b, "/")
	lines := strings.Split(browserView(b), "\n")
	footer := lines[len(lines)-1]
	for _, k := range []string{"enter apply filter", "esc clear filter", "ctrl+c quit"} {
		if !strings.Contains(footer, k) {
			t.Errorf("footer %q lacks %q", footer, k)
		}
	}
	if strings.Contains(footer, "q quit") || strings.Contains(footer, "timeline") {
		t.Errorf("footer %q offers keys that type or do something else while filtering", footer)
	}
	pressBrowse(b, "type:q")
	if got := b.query.Value(); got != "q" {
		t.Errorf("filter = %q, want q typed", got)
	}
}

func TestBrowseTimelineExportAndBack(t *testing.T) {
	dir := t.TempDir()
	b := newTestBrowser(t, 100, 30, dir)
	pressBrowse(b, "down", "down", "enter")
	if b.open != "20261120-210000-aaaa0001" {
		t.Fatalf("open = %q", b.open)
	}
	v := browserView(b)
	for _, want := range []string{"multi-step", "no downtime allowed", "dump"} {
		if !strings.Contains(v, want) {
			t.Errorf("timeline lacks %q:\n%s", want, v)
		}
	}
	pressBrowse(b, "x")
	path := filepath.Join(dir, "20261120-210000-aaaa0001.md")
	if v := browserView(b); !strings.Contains(v, "Export to: "+path) {
		t.Errorf("x does not ask where, offering %s:\n%s", path, v)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("x wrote the export before the operator confirmed its path")
	}
	pressBrowse(b, "enter")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	if !strings.Contains(string(data), "no downtime allowed") {
		t.Errorf("exported markdown lacks the decision reason:\n%s", data)
	}
	if !strings.Contains(browserView(b), "exported to "+path) {
		t.Errorf("status does not say where the export went")
	}
	pressBrowse(b, "esc")
	if b.open != "" {
		t.Error("esc did not go back to the list")
	}
	_, cmd := b.Update(keyMsg("q"))
	if cmd == nil || cmd() != quitMsg {
		t.Error("q did not quit")
	}
}

func TestBrowseExportFromList(t *testing.T) {
	dir := t.TempDir()
	b := newTestBrowser(t, 100, 30, dir)
	pressBrowse(b, "x", "enter") // newest session: no events, still exported
	if _, err := os.Stat(filepath.Join(dir, "20261123-090000-cccc0003.md")); err != nil {
		t.Fatalf("export from the list: %v", err)
	}
}

// TestBrowseTimelineResultTable: a step's result reads as an aligned table
// of counts, sizes and rates, not as a JSON blob wrapped mid-token.
func TestBrowseTimelineResultTable(t *testing.T) {
	b := newTestBrowser(t, 80, 24, t.TempDir())
	pressBrowse(b, "down", "down", "enter")
	content := ansi.Strip(b.vp.GetContent())
	for _, want := range []string{"rows   120,000", "bytes  15.8 MiB", "rate   49,441.4/s"} {
		if !strings.Contains(content, want) {
			t.Errorf("timeline lacks %q:\n%s", want, content)
		}
	}
	if strings.Contains(content, `"rate"`) {
		t.Errorf("timeline shows the raw result JSON:\n%s", content)
	}
}

// TestBrowseExportAsksWhere: x offers a path beside the journal, which
// the operator can change; esc writes nothing; the working directory is
// never written unasked.
func TestBrowseExportAsksWhere(t *testing.T) {
	dir, other, wd := t.TempDir(), t.TempDir(), t.TempDir()
	t.Chdir(wd)
	b := newTestBrowser(t, 100, 30, dir)
	pressBrowse(b, "x", "esc")
	if v := browserView(b); !strings.Contains(v, "export cancelled") {
		t.Errorf("esc did not cancel the export:\n%s", v)
	}
	target := filepath.Join(other, "review.md")
	pressBrowse(b, "x", "ctrl+u", "type:"+target, "enter")
	if _, err := os.Stat(target); err != nil {
		t.Fatalf("export to the typed path: %v", err)
	}
	for _, d := range []string{dir, wd} {
		if entries, _ := os.ReadDir(d); len(entries) != 0 {
			t.Errorf("%s holds %d files, want none: the export goes where the operator said", d, len(entries))
		}
	}
}

// TestBrowseHelpOverlay: ? shows every key of the list and of the
// timeline; any key closes it.
func TestBrowseHelpOverlay(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(sizeName(size), func(t *testing.T) {
			b := newTestBrowser(t, size[0], size[1], t.TempDir())
			pressBrowse(b, "?")
			v := browserView(b)
			checkSize(t, v, size[0], size[1])
			for _, want := range []string{"Keys · session list", "filter by text", "export its timeline", "quit", "environment filter", "outcome filter"} {
				if !strings.Contains(v, want) {
					t.Errorf("help overlay lacks %q:\n%s", want, v)
				}
			}
			golden(t, v)
			pressBrowse(b, "?")
			if b.showHelp {
				t.Error("a key did not close the help overlay")
			}
			pressBrowse(b, "down", "down", "enter", "?")
			if v := browserView(b); !strings.Contains(v, "Keys · timeline") || !strings.Contains(v, "pgup/pgdn") {
				t.Errorf("timeline help overlay:\n%s", v)
			}
		})
	}
}
