package tui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/runbook"
)

// memJournal is an in-memory engine.Journal for driving the real engine.
type memJournal struct {
	mu       sync.Mutex
	sessions map[string]engine.SessionInfo
	events   map[string][]engine.Event
}

var _ engine.Journal = (*memJournal)(nil)

func newMemJournal() *memJournal {
	return &memJournal{sessions: map[string]engine.SessionInfo{}, events: map[string][]engine.Event{}}
}

func (j *memJournal) CreateSession(_ context.Context, info engine.SessionInfo) (engine.SessionInfo, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.sessions[info.ID] = info
	return info, nil
}

func (j *memJournal) Session(_ context.Context, id string) (engine.SessionInfo, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	s, ok := j.sessions[id]
	if !ok {
		return s, engine.ErrNotFound
	}
	return s, nil
}

func (j *memJournal) LatestSession(context.Context, engine.SessionFilter) (engine.SessionInfo, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var latest engine.SessionInfo
	for _, s := range j.sessions {
		if s.Started.After(latest.Started) || latest.ID == "" {
			latest = s
		}
	}
	if latest.ID == "" {
		return latest, engine.ErrNotFound
	}
	return latest, nil
}

func (j *memJournal) ListSessions(_ context.Context, f engine.SessionFilter) ([]engine.SessionInfo, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []engine.SessionInfo
	for _, s := range j.sessions {
		if (f.Env == "" || f.Env == s.Env) && (f.Runbook == "" || f.Runbook == s.Runbook) &&
			(f.Mode == "" || f.Mode == s.Mode) && (f.Outcome == "" || f.Outcome == s.Outcome) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (j *memJournal) Append(_ context.Context, ev engine.Event) (engine.Event, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	evs := j.events[ev.SessionID]
	ev.Seq = int64(len(evs) + 1)
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	j.events[ev.SessionID] = append(evs, ev)
	return ev, nil
}

func (j *memJournal) Events(_ context.Context, id string) ([]engine.Event, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]engine.Event(nil), j.events[id]...), nil
}

func (j *memJournal) EndSession(_ context.Context, id string, o engine.Outcome) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := j.sessions[id]
	s.Outcome, s.Ended = o, time.Now()
	j.sessions[id] = s
	return nil
}

func (j *memJournal) Verify(context.Context, string) (engine.VerifyResult, error) {
	return engine.VerifyResult{OK: true}, nil
}

func (j *memJournal) SaveCheckpoint(context.Context, string, string, int, []byte, any) error {
	return nil
}

func (j *memJournal) Checkpoints(context.Context, string, string) (map[int][]byte, error) {
	return nil, nil
}

func (j *memJournal) RecordApplied(context.Context, engine.Applied) error { return nil }

func (j *memJournal) AppliedMigrations(context.Context, string, string) ([]engine.Applied, error) {
	return nil, nil
}

func (j *memJournal) ClaimSession(context.Context, string, engine.SessionOwner) error { return nil }

func (j *memJournal) ReleaseSession(context.Context, string) error { return nil }

func (j *memJournal) SessionHolder(context.Context, string) (engine.SessionOwner, bool, error) {
	return engine.SessionOwner{}, false, nil
}

func (j *memJournal) Close() error { return nil }

// syncBuffer is a goroutine-safe output sink that can be searched.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return ansi.Strip(b.buf.String())
}

// waitFor polls out until it contains want.
func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(out.String(), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("output never showed %q; last output:\n%s", want, tail(out.String(), 2000))
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// manualRunbook has two manual steps: a checklist and an acknowledgement.
func manualRunbook() *runbook.Runbook {
	check := &runbook.Step{Phase: "run", ID: "deploy-reader", Kind: runbook.KindManual,
		Text: "Deploy the reader.", Checklist: []string{"Deployed"}}
	ack := &runbook.Step{Phase: "run", ID: "announce", Kind: runbook.KindManual, Text: "Tell #ops."}
	return &runbook.Runbook{
		Name: "demo", Title: "Demo runbook", Version: 1, SHA256: "abc",
		Environments: []*runbook.Environment{{Name: "staging"}},
		Phases:       []*runbook.Phase{{Name: "run", Steps: []*runbook.Step{check, ack}}},
	}
}

// events collects what an Observer sees, for tests to wait on.
type events struct {
	mu   sync.Mutex
	seen []engine.Event
}

func (e *events) observe(ev engine.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen = append(e.seen, ev)
}

func (e *events) has(kind engine.EventKind, step string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.seen {
		if ev.Kind == kind && ev.Step == step {
			return true
		}
	}
	return false
}

// until repeats act every 50ms until cond holds (10s at most). The screen
// is drawn as diffs, so tests key on events rather than screen text where
// they can.
func until(t *testing.T, what string, cond func() bool, act func()) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		if act != nil {
			act()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runResult is what Run returned.
type runResult struct {
	o   engine.Outcome
	id  string
	err error
}

// goRun starts Run with opts in the background.
func goRun(opts Options) <-chan runResult {
	done := make(chan runResult, 1)
	go func() {
		o, id, err := Run(context.Background(), opts)
		done <- runResult{o, id, err}
	}()
	return done
}

// waitRun waits for Run to return, typing a key now and then for a
// program that waits for one at its end. The key is written from a
// goroutine: once Run has returned nobody reads the pipe, and the write
// ends when the test closes it.
func waitRun(t *testing.T, done <-chan runResult, keys io.Writer) runResult {
	t.Helper()
	var r runResult
	until(t, "Run to return", func() bool {
		select {
		case r = <-done:
			return true
		default:
			return false
		}
	}, func() { go io.WriteString(keys, "x") })
	return r
}

// TestRunWithEngine drives the real engine through Run: the program reads
// keys from a pipe and writes the screen to a buffer.
func TestRunWithEngine(t *testing.T) {
	in, keys := io.Pipe()
	defer keys.Close()
	out := &syncBuffer{}
	seen := &events{}
	cfg := engine.Config{Runbook: manualRunbook(), Env: "staging", Mode: engine.ModeRehearsal,
		Operator: "alice", Journal: newMemJournal(), Stdout: io.Discard, Observer: seen.observe, Steps: steps.Default()}
	done := goRun(Options{Config: cfg, Input: in, Output: out})
	until(t, "deploy-reader to start", func() bool { return seen.has(engine.EvStepStart, "deploy-reader") }, nil)
	until(t, "the checklist to be ticked", func() bool { return seen.has(engine.EvStepEnd, "deploy-reader") },
		func() { io.WriteString(keys, " \r") }) // space ticks, enter confirms once the prompt is open
	until(t, "announce to start", func() bool { return seen.has(engine.EvStepStart, "announce") }, nil)
	until(t, "announce to be acknowledged", func() bool { return seen.has(engine.EvStepEnd, "announce") },
		func() { io.WriteString(keys, "\r") })
	until(t, "the session to end", func() bool { return seen.has(engine.EvSessionEnd, "") }, nil)
	r := waitRun(t, done, keys)
	if r.err != nil || r.o != engine.OutcomeCompleted {
		t.Fatalf("Run = %q, %v; want completed", r.o, r.err)
	}
	// Once the full-screen UI is gone, its last screen and the outcome
	// line stay on the main screen: printed after the program's last frame.
	s := ansi.Strip(out.String())
	last := strings.LastIndex(s, "Press any key")
	if last < 0 {
		t.Fatalf("the program never showed its end screen:\n%q", s)
	}
	after := s[last+len("Press any key"):]
	for _, want := range []string{"✓ Session " + r.id + " completed in", "2 done · 0 skipped · 0 failed", "deploy-reader"} {
		if !strings.Contains(after, want) {
			t.Errorf("main screen after exit lacks %q:\n%s", want, after)
		}
	}
	if strings.Contains(after, "Press any key") {
		t.Errorf("main screen after exit still asks for a key:\n%s", after)
	}
	if !seen.has(engine.EvCheck, "deploy-reader") && !seen.has(engine.EvCheck, "") {
		t.Error("the caller's Observer did not see check.tick")
	}
}

// TestRunQuitIsResumable quits at a prompt: the session stops resumably
// and Run returns its id for the caller's resume hint, printing none itself.
func TestRunQuitIsResumable(t *testing.T) {
	in, keys := io.Pipe()
	defer keys.Close()
	out := &syncBuffer{}
	cfg := engine.Config{Runbook: manualRunbook(), Env: "staging", Operator: "alice", Journal: newMemJournal(), Stdout: io.Discard, Steps: steps.Default()}
	done := goRun(Options{Config: cfg, Input: in, Output: out})
	waitFor(t, out, "Deployed")
	time.Sleep(keyGuard + 50*time.Millisecond) // a new prompt ignores keys for a moment
	io.WriteString(keys, "q")
	select {
	case r := <-done:
		if r.o != engine.OutcomeStopped || r.id == "" {
			t.Errorf("Run = %q, id %q; want stopped with the session id", r.o, r.id)
		}
		if s := out.String(); strings.Contains(s, "lockstep resume") {
			t.Errorf("Run printed a resume hint; the caller prints it:\n%q", s)
		}
		if s := ansi.Strip(out.String()); !strings.Contains(s, "⏸ Session "+r.id+" stopped") {
			t.Errorf("no outcome line after exit:\n%s", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after q")
	}
}

// TestRunResumeKeepsTicks ticks one item of two, quits, and resumes: the
// resumed checklist shows the journaled tick, so ticking the other item
// completes it, and no item is journaled twice.
func TestRunResumeKeepsTicks(t *testing.T) {
	rb := manualRunbook()
	rb.Phases[0].Steps[0].Checklist = []string{"Deployed", "Error rate normal"}
	j := newMemJournal()
	cfg := engine.Config{Runbook: rb, Env: "staging", Operator: "alice", Journal: j, Stdout: io.Discard, Steps: steps.Default()}
	run := func(resumeID string, drive func(keys io.Writer, out *syncBuffer, seen *events)) runResult {
		t.Helper()
		in, keys := io.Pipe()
		defer keys.Close()
		out, seen := &syncBuffer{}, &events{}
		c := cfg
		c.Observer = seen.observe
		done := goRun(Options{Config: c, ResumeID: resumeID, Input: in, Output: out})
		drive(keys, out, seen)
		return waitRun(t, done, keys)
	}

	first := run("", func(keys io.Writer, out *syncBuffer, _ *events) {
		waitFor(t, out, "Tick each item")
		time.Sleep(keyGuard + 50*time.Millisecond)
		io.WriteString(keys, " q") // tick "Deployed", quit: the tick is journaled
	})
	if first.o != engine.OutcomeStopped || first.id == "" {
		t.Fatalf("first Run = %q, id %q, %v; want stopped", first.o, first.id, first.err)
	}

	second := run(first.id, func(keys io.Writer, out *syncBuffer, seen *events) {
		waitFor(t, out, "Tick each item")
		time.Sleep(keyGuard + 50*time.Millisecond)
		io.WriteString(keys, "\x1b[B \r") // down, tick "Error rate normal", enter
		until(t, "deploy-reader to end", func() bool { return seen.has(engine.EvStepEnd, "deploy-reader") }, nil)
		until(t, "the session to end", func() bool { return seen.has(engine.EvSessionEnd, "") },
			func() { io.WriteString(keys, "\r") }) // acknowledge announce
	})
	if second.o != engine.OutcomeCompleted || second.err != nil {
		t.Fatalf("resumed Run = %q, %v; want completed", second.o, second.err)
	}
	evs, _ := j.Events(context.Background(), first.id)
	var ticks []int
	for _, ev := range evs {
		if ev.Kind == engine.EvCheck {
			var d struct{ Index int }
			_ = ev.Decode(&d)
			ticks = append(ticks, d.Index)
		}
	}
	if got, want := fmt.Sprint(ticks), "[0 1]"; got != want {
		t.Errorf("check.tick indexes = %s, want %s (each item journaled once)", got, want)
	}
}
