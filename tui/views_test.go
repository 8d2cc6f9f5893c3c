package tui

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// scenarios build the screens the golden tests pin down.
var scenarios = []struct {
	name  string
	env   string
	setup func(m *Model)
}{
	{"initial", "staging", func(m *Model) {}},
	{"running_shell_output", "staging", func(m *Model) {
		finish(m, "size", "snapshot", "drill", "go-no-go", "strategy", "deploy-reader")
		send(m, engine.EvStepStart, "dump", map[string]any{"attempt": 1}, at(100))
		for i := range 60 {
			stream := "stdout"
			if i%20 == 19 {
				stream = "stderr"
			}
			send(m, engine.EvOutput, "dump", map[string]any{"stream": stream, "text": fmt.Sprintf("dumped batch %03d: 1000 rows\tok\n", i)}, at(101))
		}
	}},
	{"decision_prompt", "staging", func(m *Model) {
		finish(m, "size", "snapshot", "drill", "go-no-go")
		send(m, engine.EvStepStart, "strategy", map[string]any{"attempt": 1}, at(60))
		openPrompt(m, engine.Prompt{Kind: engine.PromptDecision, Step: "strategy", Title: "strategy: pick one",
			Choices: []string{"big-bang", "multi-step"}, Key: "strategy.choice"})
		press(nil, m, "down", "type:old and new shapes stay valid")
	}},
	{"approval_prompt", "staging", func(m *Model) {
		finish(m, "size", "snapshot", "drill")
		send(m, engine.EvStepStart, "go-no-go", map[string]any{"attempt": 1}, at(40))
		openPrompt(m, engine.Prompt{Kind: engine.PromptApproval, Step: "go-no-go", Title: "go-no-go: approval by accountable",
			Role: "accountable", Holders: []string{"bob"}, Key: "go-no-go.approve"})
		press(nil, m, "type:bob")
	}},
	{"confirm_env_prompt", "production", func(m *Model) {
		openPrompt(m, engine.Prompt{Kind: engine.PromptConfirmEnv, Title: "production is protected: type its name to continue",
			Text: "Runbook **split-address** will run in **live** mode.", Expect: "production", Key: "confirm_env"})
		press(nil, m, "type:prod")
	}},
	{"migrate_progress", "production", func(m *Model) {
		finish(m, "size", "snapshot", "drill", "go-no-go", "strategy", "deploy-reader", "dump")
		send(m, engine.EvStepStart, "backfill", map[string]any{"attempt": 1}, at(120))
		for i := range 40 {
			send(m, engine.EvProgress, "backfill", map[string]any{"done": 1000 * (i + 1), "total": 120000,
				"scanned": 1100 * (i + 1), "conflicts": i / 10, "throttles": i / 5,
				"rate": 400 + float64((i*37)%300), "eta_ms": 95000}, at(121))
		}
	}},
	{"fleet_progress", "production", func(m *Model) {
		finish(m, "size", "snapshot", "drill", "go-no-go", "strategy", "deploy-reader", "dump")
		send(m, engine.EvStepStart, "backfill", map[string]any{"attempt": 1}, at(120))
		for i := range 40 {
			send(m, engine.EvProgress, "backfill", map[string]any{"done": 1000 * (i + 1), "total": 120000,
				"scanned": 1100 * (i + 1), "conflicts": i / 10, "throttles": i / 5,
				"rate": 400 + float64((i*37)%300), "eta_ms": 95000,
				"segments": 1024, "segments_done": 10 * i, "segments_claimed": 32, "segments_left": 1024 - 32 - 10*i,
				"workers_alive": 31}, at(121))
		}
	}},
	{"step_gate", "staging", func(m *Model) {
		finish(m, "size", "snapshot", "drill", "go-no-go", "strategy", "deploy-reader", "dump")
		openPrompt(m, engine.Prompt{Kind: engine.PromptStep, Step: "backfill", Title: "run backfill (migrate)?",
			Text: "Copy the address parts into the new attributes.", Key: "backfill.run"})
	}},
	{"rate_changed", "production", func(m *Model) {
		finish(m, "size", "snapshot", "drill", "go-no-go", "strategy", "deploy-reader", "dump")
		send(m, engine.EvStepStart, "backfill", map[string]any{"attempt": 1}, at(120))
		for i := range 10 {
			send(m, engine.EvProgress, "backfill", map[string]any{"done": 1000 * (i + 1), "total": 120000,
				"scanned": 1000 * (i + 1), "rate": 400, "write_rate": 398, "write_limit": 400, "eta_ms": 95000}, at(121))
		}
		send(m, engine.EvRate, "backfill", map[string]any{"rate": 320}, at(122))
	}},
	{"backup_progress", "staging", func(m *Model) {
		finish(m, "size")
		send(m, engine.EvStepStart, "snapshot", map[string]any{"attempt": 1}, at(10))
		send(m, engine.EvOutput, "snapshot", map[string]any{"stream": "stdout", "text": "exporting users (about 120000 items) to backups/s1-snapshot\n"}, at(10))
		for i := range 12 {
			send(m, engine.EvProgress, "snapshot", map[string]any{"done": 5000 * (i + 1), "total": 120000,
				"scanned": 5000 * (i + 1), "rate": 2000, "eta_ms": (120000 - 5000*(i+1)) / 2}, at(10+2.5*float64(i+1)))
		}
	}},
	{"failed_step_prompt", "staging", func(m *Model) {
		finish(m, "size", "snapshot", "drill", "go-no-go", "strategy", "deploy-reader")
		send(m, engine.EvStepStart, "dump", map[string]any{"attempt": 1}, at(100))
		send(m, engine.EvOutput, "dump", map[string]any{"stream": "stderr", "text": "pg_dump: connection refused\n"}, at(101))
		send(m, engine.EvStepEnd, "dump", map[string]any{"status": "failed", "error": "exit status 1"}, at(102))
		openPrompt(m, engine.Prompt{Kind: engine.PromptFailed, Step: "dump", Title: "dump failed: exit status 1"})
	}},
	{"completed", "staging", func(m *Model) {
		finish(m, "size", "snapshot", "drill", "go-no-go", "strategy", "deploy-reader", "dump")
		send(m, engine.EvStepStart, "backfill", map[string]any{"attempt": 1}, at(120))
		send(m, engine.EvOutput, "backfill", map[string]any{"stream": "stdout", "text": "segment 0 done\n"}, at(150))
		send(m, engine.EvStepEnd, "backfill", map[string]any{"status": "done",
			"result": map[string]any{"migrated": 119500, "conflicts": 3, "scanned": 120000}}, at(180))
		finish(m, "all-done")
		send(m, engine.EvStepSkip, "drop-address", map[string]any{"reason": "keep address one more week"}, at(200))
		send(m, engine.EvSessionEnd, "", map[string]any{"outcome": "completed"}, at(201))
	}},
	{"checklist_prompt", "staging", func(m *Model) {
		finish(m, "size", "snapshot", "drill", "go-no-go", "strategy")
		send(m, engine.EvStepStart, "deploy-reader", map[string]any{"attempt": 1}, at(70))
		openPrompt(m, engine.Prompt{Kind: engine.PromptChecklist, Step: "deploy-reader", Title: "deploy-reader",
			Checklist: []string{"Deployed to all regions", "Error rate normal"}, Key: "deploy-reader.check"})
		press(nil, m, "space")
	}},
	{"resumed_checklist", "staging", resumedChecklist},
	{"step_result", "staging", func(m *Model) {
		finish(m, "size")
		send(m, engine.EvStepStart, "snapshot", map[string]any{"attempt": 1}, at(20))
		send(m, engine.EvStepEnd, "snapshot", map[string]any{"status": "done", "result": json.RawMessage(
			`{"items":16587500,"bytes":16587500,"gzip_bytes":2123456,"elapsed_ms":335000,"rate":49441.4,"path":"backups/users.jsonl.gz"}`)}, at(355))
	}},
	{"pausing_shell", "staging", func(m *Model) {
		finish(m, "size", "snapshot", "drill", "go-no-go", "strategy", "deploy-reader")
		send(m, engine.EvStepStart, "dump", map[string]any{"attempt": 1}, at(100))
		send(m, engine.EvOutput, "dump", map[string]any{"stream": "stdout", "text": "dumping users\n"}, at(101))
		press(nil, m, "p")
		send(m, engine.EvPause, "dump", map[string]any{}, at(102))
	}},
}

// resumedChecklist is a session quit at the deploy-reader checklist with
// one item ticked, resumed three hours after it started: the model gets
// the replayed state, then the events of the resumed run.
func resumedChecklist(m *Model) {
	var evs []engine.Event
	add := func(kind engine.EventKind, step string, data any, when time.Time) {
		ev := eventtest.Raw(kind, step, data)
		ev.Time = when
		evs = append(evs, ev)
	}
	for i, id := range []string{"size", "snapshot", "drill", "go-no-go", "strategy"} {
		add(engine.EvStepStart, id, map[string]any{"attempt": 1}, at(float64(10*i)))
		add(engine.EvStepEnd, id, map[string]any{"status": "done"}, at(float64(10*i)+1.5))
	}
	add(engine.EvStepStart, "deploy-reader", map[string]any{"attempt": 1}, at(70))
	add(engine.EvCheck, "deploy-reader", map[string]any{"index": 0, "item": "Deployed to all regions"}, at(80))
	add(engine.EvStepEnd, "deploy-reader", map[string]any{"status": "interrupted"}, at(80))
	add(engine.EvSessionEnd, "", map[string]any{"outcome": "stopped"}, at(81))
	rb := testRunbook()
	m.Update(sessionReadyMsg{rb: rb, state: *engine.Replay(rb, m.info, evs), ctrl: m.ctrl})

	resumed := t0.Add(3 * time.Hour)
	m.now = func() time.Time { return resumed.Add(2*time.Minute + 10*time.Second) }
	send(m, engine.EvSessionResume, "", map[string]any{"operator": "alice"}, resumed)
	send(m, engine.EvInterrupted, "deploy-reader", map[string]any{"kind": "manual"}, resumed)
	send(m, engine.EvStepRetry, "deploy-reader", map[string]any{"reason": "interrupted: manual steps are safe to re-run"}, resumed)
	send(m, engine.EvStepStart, "deploy-reader", map[string]any{"attempt": 2, "resumed": true}, resumed)
	openPrompt(m, engine.Prompt{Kind: engine.PromptChecklist, Step: "deploy-reader", Title: "deploy-reader",
		Checklist: []string{"Deployed to all regions", "Error rate normal"}, Key: "deploy-reader.check"})
}

func TestGolden(t *testing.T) {
	for _, sc := range scenarios {
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

// TestViewSizes renders every scenario at awkward sizes: never more lines
// than the terminal, never a line wider than it.
func TestViewSizes(t *testing.T) {
	for _, sc := range scenarios {
		for _, size := range [][2]int{{40, 10}, {60, 15}, {80, 24}, {100, 30}, {200, 60}} {
			m, _ := newTestModel(t, sc.env, size[0], size[1])
			sc.setup(m)
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				checkSize(t, plainView(m), size[0], size[1])
			})
		}
	}
}

func TestViewContents(t *testing.T) {
	tests := []struct {
		scenario string
		want     []string
	}{
		{"initial", []string{"Split users.address", "staging", "LIVE", "alice", "0:12:34", "○ size", "ESTIMATE"}},
		{"confirm_env_prompt", []string{"⚠ production", "Type the environment name production"}},
		{"migrate_progress", []string{"40,000/120,000 items", "conflicts 3", "throttles 7", "ETA 1m35s", "rate ▅"}},
		{"fleet_progress", []string{"workers 31 alive · segments 390 done · 32 claimed · 602 left", "conflicts 3"}},
		{"failed_step_prompt", []string{"✗ dump", "retry the step", "roll back completed steps", "error: exit status 1"}},
		{"completed", []string{"✓ Session completed", "↷ drop-address", "Press any key",
			"9 done · 1 skipped · 0 failed", "Duration 0:03:21", "backfill: 119,500 migrated · 3 conflicts"}},
		{"checklist_prompt", []string{"▶ Tick each item, then enter", "› [ ] Error rate normal", "[✓] Deployed to all regions"}},
		{"step_result", []string{"items       16,587,500", "bytes       15.8 MiB", "gzip bytes  2.0 MiB",
			"elapsed     5m35s", "rate        49,441.4/s"}},
		{"pausing_shell", []string{"pausing after dump…", "dumping users"}},
		{"resumed_checklist", []string{"alice · this run 0:02:10 · total ⏱ 3:02:10", "[✓] Deployed to all regions",
			"› [ ] Error rate normal"}},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			for _, sc := range scenarios {
				if sc.name != tt.scenario {
					continue
				}
				m, _ := newTestModel(t, sc.env, 120, 40)
				sc.setup(m)
				got := plainView(m)
				for _, w := range tt.want {
					if !strings.Contains(got, w) {
						t.Errorf("view lacks %q:\n%s", w, got)
					}
				}
			}
		})
	}
}

// TestFinalViewGolden pins what stays on the main screen once the UI is
// gone: the last screen without key help, then the outcome line.
func TestFinalViewGolden(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		outcome  engine.Outcome
		want     string
	}{
		{"completed", engine.OutcomeCompleted, "✓ Session 20261124-220500-abcd1234 completed in 0:03:21: 9 done · 1 skipped · 0 failed"},
		{"pausing_shell", engine.OutcomeStopped, "⏸ Session 20261124-220500-abcd1234 stopped in 0:12:34 (resumable)"},
	} {
		for _, size := range [][2]int{{80, 24}, {120, 40}} {
			t.Run(fmt.Sprintf("%s_%dx%d", tc.scenario, size[0], size[1]), func(t *testing.T) {
				m, _ := newTestModel(t, "staging", size[0], size[1])
				for _, sc := range scenarios {
					if sc.name == tc.scenario {
						sc.setup(m)
					}
				}
				got := ansi.Strip(m.finalView(tc.outcome, "20261124-220500-abcd1234", nil))
				if !strings.Contains(got, tc.want) {
					t.Errorf("final view lacks %q:\n%s", tc.want, got)
				}
				for _, gone := range []string{"Press any key", "q quit", "any key exit"} {
					if strings.Contains(got, gone) {
						t.Errorf("final view still shows %q:\n%s", gone, got)
					}
				}
				golden(t, got)
			})
		}
	}
}
