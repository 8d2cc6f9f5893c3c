package migrate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/runbook"
)

// reply is one scripted answer (or error) of the table prompter.
type reply struct {
	ans engine.Answer
	err error
}

// tablePrompter answers from a table keyed by "step:kind" (or just "kind"
// for session-level prompts). A key's replies are used in order; the last
// one repeats. No entry → *MissingAnswerError, like the plain front end.
type tablePrompter struct {
	mu      sync.Mutex
	replies map[string][]reply
	asked   []engine.Prompt
	onAsk   func(engine.Prompt) // called before answering
}

func answers(m map[string][]reply) *tablePrompter {
	return &tablePrompter{replies: m}
}

func (p *tablePrompter) Ask(ctx context.Context, pr engine.Prompt) (engine.Answer, error) {
	p.mu.Lock()
	p.asked = append(p.asked, pr)
	onAsk := p.onAsk
	key := pr.Step + ":" + string(pr.Kind)
	rs, ok := p.replies[key]
	if !ok {
		key = string(pr.Kind)
		rs, ok = p.replies[key]
	}
	var r reply
	if ok && len(rs) > 0 {
		r = rs[0]
		if len(rs) > 1 {
			p.replies[key] = rs[1:]
		}
	}
	p.mu.Unlock()
	if onAsk != nil {
		onAsk(pr)
	}
	if !ok {
		return engine.Answer{}, &engine.MissingAnswerError{Step: pr.Step, Key: pr.Key}
	}
	if r.err == errBlock {
		<-ctx.Done()
		return engine.Answer{}, ctx.Err()
	}
	return r.ans, r.err
}

func (p *tablePrompter) kinds() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, pr := range p.asked {
		out = append(out, pr.Step+":"+string(pr.Kind))
	}
	return out
}

// errBlock makes the prompter block until its context ends.
var errBlock = &engine.MissingAnswerError{Key: "block"}

// fixedClock is a settable clock.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// After waits on real time: the tests that fix the wall clock (windows,
// protected environments) do not wait on the engine's account.
func (fixedClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func parseRunbook(t *testing.T, src string) *runbook.Runbook {
	t.Helper()
	rb, err := runbook.Parse("test.yaml", []byte(strings.TrimLeft(src, "\n")))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return rb
}

func openJournal(t *testing.T) *journal.Journal {
	t.Helper()
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatalf("journal.Open: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// harness is a session under test with its journal, prompter and output.
type harness struct {
	t      *testing.T
	cfg    engine.Config
	j      *journal.Journal
	p      *tablePrompter
	stdout *bytes.Buffer
	s      *engine.Session
}

func newHarness(t *testing.T, src string, p *tablePrompter) *harness {
	t.Helper()
	if p == nil {
		p = answers(nil)
	}
	h := &harness{t: t, j: openJournal(t), p: p, stdout: &bytes.Buffer{}}
	h.cfg = engine.Config{
		Runbook: parseRunbook(t, src), Env: "test", Mode: engine.ModeLive, Operator: "alice",
		Journal: h.j, Prompter: p, Stdout: h.stdout, WorkDir: t.TempDir(), Steps: steps.Default(),
		Getenv: func(string) string { return "" },
	}
	return h
}

// run starts the session and runs it to its end.
func (h *harness) run() (engine.Outcome, error) {
	h.t.Helper()
	s, err := engine.Start(context.Background(), h.cfg)
	if err != nil {
		h.t.Fatalf("Start: %v", err)
	}
	h.s = s
	return s.Run(context.Background())
}

func (h *harness) mustRun(want engine.Outcome) {
	h.t.Helper()
	got, err := h.run()
	if err != nil || got != want {
		h.t.Fatalf("Run() = %q, %v; want %q, nil\nevents:\n%s", got, err, want, h.dump())
	}
	h.checkReplay()
}

// mustStop runs the session and asserts it stopped resumably with an
// error that is target.
func (h *harness) mustStop(target error) {
	h.t.Helper()
	got, err := h.run()
	if got != engine.OutcomeStopped || !errors.Is(err, target) {
		h.t.Fatalf("Run() = %q, %v; want %q, %v\nevents:\n%s", got, err, engine.OutcomeStopped, target, h.dump())
	}
	h.checkReplay()
}

// mustRunOrStop is mustRun, or mustStop(ErrInvalidAnswer) when want is
// stopped: a table of answers where invalid ones stop the session.
func (h *harness) mustRunOrStop(want engine.Outcome) {
	h.t.Helper()
	if want == engine.OutcomeStopped {
		h.mustStop(engine.ErrInvalidAnswer)
		return
	}
	h.mustRun(want)
}

// checkReplay asserts that replaying the journal gives the live state.
func (h *harness) checkReplay() {
	h.t.Helper()
	live := h.s.State()
	replayed := engine.Replay(h.s.Runbook(), h.s.Info(), h.events())
	if live.Outcome != replayed.Outcome || live.Paused != replayed.Paused {
		h.t.Errorf("Replay outcome/paused = %q/%v, live %q/%v", replayed.Outcome, replayed.Paused, live.Outcome, live.Paused)
	}
	for i, ls := range live.Steps {
		rs := replayed.Steps[i]
		if ls.Status != rs.Status || ls.Attempts != rs.Attempts || ls.Reason != rs.Reason || string(ls.Result) != string(rs.Result) {
			h.t.Errorf("Replay step %s = %s/%d/%q, live %s/%d/%q", ls.Step.ID, rs.Status, rs.Attempts, rs.Reason, ls.Status, ls.Attempts, ls.Reason)
		}
	}
}

func (h *harness) events() []engine.Event {
	h.t.Helper()
	evs, err := h.j.Events(context.Background(), h.s.ID())
	if err != nil {
		h.t.Fatalf("Events: %v", err)
	}
	return evs
}

// find returns the events of a kind (and step, when step != "*").
func (h *harness) find(kind engine.EventKind, step string) []engine.Event {
	var out []engine.Event
	for _, ev := range h.events() {
		if ev.Kind == kind && (step == "*" || ev.Step == step) {
			out = append(out, ev)
		}
	}
	return out
}

func (h *harness) dump() string {
	if h.s == nil {
		return ""
	}
	var b strings.Builder
	evs, _ := h.j.Events(context.Background(), h.s.ID())
	for _, ev := range evs {
		b.WriteString(string(ev.Kind) + " " + ev.Step + " " + string(ev.Data) + "\n")
	}
	return b.String()
}

func (h *harness) status(id string) engine.StepStatus {
	st := h.s.State()
	return st.StepState(id).Status
}

// endOf decodes the last step.end of a step.
func (h *harness) endOf(id string) map[string]any {
	h.t.Helper()
	ends := h.find(engine.EvStepEnd, id)
	if len(ends) == 0 {
		h.t.Fatalf("no step.end for %s\n%s", id, h.dump())
	}
	var m map[string]any
	if err := json.Unmarshal(ends[len(ends)-1].Data, &m); err != nil {
		h.t.Fatalf("decode step.end: %v", err)
	}
	return m
}

func (h *harness) output(id string) string {
	var b strings.Builder
	for _, ev := range h.find(engine.EvOutput, id) {
		var d struct{ Text string }
		_ = ev.Decode(&d)
		b.WriteString(d.Text + "\n")
	}
	return b.String()
}

const header = `
lockstep: 1
name: t
title: Test runbook
version: 2
roles:
  responsible: [alice]
  accountable: [bob, carol]
  informed: ["#ops"]
environments:
  test: {}
`
