package tui

import (
	tea "charm.land/bubbletea/v2"
	"github.com/lockstep-run/lockstep/engine"
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
	}
	return nil
}

func (m *Model) openLocal(kind engine.PromptKind) tea.Cmd {
	m.local = newLocalForm(kind, &m.st)
	m.local.SetSize(m.rightWidth())
	if len(m.local.inputs) > 0 {
		return m.local.inputs[0].Focus()
	}
	return nil
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
	if m.reply != nil {
		m.answer(Reply{Answer: engine.Answer{Checked: m.prompt.tickedSoFar()}, Err: engine.ErrQuit})
	}
	m.quit = true
	return tea.Quit
}
