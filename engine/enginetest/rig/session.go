package rig

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

// Reply is one scripted answer (or error) of the table prompter.
type Reply struct {
	Ans engine.Answer
	Err error
}

// TablePrompter Answers from a table keyed by "step:kind" (or just "kind"
// for session-level prompts). A key's replies are used in order; the last
// one repeats. No entry → *MissingAnswerError, like the plain front end.
type TablePrompter struct {
	mu      sync.Mutex
	Replies map[string][]Reply
	Asked   []engine.Prompt
	OnAsk   func(engine.Prompt) // called before answering
}

// Answers returns a TablePrompter answering from m.
func Answers(m map[string][]Reply) *TablePrompter {
	return &TablePrompter{Replies: m}
}

// Ask answers pr from the table.
func (p *TablePrompter) Ask(ctx context.Context, pr engine.Prompt) (engine.Answer, error) {
	p.mu.Lock()
	p.Asked = append(p.Asked, pr)
	onAsk := p.OnAsk
	key := pr.Step + ":" + string(pr.Kind)
	rs, ok := p.Replies[key]
	if !ok {
		key = string(pr.Kind)
		rs, ok = p.Replies[key]
	}
	var r Reply
	if ok && len(rs) > 0 {
		r = rs[0]
		if len(rs) > 1 {
			p.Replies[key] = rs[1:]
		}
	}
	p.mu.Unlock()
	if onAsk != nil {
		onAsk(pr)
	}
	if !ok {
		return engine.Answer{}, &engine.MissingAnswerError{Step: pr.Step, Key: pr.Key}
	}
	if r.Err == ErrBlock {
		<-ctx.Done()
		return engine.Answer{}, ctx.Err()
	}
	return r.Ans, r.Err
}

// Prompts returns the prompts asked so far, safe to call while the
// session runs.
func (p *TablePrompter) Prompts() []engine.Prompt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]engine.Prompt(nil), p.Asked...)
}

// Kinds lists the prompts asked so far as "step:kind".
func (p *TablePrompter) Kinds() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, pr := range p.Asked {
		out = append(out, pr.Step+":"+string(pr.Kind))
	}
	return out
}

// ErrBlock makes the prompter block until its context ends.
var ErrBlock = &engine.MissingAnswerError{Key: "block"}

// FixedClock is a settable clock.
type FixedClock struct{ T time.Time }

// Now returns the fixed time.
func (c FixedClock) Now() time.Time { return c.T }

// After waits on real time: the tests that fix the wall clock (windows,
// protected environments) do not wait on the engine's account.
func (FixedClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// ParseRunbook parses src (leading newlines trimmed) or fails the test.
func ParseRunbook(t *testing.T, src string) *runbook.Runbook {
	t.Helper()
	rb, err := runbook.Parse("test.yaml", []byte(strings.TrimLeft(src, "\n")))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return rb
}

// OpenJournal opens a fresh journal, closed when the test ends.
func OpenJournal(t *testing.T) *journal.Journal {
	t.Helper()
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatalf("journal.Open: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// Harness is a session under test with its journal, prompter and output.
type Harness struct {
	T      *testing.T
	Cfg    engine.Config
	J      *journal.Journal
	P      *TablePrompter
	Stdout *bytes.Buffer
	S      *engine.Session // set by Run
}

// NewHarness is a live session by alice of src in environment "test",
// answered by p (nil: no answers), with the built-in step kinds.
func NewHarness(t *testing.T, src string, p *TablePrompter) *Harness {
	t.Helper()
	if p == nil {
		p = Answers(nil)
	}
	h := &Harness{T: t, J: OpenJournal(t), P: p, Stdout: &bytes.Buffer{}}
	h.Cfg = engine.Config{
		Runbook: ParseRunbook(t, src), Env: "test", Mode: engine.ModeLive, Operator: "alice",
		Journal: h.J, Prompter: p, Stdout: h.Stdout, WorkDir: t.TempDir(), Steps: steps.Default(),
		Getenv: func(string) string { return "" },
	}
	return h
}

// run starts the session and runs it to its end.
func (h *Harness) Run() (engine.Outcome, error) {
	h.T.Helper()
	s, err := engine.Start(context.Background(), h.Cfg)
	if err != nil {
		h.T.Fatalf("Start: %v", err)
	}
	h.S = s
	return s.Run(context.Background())
}

// MustRun runs the session, asserts it ends with want and that its
// journal replays to the live state.
func (h *Harness) MustRun(want engine.Outcome) {
	h.T.Helper()
	got, err := h.Run()
	if err != nil || got != want {
		h.T.Fatalf("Run() = %q, %v; want %q, nil\nevents:\n%s", got, err, want, h.Dump())
	}
	h.CheckReplay()
}

// mustStop runs the session and asserts it stopped resumably with an
// error that is target.
func (h *Harness) MustStop(target error) {
	h.T.Helper()
	got, err := h.Run()
	if got != engine.OutcomeStopped || !errors.Is(err, target) {
		h.T.Fatalf("Run() = %q, %v; want %q, %v\nevents:\n%s", got, err, engine.OutcomeStopped, target, h.Dump())
	}
	h.CheckReplay()
}

// mustRunOrStop is mustRun, or mustStop(ErrInvalidAnswer) when want is
// stopped: a table of Answers where invalid ones stop the session.
func (h *Harness) MustRunOrStop(want engine.Outcome) {
	h.T.Helper()
	if want == engine.OutcomeStopped {
		h.MustStop(engine.ErrInvalidAnswer)
		return
	}
	h.MustRun(want)
}

// checkReplay asserts that replaying the journal gives the live state.
func (h *Harness) CheckReplay() {
	h.T.Helper()
	live := h.S.State()
	replayed := engine.Replay(h.S.Runbook(), h.S.Info(), h.Events())
	if live.Outcome != replayed.Outcome || live.Paused != replayed.Paused {
		h.T.Errorf("Replay outcome/paused = %q/%v, live %q/%v", replayed.Outcome, replayed.Paused, live.Outcome, live.Paused)
	}
	for i, ls := range live.Steps {
		rs := replayed.Steps[i]
		if ls.Status != rs.Status || ls.Attempts != rs.Attempts || ls.Reason != rs.Reason || string(ls.Result) != string(rs.Result) {
			h.T.Errorf("Replay step %s = %s/%d/%q, live %s/%d/%q", ls.Step.ID, rs.Status, rs.Attempts, rs.Reason, ls.Status, ls.Attempts, ls.Reason)
		}
	}
}

// Events returns the session's journaled events.
func (h *Harness) Events() []engine.Event {
	h.T.Helper()
	evs, err := h.J.Events(context.Background(), h.S.ID())
	if err != nil {
		h.T.Fatalf("Events: %v", err)
	}
	return evs
}

// find returns the events of a kind (and step, when step != "*").
func (h *Harness) Find(kind engine.EventKind, step string) []engine.Event {
	var out []engine.Event
	for _, ev := range h.Events() {
		if ev.Kind == kind && (step == "*" || ev.Step == step) {
			out = append(out, ev)
		}
	}
	return out
}

// Dump renders the journaled events, for a failure message.
func (h *Harness) Dump() string {
	if h.S == nil {
		return ""
	}
	var b strings.Builder
	evs, _ := h.J.Events(context.Background(), h.S.ID())
	for _, ev := range evs {
		b.WriteString(string(ev.Kind) + " " + ev.Step + " " + string(ev.Data) + "\n")
	}
	return b.String()
}

// Status returns step id's status in the live state.
func (h *Harness) Status(id string) engine.StepStatus {
	st := h.S.State()
	return st.StepState(id).Status
}

// endOf decodes the last step.end of a step.
func (h *Harness) EndOf(id string) map[string]any {
	h.T.Helper()
	ends := h.Find(engine.EvStepEnd, id)
	if len(ends) == 0 {
		h.T.Fatalf("no step.end for %s\n%s", id, h.Dump())
	}
	var m map[string]any
	if err := json.Unmarshal(ends[len(ends)-1].Data, &m); err != nil {
		h.T.Fatalf("decode step.end: %v", err)
	}
	return m
}

// Output returns the text of step id's output events, one a line.
func (h *Harness) Output(id string) string {
	var b strings.Builder
	for _, ev := range h.Find(engine.EvOutput, id) {
		var d struct{ Text string }
		_ = ev.Decode(&d)
		b.WriteString(d.Text + "\n")
	}
	return b.String()
}

// Header is the start of a runbook with roles and the environment
// "test"; tests append their phases.
const Header = `
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
