package tui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"
	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// focused is the form keys go to: a local question over the engine prompt.
func (m *Model) focused() *form {
	if m.local != nil {
		return m.local
	}
	return m.prompt
}

// capturing reports whether printable keys are being typed into a field.
func (m *Model) capturing() bool {
	f := m.focused()
	return f != nil && f.capturesText()
}

// handleKey routes a key press: global keys first, then the focused form.
func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := msg.String()
	if m.ended {
		m.quit = true
		return tea.Quit
	}
	if k == "ctrl+c" {
		return m.quitNow()
	}
	if m.guarded() && k != "pgup" && k != "pgdown" {
		return nil // a key meant for the previous prompt
	}
	switch k {
	case "pgup":
		m.out.Scroll(max(m.out.height-1, 1))
		return nil
	case "pgdown":
		m.out.Scroll(-max(m.out.height-1, 1))
		return nil
	}
	if !m.capturing() {
		switch k {
		case "q":
			// A step that still runs is stopped by a quit: ask first (a
			// session that holds at a pause has nothing to stop).
			if m.local == nil && m.prompt == nil && m.runningStep() != nil && !m.held() {
				return m.openLocal(formQuit)
			}
			return m.quitNow()
		case "?":
			m.help.ShowAll = !m.help.ShowAll
			return nil
		}
	}
	if !m.capturing() && m.local == nil {
		switch k {
		case "p":
			return m.togglePause()
		case "a":
			return m.openLocal(formAbort)
		case "b":
			return m.openLocal(formRollback)
		case "n":
			return m.openLocal(formNote)
		case "+", "=":
			m.changeRate(true)
			return nil
		case "-":
			m.changeRate(false)
			return nil
		}
	}
	f := m.focused()
	if f == nil {
		return nil
	}
	in, cmd := f.Update(msg)
	return tea.Batch(cmd, m.act(f, in))
}

// act carries out a form's intent.
func (m *Model) act(f *form, in intent) tea.Cmd {
	switch in.kind {
	case intentQuit:
		return m.quitNow()
	case intentCancel:
		m.local = nil
	case intentTick:
		// Journal the tick now: a dropped session keeps it.
		step := f.prompt.Step
		if step == "" {
			step = m.current
		}
		return m.control(engine.Command{Kind: engine.CmdCheck, Text: fmt.Sprintf("%s %d", step, in.item)})
	case intentSubmit:
		if f != m.local {
			m.answer(Reply{Answer: in.answer})
			m.pickCurrent()
			return nil
		}
		m.local = nil
		return m.submitLocal(f, in.answer)
	}
	return nil
}

func (m *Model) submitLocal(f *form, a engine.Answer) tea.Cmd {
	switch f.kind {
	case formAbort:
		if m.prompt != nil && m.prompt.kind == engine.PromptFailed {
			m.answer(Reply{Answer: engine.Answer{Action: engine.ActionAbort}})
			return nil
		}
		m.setNotice("abort requested")
		return m.control(engine.Command{Kind: engine.CmdAbort})
	case formRollback:
		if m.prompt != nil && m.prompt.kind == engine.PromptFailed {
			m.answer(Reply{Answer: engine.Answer{Action: engine.ActionRollback, Reason: a.Reason}})
			return nil
		}
		m.setNotice("rollback requested")
		return m.control(engine.Command{Kind: engine.CmdRollback, Text: a.Reason})
	case formNote:
		m.flashNotice("note sent")
		return m.control(engine.Command{Kind: engine.CmdNote, Text: a.Reason})
	case formQuit:
		if r := m.runningStep(); r != nil {
			m.quitWhile = r.step.ID
		}
		return m.quitNow()
	}
	return nil
}

// runningStep is the step that runs without a prompt in play (nil: none).
func (m *Model) runningStep() *stepRow {
	for _, p := range m.phases {
		for _, r := range p.steps {
			if r.status == engine.StepRunning {
				return r
			}
		}
	}
	return nil
}

func (m *Model) openLocal(kind engine.PromptKind) tea.Cmd {
	m.local = newLocalForm(kind, &m.st)
	if kind == formQuit {
		m.local.prompt.Title, m.local.prompt.Text = m.quitQuestion()
	}
	m.local.SetSize(m.rightWidth())
	if len(m.local.inputs) > 0 {
		// The operator opened it and types at once: no guard.
		return m.local.inputs[0].Focus()
	}
	return m.guardKeys() // a question enter answers: a bounce must not
}

// quitQuestion is the title and text of the quit confirmation while a step
// runs.
func (m *Model) quitQuestion() (title, text string) {
	r := m.runningStep()
	if r == nil {
		return "Quit?", "The session stays resumable. enter quits, esc goes back."
	}
	what := "A running shell step will be killed"
	switch r.step.Kind {
	case runbook.KindMigrate:
		what = "The migrate finishes its in-flight writes and checkpoints"
	case runbook.KindShell:
	default:
		what = "The running step is stopped"
	}
	resume := "lockstep resume"
	if m.info.ID != "" {
		resume += " " + m.info.ID
	}
	return fmt.Sprintf("Quit while %s runs?", r.step.ID),
		fmt.Sprintf("%s; the session stays resumable (%s). enter quits, esc goes back.", what, resume)
}

func (m *Model) togglePause() tea.Cmd {
	if m.paused {
		m.setNotice("resume requested")
		return m.control(engine.Command{Kind: engine.CmdContinue})
	}
	m.setNotice("pause requested: stopping at the next safe point")
	return m.control(engine.Command{Kind: engine.CmdPause})
}

// control sends a command to the session from a Cmd (it may take a lock).
func (m *Model) control(c engine.Command) tea.Cmd {
	ctrl := m.ctrl
	if ctrl == nil {
		return nil
	}
	return func() tea.Msg {
		ctrl.Control(c)
		return nil
	}
}

// quitNow leaves the program; an open prompt is answered with ErrQuit so the
// engine stops resumably (a checklist's answer carries the items ticked so
// far, which the engine journals).
func (m *Model) quitNow() tea.Cmd {
	if r := m.runningStep(); r != nil && m.quitWhile == "" && m.prompt == nil {
		m.quitWhile = r.step.ID
	}
	if m.reply != nil {
		m.answer(Reply{Answer: engine.Answer{Checked: m.prompt.tickedSoFar()}, Err: engine.ErrQuit})
	}
	m.quit = true
	return tea.Quit
}
