package tui

import (
	"encoding/json"
	"slices"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// Controller receives the operator's commands; *engine.Session is one.
type Controller interface {
	Control(engine.Command)
}

// EventMsg delivers one engine event to the Model.
type EventMsg struct{ Event engine.Event }

// PromptMsg puts an engine prompt in play. The Model sends exactly one Reply
// on Reply (buffered, capacity 1) when the operator answers or quits.
type PromptMsg struct {
	ID     int64
	Prompt engine.Prompt
	Reply  chan<- Reply
}

// Reply answers a PromptMsg: an Answer, or Err = engine.ErrQuit.
type Reply struct {
	Answer engine.Answer
	Err    error
}

// PromptCancelMsg withdraws prompt ID (the engine stopped waiting for it).
type PromptCancelMsg struct{ ID int64 }

// SessionEndMsg reports that Session.Run returned.
type SessionEndMsg struct {
	Outcome engine.Outcome
	Err     error
}

type tickMsg time.Time

// guardEndMsg redraws the screen when a new prompt starts taking keys.
type guardEndMsg struct{}

// keyGuard is how long a newly opened prompt ignores keys: a key pressed
// for the previous prompt (a double enter, key bounce) must not answer
// the next one, least of all a destructive step's.
const keyGuard = 300 * time.Millisecond

// stepRow is one step of the left pane.
type stepRow struct {
	step     *runbook.Step
	status   engine.StepStatus
	attempts int
	started  time.Time
	ended    time.Time
	reason   string
	err      string
	checked  map[int]bool // checklist items ticked (check.tick events)
	migrate  *migrateFigures
	result   json.RawMessage // the last step.end result, shown as a table
}

// migrateFigures are what a migrate step did: from its step.end result,
// else its last progress.
type migrateFigures struct {
	Migrated  int64 `json:"migrated"`
	Conflicts int64 `json:"conflicts"`
	DryRun    bool  `json:"dry_run"`
}

type phaseRow struct {
	name  string
	steps []*stepRow
}

// Model is the runner's root model. Build it with New; feed it EventMsg,
// PromptMsg, PromptCancelMsg and SessionEndMsg (Run does this from the
// engine's Observer and Prompter).
type Model struct {
	st    styles
	keys  keyMap
	help  help.Model
	spin  spinner.Model
	ctrl  Controller
	queue *queue
	now   func() time.Time

	info      engine.SessionInfo
	title     string
	protected bool
	phases    []phaseRow
	byID      map[string]*stepRow
	current   string
	outStep   string

	// paused is the engine's pause (pause event until resume event);
	// pausingAfter names the step that still runs until the session
	// holds ("" once held: between steps, or at a migrate's batch).
	paused       bool
	pausingAfter string
	ended        bool
	outcome      engine.Outcome
	endErr       error
	quit         bool
	// exited is set once the UI is gone and the last screen is printed
	// to the main screen: no key help, no "press any key".
	exited bool
	// notice is a one-line message under the step title; it clears when
	// the next step starts, or at noticeUntil when set.
	notice      string
	noticeUntil time.Time

	prompt   *form
	promptID int64
	reply    chan<- Reply
	local    *form
	// guard is how long a new prompt ignores keys (keyGuard; tests set
	// it); keys before guardUntil are dropped.
	guard      time.Duration
	guardUntil time.Time
	// rollingBack is the step whose rollback runs ("" when none).
	rollingBack string
	// quitWhile is the step that ran when the operator quit ("" when none
	// ran), for the journal.
	quitWhile string

	out  outputPane
	prog progressPane
	rate writeRate
	md   *markdown

	width, height int
	started       time.Time // the session's start
	resumedAt     time.Time // this run's start when it resumed the session
	endedAt       time.Time
}

var _ tea.Model = (*Model)(nil)

// New builds the runner model for a runbook (nil on resume: the steps come
// from state) and a session state, sending commands to ctrl.
func New(rb *runbook.Runbook, state engine.State, ctrl Controller) *Model {
	noColor := noColorEnv()
	m := &Model{
		st:     newStyles(true, noColor),
		keys:   newKeyMap(),
		help:   help.New(),
		ctrl:   ctrl,
		now:    time.Now,
		guard:  keyGuard,
		info:   state.Info,
		byID:   map[string]*stepRow{},
		paused: state.Paused,
		out:    newOutputPane(defaultOutputLines),
		md:     newMarkdown(0), // the step pane has its own margin
		width:  80,
		height: 24,
	}
	m.spin = spinner.New(spinner.WithSpinner(spinner.Spinner{
		Frames: []string{"◐", "◓", "◑", "◒"}, FPS: time.Second / 6}))
	m.prog = newProgressPane(&m.st)
	m.title = state.Info.Title
	if rb != nil {
		if m.title == "" {
			m.title = rb.Title
		}
		if env := rb.Env(state.Info.Env); env != nil {
			m.protected = env.Protected
		}
	}
	m.rate.envMax = envMaxRate(rb, state.Info.Env)
	m.buildRows(rb, state)
	m.started = state.Info.Started
	if state.Outcome != engine.OutcomeRunning {
		m.ended, m.outcome = true, state.Outcome
	}
	m.applyStyles()
	m.pickCurrent()
	return m
}

func (m *Model) buildRows(rb *runbook.Runbook, state engine.State) {
	add := func(phase string, s *runbook.Step) {
		if len(m.phases) == 0 || m.phases[len(m.phases)-1].name != phase {
			m.phases = append(m.phases, phaseRow{name: phase})
		}
		r := &stepRow{step: s, status: engine.StepPending}
		if ss := state.StepState(s.ID); ss != nil {
			r.status, r.attempts, r.reason, r.err = ss.Status, ss.Attempts, ss.Reason, ss.Error
			r.started, r.ended = msTime(ss.Started), msTime(ss.Ended)
			r.setResult(ss.Result)
			r.result = ss.Result
			for _, i := range ss.Checked { // ticks journaled before a resume
				r.tick(i)
			}
		}
		p := &m.phases[len(m.phases)-1]
		p.steps = append(p.steps, r)
		m.byID[s.ID] = r
	}
	if rb != nil {
		for _, p := range rb.Phases {
			for _, s := range p.Steps {
				add(p.Name, s)
			}
		}
		return
	}
	for _, ss := range state.Steps {
		if ss.Step != nil {
			add(ss.Step.Phase, ss.Step)
		}
	}
}

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// applyStyles pushes the styles into the child components.
func (m *Model) applyStyles() {
	m.help.Styles = help.DefaultStyles(m.st.isDark)
	m.help.Styles.ShortKey = m.st.HelpKey
	m.help.Styles.FullKey = m.st.HelpKey
	m.help.Styles.ShortDesc = m.st.HelpDesc
	m.help.Styles.FullDesc = m.st.HelpDesc
	m.help.Styles.ShortSeparator = m.st.HelpSep
	m.help.Styles.FullSeparator = m.st.HelpSep
	m.help.Styles.Ellipsis = m.st.HelpSep
	m.spin.Style = m.st.Running
	m.prog.bar.FullColor = m.st.BarFull
	m.prog.bar.EmptyColor = m.st.BarEmpty
}

// Init starts the clock, the spinner, the background color query and, under
// Run, the wait for engine events.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestBackgroundColor, m.spin.Tick, tick()}
	if m.queue != nil {
		cmds = append(cmds, m.queue.wait())
	}
	return tea.Batch(cmds...)
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.quit {
		// The program is exiting: the screen stays as the operator left
		// it (no "press any key" for a key that is not needed), and a
		// prompt asked meanwhile gets ErrQuit at once.
		switch msg := msg.(type) {
		case PromptMsg:
			select {
			case msg.Reply <- Reply{Err: engine.ErrQuit}:
			default:
			}
			return m, nil
		case EventMsg, SessionEndMsg, PromptCancelMsg:
			return m, nil
		}
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case tea.BackgroundColorMsg:
		m.st = newStyles(msg.IsDark(), m.st.noColor)
		m.applyStyles()
		return m, nil
	case tickMsg:
		if m.notice != "" && !m.noticeUntil.IsZero() && !m.now().Before(m.noticeUntil) {
			m.setNotice("")
		}
		return m, tick()
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case queueMsg:
		cmds := []tea.Cmd{m.queue.wait()}
		for _, it := range msg {
			_, cmd := m.Update(it)
			cmds = append(cmds, cmd)
		}
		return m, tea.Batch(cmds...)
	case EventMsg:
		m.applyEvent(msg.Event)
		m.keepResult(msg.Event)
		m.observeRate(msg.Event)
		return m, nil
	case PromptMsg:
		return m, m.openPrompt(msg)
	case guardEndMsg:
		return m, nil
	case PromptCancelMsg:
		if m.prompt != nil && m.promptID == msg.ID {
			m.prompt, m.reply = nil, nil
			m.pickCurrent()
		}
		return m, nil
	case sessionReadyMsg:
		m.ready(msg)
		return m, nil
	case startFailedMsg:
		m.endErr, m.quit = msg.err, true
		return m, tea.Quit
	case SessionEndMsg:
		m.endSession(msg.Outcome, msg.Err)
		return m, nil
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	}
	return m, nil
}

// ready takes the state of a started or resumed session.
func (m *Model) ready(msg sessionReadyMsg) {
	m.ctrl = msg.ctrl
	m.info = msg.state.Info
	if msg.rb != nil && m.title == "" {
		m.title = msg.rb.Title
	}
	if m.title == "" {
		m.title = msg.state.Info.Title
	}
	if msg.rb != nil {
		if env := msg.rb.Env(m.info.Env); env != nil {
			m.protected = env.Protected
		}
	}
	m.rate.envMax = envMaxRate(msg.rb, m.info.Env)
	m.phases, m.byID = nil, map[string]*stepRow{}
	m.buildRows(msg.rb, msg.state)
	m.started = msg.state.Info.Started
	m.paused, m.pausingAfter = msg.state.Paused, ""
	m.pickCurrent()
}

// guardKeys starts the key guard of a newly opened prompt; the command
// redraws the screen when it ends.
func (m *Model) guardKeys() tea.Cmd {
	if m.guard <= 0 {
		return nil
	}
	m.guardUntil = m.now().Add(m.guard)
	return tea.Tick(m.guard, func(time.Time) tea.Msg { return guardEndMsg{} })
}

// guarded reports whether keys are still held back from a new prompt.
func (m *Model) guarded() bool { return !m.guardUntil.IsZero() && m.now().Before(m.guardUntil) }

func (m *Model) openPrompt(msg PromptMsg) tea.Cmd {
	if m.reply != nil { // a stale prompt: the engine asks one at a time
		m.answer(Reply{Err: engine.ErrQuit})
	}
	m.prompt, m.promptID, m.reply = newForm(msg.Prompt, &m.st), msg.ID, msg.Reply
	m.prompt.SetSize(m.rightWidth())
	if r := m.byID[msg.Prompt.Step]; r != nil && msg.Prompt.Kind == engine.PromptChecklist {
		for i := range m.prompt.ticked { // ticks journaled by an earlier ask still count
			if r.checked[i] {
				m.prompt.ticked[i] = true
				m.prompt.order = append(m.prompt.order, i)
			}
		}
		if i := slices.Index(m.prompt.ticked, false); i > 0 {
			m.prompt.cursor = i // on the first item left to tick
		}
	}
	if msg.Prompt.Step != "" {
		m.current = msg.Prompt.Step
	}
	return m.guardKeys()
}

// answer sends r to the prompt in play and closes it.
func (m *Model) answer(r Reply) {
	if m.reply != nil {
		select {
		case m.reply <- r:
		default:
		}
	}
	m.prompt, m.reply = nil, nil
}

func (m *Model) endSession(o engine.Outcome, err error) {
	m.ended, m.outcome, m.endErr = true, o, err
	m.paused, m.pausingAfter = false, ""
	if m.endedAt.IsZero() {
		m.endedAt = m.now()
	}
	m.prompt, m.reply, m.local = nil, nil, nil
}

// settled reports whether the session ended or never started: nothing is
// left to stop.
func (m *Model) settled() bool { return m.ended || m.endErr != nil }

// Outcome is the session outcome the model saw ("" while running).
func (m *Model) Outcome() engine.Outcome { return m.outcome }

// Quitting reports whether the operator quit before the session ended.
func (m *Model) Quitting() bool { return m.quit && !m.ended }
