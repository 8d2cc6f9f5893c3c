package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/list"
	tea "charm.land/bubbletea/v2"
)

// Errors returned by the package's entry points.
var (
	// ErrCancelled is returned by Pick when the operator leaves without picking.
	ErrCancelled = errors.New("cancelled")
)

// PickItem is what the operator can pick: a built-in protocol or a
// runbook file found in the current directory, or an environment.
type PickItem struct {
	Name    string // protocol name, file name or environment name
	Title   string // the runbook's title, or what the environment is
	Path    string // file path ("" for built-ins)
	Builtin bool
	// Kind is what the item is, for the picker's heading: KindRunbook
	// ("" too) or KindEnvironment. Every item of one pick has the same.
	Kind string
	// Note is one more line of explanation, such as the variables a
	// protocol needs set ("needs $LOCKSTEP_TABLE").
	Note string
}

// Kinds of PickItem.
const (
	KindRunbook     = "runbook"
	KindEnvironment = "environment"
)

// pickEntry adapts a PickItem to list.DefaultItem.
type pickEntry struct{ it PickItem }

func (e pickEntry) Title() string { return e.it.Name }

func (e pickEntry) Description() string {
	var parts []string
	if e.it.Title != "" {
		parts = append(parts, e.it.Title)
	}
	switch {
	case e.it.Builtin:
		parts = append(parts, "built-in protocol")
	case e.it.Path != "":
		parts = append(parts, e.it.Path)
	}
	if e.it.Note != "" {
		parts = append(parts, e.it.Note)
	}
	return strings.Join(parts, " · ")
}

func (e pickEntry) FilterValue() string { return e.it.Name + " " + e.it.Title }

// Picker is the runbook picker's root model.
type Picker struct {
	st     styles
	list   list.Model
	picked *PickItem
	what   string // what is picked: KindRunbook or KindEnvironment
	width  int
	height int
}

var _ tea.Model = (*Picker)(nil)

// NewPicker builds the picker over items.
func NewPicker(items []PickItem) *Picker {
	p := &Picker{st: newStyles(true, noColorEnv()), width: 80, height: 24}
	entries := make([]list.Item, len(items))
	for i, it := range items {
		entries[i] = pickEntry{it}
	}
	d := list.NewDefaultDelegate()
	p.list = list.New(entries, d, p.width, p.height)
	kind := KindRunbook
	if len(items) > 0 && items[0].Kind != "" {
		kind = items[0].Kind
	}
	p.what = kind
	p.list.Title = "Pick " + article(kind) + " " + kind
	p.list.SetStatusBarItemName(kind, kind+"s")
	p.list.KeyMap.Quit = key.NewBinding(key.WithKeys("q", "esc"), key.WithHelp("q", "cancel"))
	p.applyStyles()
	return p
}

func (p *Picker) applyStyles() {
	d := list.NewDefaultDelegate()
	d.Styles = list.NewDefaultItemStyles(p.st.isDark)
	pick := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "pick"))
	d.ShortHelpFunc = func() []key.Binding { return []key.Binding{pick} }
	d.FullHelpFunc = func() [][]key.Binding { return [][]key.Binding{{pick}} }
	p.list.SetDelegate(d)
	p.list.Styles = list.DefaultStyles(p.st.isDark)
	p.list.Styles.Title = p.st.Title.Padding(0, 1)
}

// Picked returns the chosen item, if any.
func (p *Picker) Picked() (PickItem, bool) {
	if p.picked == nil {
		return PickItem{}, false
	}
	return *p.picked, true
}

// Init asks for the background color.
func (p *Picker) Init() tea.Cmd { return tea.RequestBackgroundColor }

// Update handles one message.
func (p *Picker) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.width, p.height = msg.Width, msg.Height
		p.list.SetSize(msg.Width, msg.Height)
		return p, nil
	case tea.BackgroundColorMsg:
		p.st = newStyles(msg.IsDark(), p.st.noColor)
		p.applyStyles()
		return p, nil
	case tea.KeyPressMsg:
		if msg.String() == "ctrl+c" {
			return p, tea.Quit
		}
		if msg.String() == "enter" && !p.list.SettingFilter() {
			if e, ok := p.list.SelectedItem().(pickEntry); ok {
				p.picked = &e.it
				return p, tea.Quit
			}
			return p, nil
		}
	}
	var cmd tea.Cmd
	p.list, cmd = p.list.Update(msg)
	return p, cmd
}

// View renders the picker.
func (p *Picker) View() tea.View {
	lines := strings.Split(p.list.View(), "\n")
	for i, l := range lines {
		lines[i] = fit(l, p.width)
	}
	v := tea.NewView(strings.Join(lines, "\n"))
	v.AltScreen = true
	v.WindowTitle = "lockstep · pick " + article(p.what) + " " + p.what
	return v
}

// article is "an" before a vowel, else "a".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// Pick lets the operator choose one of items (lockstep run without a
// runbook argument). It returns ErrCancelled when they leave without one.
func Pick(ctx context.Context, items []PickItem) (PickItem, error) {
	if len(items) == 0 {
		return PickItem{}, fmt.Errorf("pick a runbook: none found: pass a runbook file or a protocol name")
	}
	p := NewPicker(items)
	final, err := tea.NewProgram(p, tea.WithContext(ctx)).Run()
	if err != nil {
		return PickItem{}, fmt.Errorf("pick %s %s: %w", article(p.what), p.what, err)
	}
	if it, ok := final.(*Picker).Picked(); ok {
		return it, nil
	}
	return PickItem{}, ErrCancelled
}
