package tui

import "charm.land/bubbles/v2/key"

// keyMap is the runner's one set of key bindings.
type keyMap struct {
	Enter    key.Binding
	Tick     key.Binding
	Move     key.Binding
	Tab      key.Binding
	Skip     key.Binding
	Retry    key.Binding
	Done     key.Binding
	Pause    key.Binding
	Resume   key.Binding
	Abort    key.Binding
	Rollback key.Binding
	Note     key.Binding
	Rate     key.Binding
	Scroll   key.Binding
	Back     key.Binding
	Leave    key.Binding
	Field    key.Binding
	Wait     key.Binding
	Quit     key.Binding
	ForceQ   key.Binding
	Help     key.Binding
	AnyKey   key.Binding
}

func newKeyMap() keyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return keyMap{
		Enter:    b("enter", "confirm", "enter"),
		Tick:     b("space", "tick", "space"),
		Move:     b("↑/↓", "choose", "up", "down"),
		Tab:      b("tab", "next field", "tab", "shift+tab"),
		Skip:     b("s", "skip", "s"),
		Retry:    b("r", "retry", "r"),
		Done:     b("d", "mark done", "d"),
		Pause:    b("p", "pause", "p"),
		Resume:   b("p", "resume", "p"),
		Abort:    b("a", "abort", "a"),
		Rollback: b("b", "roll back", "b"),
		Note:     b("n", "note", "n"),
		Rate:     b("+/-", "write rate", "+", "=", "-"),
		Scroll:   b("pgup/pgdn", "scroll output", "pgup", "pgdown"),
		Back:     b("esc", "back", "esc"),
		Leave:    b("esc", "leave field (then p a b n q)", "esc"),
		Field:    b("tab", "type", "tab"),
		Wait:     b("…", "new prompt: keys wait a moment", ""),
		Quit:     b("q", "quit (resumable)", "q", "ctrl+c"),
		ForceQ:   b("ctrl+c", "quit (resumable)", "ctrl+c"),
		Help:     b("?", "more keys", "?"),
		AnyKey:   b("any key", "exit", ""),
	}
}

// helpKeys is the help.KeyMap of the keys that apply right now.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

func (h helpKeys) ShortHelp() []key.Binding  { return h.short }
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }
