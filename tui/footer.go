package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"github.com/lockstep-run/lockstep/engine"
)

// footer renders the key help for the keys that apply now. While a field
// takes the typing, ? types instead of folding the full help: the footer
// is then the one line of keys that still act.
func (m *Model) footer() []string {
	if m.exited {
		return nil // printed after the UI is gone: no key acts
	}
	m.help.SetWidth(m.width)
	keys := m.helpKeys()
	if m.guarded() {
		return []string{m.help.ShortHelpView([]key.Binding{m.keys.Wait, m.keys.ForceQ})}
	}
	if m.capturing() {
		return []string{m.help.ShortHelpView(keys.short)}
	}
	return strings.Split(m.help.View(keys), "\n")
}

// helpKeys lists the keys that apply now. The short help (one footer line,
// cut at the terminal's width) goes by importance: the prompt's own keys,
// then quit and "? more", then the session's commands (p/a/b/n) as space
// allows; the full help (?) lists them all.
func (m *Model) helpKeys() helpKeys {
	k := m.keys
	if m.ended {
		return helpKeys{short: []key.Binding{k.AnyKey}, full: [][]key.Binding{{k.AnyKey}}}
	}
	var formKeys []key.Binding
	if f := m.focused(); f != nil {
		formKeys = formBindings(f, k)
	}
	typing := m.capturing() // printable keys go to a field: ctrl+c quits, ? types
	var session []key.Binding
	if !typing && m.local == nil {
		pause := k.Pause
		if m.paused {
			pause = k.Resume
		}
		session = []key.Binding{pause, k.Abort, k.Rollback, k.Note}
		if m.migrateRunning() != nil {
			session = append(session, k.Rate)
		}
	}
	quit := k.Quit
	if typing {
		quit = k.ForceQ
	}
	shortQuit := quit
	shortQuit.SetHelp(quit.Help().Key, "quit")
	short := append(append([]key.Binding{}, formKeys...), shortQuit)
	if f := m.focused(); f != nil && f == m.prompt && m.local == nil && f.leftField() {
		// The operator left the field to use the session's keys: those
		// come first (the form's own keys are in the full help).
		short = []key.Binding{k.Field}
		if f.canSkip() {
			short = append(short, k.Skip)
		}
		short = append(append(short, session...), shortQuit)
		session = nil
	}
	view := []key.Binding{k.Scroll}
	if !typing {
		h := k.Help
		if m.help.ShowAll {
			h.SetHelp("?", "fewer keys")
		}
		view = append(view, h)
		more := k.Help
		more.SetHelp("?", "more")
		short = append(short, more)
	}
	full := [][]key.Binding{formKeys, append(session, quit), view}
	if session == nil && !typing && m.local == nil {
		pause := k.Pause
		if m.paused {
			pause = k.Resume
		}
		full[1] = []key.Binding{pause, k.Abort, k.Rollback, k.Note, k.Rate, quit}
	}
	short = append(short, session...)
	return helpKeys{short: short, full: full}
}

// formBindings lists the keys a form answers to.
func formBindings(f *form, k keyMap) []key.Binding {
	if f.pending != engine.ActionNone {
		return []key.Binding{k.Enter, k.Back}
	}
	var b []key.Binding
	switch f.kind {
	case engine.PromptChecklist:
		b = []key.Binding{k.Move, k.Tick, k.Enter, k.Skip}
	case engine.PromptDecision:
		b = []key.Binding{k.Move, k.Enter}
	case engine.PromptApproval:
		b = []key.Binding{k.Tab, k.Enter}
	case engine.PromptInterrupted:
		b = []key.Binding{k.Move, k.Enter, k.Retry, k.Done, k.Skip}
	case engine.PromptFailed:
		b = []key.Binding{k.Move, k.Enter, k.Retry, k.Skip}
	case engine.PromptManual, engine.PromptStep:
		b = []key.Binding{k.Enter, k.Skip}
	case engine.PromptDestructive:
		b = []key.Binding{k.Enter}
		if f.canSkip() {
			b = append(b, k.Skip)
		}
	default:
		b = []key.Binding{k.Enter}
	}
	switch {
	case f.local():
		b = append(b, k.Back)
	case f.typing():
		b = append(b, k.Leave)
	case f.leftField() && f.kind != engine.PromptApproval:
		b = append(b, k.Field)
	}
	return b
}
