package tui

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"
	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// Options configures Run.
type Options struct {
	// Config is the session's configuration; Run installs its own Prompter
	// and wraps Observer (an Observer already set still receives every event).
	Config engine.Config
	// ResumeID, when set, resumes that session instead of starting one.
	ResumeID string
	// Input and Output default to the terminal (stdin / stdout).
	Input  io.Reader
	Output io.Writer
}

// sessionReadyMsg reports that Start or Resume returned a session.
type sessionReadyMsg struct {
	rb    *runbook.Runbook
	state engine.State
	ctrl  Controller
}

// startFailedMsg reports that Start or Resume failed.
type startFailedMsg struct{ err error }

// Run starts (or resumes) a session and walks the operator through it on a
// full-screen terminal UI. The engine runs in a goroutine; its events and
// prompts reach the program through a queue. When the session ends the
// screen shows the outcome until a key is pressed. Quitting (q, ctrl+c)
// leaves the session resumable. Run returns the outcome and the session's
// id ("" when no session started), once the full-screen UI is gone, so
// the caller can print how to resume a stopped session where it stays
// readable.
func Run(ctx context.Context, opts Options) (engine.Outcome, string, error) {
	q := newQueue()
	pr := &prompter{q: q, done: make(chan struct{})}
	cfg := opts.Config
	cfg.Prompter = pr
	observe := cfg.Observer
	cfg.Observer = func(ev engine.Event) {
		q.push(EventMsg{Event: ev})
		if observe != nil {
			observe(ev)
		}
	}
	info := engine.SessionInfo{ID: opts.ResumeID, Env: cfg.Env, Mode: cfg.Mode, Operator: cfg.Operator}
	if cfg.Runbook != nil {
		info.Title, info.Runbook = cfg.Runbook.Title, cfg.Runbook.Name
	}
	if info.Mode == "" {
		info.Mode = engine.ModeLive
	}
	m := New(cfg.Runbook, engine.State{Info: info}, nil)
	m.queue = q

	sessCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		outcome engine.Outcome
		err     error
		id      string
	}
	done := make(chan result, 1)
	go func() {
		sess, err := startSession(sessCtx, cfg, opts.ResumeID)
		if err != nil {
			q.push(startFailedMsg{err: err})
			done <- result{outcome: engine.OutcomeFailed, err: err}
			return
		}
		q.push(sessionReadyMsg{rb: sess.Runbook(), state: sess.State(), ctrl: sess})
		out, err := sess.Run(sessCtx)
		q.push(SessionEndMsg{Outcome: out, Err: err})
		done <- result{outcome: out, err: err, id: sess.ID()}
	}()

	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
		if f, ok := opts.Output.(interface{ Fd() uintptr }); !ok || !term.IsTerminal(f.Fd()) {
			popts = append(popts, tea.WithWindowSize(80, 24)) // not a terminal: no size to query
		}
	}
	final, perr := tea.NewProgram(m, popts...).Run()
	pr.close()
	q.close()
	out := opts.Output
	if out == nil {
		out = os.Stdout
	}
	fm, _ := final.(*Model)
	if fm == nil || !fm.settled() {
		select {
		case res := <-done:
			done <- res
		default:
			fmt.Fprintln(out, "Stopping the session: finishing in-flight work and checkpointing…")
		}
	}
	if fm != nil && fm.Quitting() {
		fm.journalQuit(ctx)
	}
	cancel() // quit before the end: the engine stops resumably
	res := <-done
	if perr != nil && res.err == nil && ctx.Err() == nil {
		res.err = fmt.Errorf("terminal ui: %w", perr)
	}
	if fm != nil && perr == nil {
		fmt.Fprint(out, fm.finalView(res.outcome, res.id, res.err))
	}
	return res.outcome, res.id, res.err
}

// quitRecorder is a Controller that journals the operator's quit
// (*engine.Session does).
type quitRecorder interface {
	Quit(ctx context.Context, reason string) error
}

// journalQuit records that the operator quit, and what ran, before the
// session is cancelled: the journal says who stopped a running step.
func (m *Model) journalQuit(ctx context.Context) {
	q, ok := m.ctrl.(quitRecorder)
	if !ok {
		return
	}
	reason := "operator quit (resumable)"
	if m.quitWhile != "" {
		reason = fmt.Sprintf("operator quit while %s ran: it is stopped (resumable)", m.quitWhile)
	}
	_ = q.Quit(context.WithoutCancel(ctx), reason)
}

// startSession is engine.Start or engine.Resume.
func startSession(ctx context.Context, cfg engine.Config, resumeID string) (*engine.Session, error) {
	if resumeID != "" {
		return engine.Resume(ctx, cfg, resumeID)
	}
	return engine.Start(ctx, cfg)
}

// prompter bridges engine prompts to the program: Ask queues a PromptMsg
// and blocks on its reply, ctx or the program's exit.
type prompter struct {
	q    *queue
	next atomic.Int64
	done chan struct{}
	once atomic.Bool
}

var _ engine.Prompter = (*prompter)(nil)

func (p *prompter) close() {
	if p.once.CompareAndSwap(false, true) {
		close(p.done)
	}
}

// Ask implements engine.Prompter.
func (p *prompter) Ask(ctx context.Context, pr engine.Prompt) (engine.Answer, error) {
	select {
	case <-p.done:
		return engine.Answer{}, engine.ErrQuit
	default:
	}
	id := p.next.Add(1)
	reply := make(chan Reply, 1)
	p.q.push(PromptMsg{ID: id, Prompt: pr, Reply: reply})
	select {
	case r := <-reply:
		return r.Answer, r.Err
	case <-ctx.Done():
		p.q.push(PromptCancelMsg{ID: id})
		return engine.Answer{}, ctx.Err()
	case <-p.done:
		return engine.Answer{}, engine.ErrQuit
	}
}
