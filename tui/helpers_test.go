package tui

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/internal/eventtest"
	"github.com/lockstep-run/lockstep/runbook"
)

// The -update flag rewrites golden files; teatest's golden package may
// have defined it already.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updating() bool { return flag.Lookup("update").Value.String() == "true" }

// t0 is the fixed start of every test session.
var t0 = time.Date(2026, 11, 24, 22, 5, 0, 0, time.UTC)

// testRunbook is the split-address runbook of DESIGN.md, built in code.
func testRunbook() *runbook.Runbook {
	step := func(phase, id string, kind runbook.Kind) *runbook.Step {
		return &runbook.Step{Phase: phase, ID: id, Kind: kind}
	}
	deploy := step("run", "deploy-reader", runbook.KindManual)
	deploy.Text = "Deploy the app version that reads both `address` and `street_name`.\n\nRoll out **region by region**."
	deploy.Checklist = []string{"Deployed to all regions", "Error rate normal"}
	dump := step("run", "dump", runbook.KindShell)
	dump.Text = "Dump the table for the audit trail."
	dump.Shell = &runbook.ShellSpec{Run: "./dump.sh users"}
	backfill := step("run", "backfill", runbook.KindMigrate)
	backfill.Text = "Split `address` into `street_name`, `city`, `postcode`."
	backfill.Migrate = &runbook.MigrateSpec{}
	gonogo := step("communicate", "go-no-go", runbook.KindApproval)
	gonogo.Approval = &runbook.ApprovalSpec{Role: "accountable"}
	strategy := step("communicate", "strategy", runbook.KindDecision)
	strategy.Decision = &runbook.DecisionSpec{Choices: []string{"big-bang", "multi-step"}}
	strategy.Text = "Pick the transition strategy."
	drop := step("cleanup", "drop-address", runbook.KindMigrate)
	drop.Destructive = true
	return &runbook.Runbook{
		Name:  "split-address",
		Title: "Split users.address into street_name, city, postcode",
		Roles: runbook.Roles{Responsible: []string{"alice"}, Accountable: []string{"bob"}},
		Environments: []*runbook.Environment{
			{Name: "staging"},
			{Name: "production", Protected: true},
		},
		Phases: []*runbook.Phase{
			{Name: "estimate", Steps: []*runbook.Step{step("estimate", "size", runbook.KindEstimate)}},
			{Name: "backup", Steps: []*runbook.Step{step("backup", "snapshot", runbook.KindBackup), step("backup", "drill", runbook.KindRestoreDrill)}},
			{Name: "communicate", Steps: []*runbook.Step{gonogo, strategy}},
			{Name: "run", Steps: []*runbook.Step{deploy, dump, backfill}},
			{Name: "verify", Steps: []*runbook.Step{step("verify", "all-done", runbook.KindVerify)}},
			{Name: "cleanup", Steps: []*runbook.Step{drop}},
		},
	}
}

// recorder is a Controller that records the commands it receives.
type recorder struct {
	mu   sync.Mutex
	cmds []engine.Command
}

func (r *recorder) Control(c engine.Command) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cmds = append(r.cmds, c)
}

func (r *recorder) Commands() []engine.Command {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]engine.Command(nil), r.cmds...)
}

// newTestModel builds a model for env at w×h with a fixed clock.
func newTestModel(t testing.TB, env string, w, h int) (*Model, *recorder) {
	t.Helper()
	rec := &recorder{}
	info := engine.SessionInfo{ID: "20261124-220500-abcd1234", Title: "Split users.address into street_name, city, postcode",
		Env: env, Mode: engine.ModeLive, Operator: "alice", Started: t0}
	m := New(testRunbook(), engine.State{Info: info}, rec)
	m.now = func() time.Time { return t0.Add(12*time.Minute + 34*time.Second) }
	m.guard = 0 // keys reach a new prompt at once; TestKeyGuard sets it
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m, rec
}

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// send feeds an event to m.
func send(m *Model, kind engine.EventKind, step string, data any, when time.Time) {
	ev := eventtest.Raw(kind, step, data)
	ev.Time = when
	m.Update(EventMsg{Event: ev})
}

// finish marks steps as started and done, one second each.
func finish(m *Model, ids ...string) {
	for i, id := range ids {
		send(m, engine.EvStepStart, id, map[string]any{"attempt": 1}, at(float64(10*i)))
		send(m, engine.EvStepEnd, id, map[string]any{"status": "done"}, at(float64(10*i)+1.5))
	}
}

// press sends key presses to m ("enter", "space", "a", or literal text with
// type:) and runs the commands they return.
func press(t testing.TB, m *Model, keys ...string) {
	if t != nil {
		t.Helper()
	}
	for _, k := range keys {
		if text, ok := strings.CutPrefix(k, "type:"); ok {
			for _, r := range text {
				runCmd(m.Update(tea.KeyPressMsg{Code: r, Text: string(r)}))
			}
			continue
		}
		runCmd(m.Update(keyMsg(k)))
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// quitMsg is what runCmd reports for tea.Quit.
var quitMsg = tea.Quit()

// runCmd runs cmd and the commands it batches, each for at most 50ms (ticks
// and blinks are left running), and returns the messages they produced.
func runCmd(_ tea.Model, cmd tea.Cmd) []tea.Msg {
	return runCmdWithin(cmd, 50*time.Millisecond)
}

// runCmdWithin is runCmd with a chosen wait: models without timers (the
// browser, the picker) wait long enough for journal reads on a loaded
// machine; the runner keeps a short wait so its ticks are not followed.
func runCmdWithin(cmd tea.Cmd, wait time.Duration) []tea.Msg {
	var out []tea.Msg
	var run func(tea.Cmd)
	run = func(c tea.Cmd) {
		if c == nil {
			return
		}
		ch := make(chan tea.Msg, 1)
		go func() { ch <- c() }()
		select {
		case msg := <-ch:
			if b, ok := msg.(tea.BatchMsg); ok {
				for _, c := range b {
					run(c)
				}
				return
			}
			if msg != nil {
				out = append(out, msg)
			}
		case <-time.After(wait):
		}
	}
	run(cmd)
	return out
}

// plainView is the model's screen without ANSI sequences.
func plainView(m *Model) string { return ansi.Strip(m.View().Content) }

// golden compares got with testdata/<TestName>.golden (-update rewrites it).
func golden(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join("testdata", t.Name()+".golden")
	if updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("view differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// checkSize asserts that view is exactly h lines of at most w cells.
func checkSize(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("view has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if got := ansi.StringWidth(l); got > w {
			t.Errorf("line %d is %d cells wide, want <= %d: %q", i, got, w, l)
		}
	}
}

// openPrompt puts p in play and returns the reply channel.
func openPrompt(m *Model, p engine.Prompt) chan Reply {
	reply := make(chan Reply, 1)
	m.Update(PromptMsg{ID: 1, Prompt: p, Reply: reply})
	return reply
}

// replyOf returns the reply sent on ch, failing if there is none.
func replyOf(t *testing.T, ch chan Reply) Reply {
	t.Helper()
	select {
	case r := <-ch:
		return r
	default:
		t.Fatal("no reply sent")
		return Reply{}
	}
}

func noReply(t *testing.T, ch chan Reply) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("unexpected reply %+v", r)
	default:
	}
}
