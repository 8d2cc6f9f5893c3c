package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/lockstep-run/lockstep/engine"
)

// Local forms: questions the TUI asks before sending a Command.
const (
	formAbort    engine.PromptKind = "tui.abort"
	formRollback engine.PromptKind = "tui.rollback"
	formNote     engine.PromptKind = "tui.note"
	formQuit     engine.PromptKind = "tui.quit"
)

// intentKind says what a form wants the root model to do.
type intentKind int

const (
	intentNone   intentKind = iota
	intentSubmit            // answer the prompt / send the command
	intentCancel            // close a local form
	intentQuit              // the operator quit from the prompt
	intentTick              // a checklist item was ticked: journal it now
)

// intent is what a form's Update returns; the root model acts on it.
type intent struct {
	kind   intentKind
	answer engine.Answer
	item   int // intentTick: the item ticked
}

// form is the prompt in play: an engine prompt or a local question.
type form struct {
	kind    engine.PromptKind
	prompt  engine.Prompt
	cursor  int
	ticked  []bool
	order   []int
	actions []engine.Action
	inputs  []textinput.Model
	labels  []string
	focus   int
	pending engine.Action // skip/done chosen, waiting for its reason
	reason  textinput.Model
	err     string
	width   int
	// text is the prompt's explanation rendered for the pane (the root
	// model renders it: engine prompts only, when the step pane does not
	// show the same text already).
	text []string
}

func newInput(placeholder string, st *styles) textinput.Model {
	ti := textinput.New()
	ti.Placeholder = placeholder
	ti.Prompt = "> "
	ts := textinput.DefaultStyles(st.isDark)
	ts.Cursor.Blink = false // a steady cursor: no timers, stable screens
	if st.noColor {
		plain := textinput.StyleState{Placeholder: lipgloss.NewStyle().Faint(true)}
		ts.Focused, ts.Blurred, ts.Cursor.Color = plain, plain, nil
	}
	ti.SetStyles(ts)
	ti.CharLimit = 500
	return ti
}

// newForm builds the form for an engine prompt.
func newForm(p engine.Prompt, st *styles) *form {
	f := &form{kind: p.Kind, prompt: p, reason: newInput("reason (required)", st)}
	switch p.Kind {
	case engine.PromptChecklist:
		f.ticked = make([]bool, len(p.Checklist))
	case engine.PromptDecision:
		f.addInput("rationale", "why this choice (required)", st)
	case engine.PromptApproval:
		f.addInput("approver", "name of the approver", st)
		f.addInput("reason", "reason (required)", st)
	case engine.PromptConfirmEnv:
		f.addInput("environment", fmt.Sprintf("type %s to confirm", p.Expect), st)
	case engine.PromptDestructive:
		f.addInput("confirm", fmt.Sprintf("type %s to run it", f.destructiveID()), st)
	case engine.PromptReason, formRollback:
		f.addInput("reason", "reason (required)", st)
	case formNote:
		f.addInput("note", "a note or learning", st)
	case engine.PromptInterrupted:
		f.actions = []engine.Action{engine.ActionRetry, engine.ActionDone, engine.ActionSkip}
	case engine.PromptFailed:
		f.actions = []engine.Action{engine.ActionRetry, engine.ActionSkip, engine.ActionRollback, engine.ActionAbort}
	}
	if len(f.inputs) > 0 {
		f.inputs[0].Focus()
	}
	return f
}

// newLocalForm builds one of the TUI's own questions.
func newLocalForm(kind engine.PromptKind, st *styles) *form {
	titles := map[engine.PromptKind]string{
		formAbort:    "Abort the session?",
		formRollback: "Roll back: why?",
		formNote:     "Add a note",
	}
	texts := map[engine.PromptKind]string{
		formAbort:    "In-flight writes finish and progress is checkpointed. enter aborts, esc goes back.",
		formRollback: "Rollback steps of completed steps run in reverse order.",
		formNote:     "The note is journaled with the session.",
	}
	return newForm(engine.Prompt{Kind: kind, Title: titles[kind], Text: texts[kind]}, st)
}

func (f *form) addInput(label, placeholder string, st *styles) {
	f.labels = append(f.labels, label)
	f.inputs = append(f.inputs, newInput(placeholder, st))
}

// destructiveID is what the operator types to run a destructive step: the
// step's id.
func (f *form) destructiveID() string {
	if f.prompt.Step != "" {
		return f.prompt.Step
	}
	return "yes"
}

// local reports whether the form is the TUI's own question.
func (f *form) local() bool { return strings.HasPrefix(string(f.kind), "tui.") }

// capturesText reports whether printable keys go to a text input.
func (f *form) capturesText() bool { return f.pending != engine.ActionNone || f.typing() }

// typing reports whether the form's text field has the focus (esc leaves
// it, so the session's keys work at any prompt).
func (f *form) typing() bool { return len(f.inputs) > 0 && f.inputs[f.focus].Focused() }

// leftField reports whether the operator left the form's text field.
func (f *form) leftField() bool {
	return len(f.inputs) > 0 && !f.typing() && f.pending == engine.ActionNone
}

// canSkip reports whether s asks for a skip reason in this form.
func (f *form) canSkip() bool {
	switch f.kind {
	case engine.PromptChecklist, engine.PromptManual, engine.PromptDestructive,
		engine.PromptInterrupted, engine.PromptFailed, engine.PromptStep:
		return f.pending == engine.ActionNone && !f.typing()
	}
	return false
}

// SetSize sets the width the form renders in.
func (f *form) SetSize(w int) {
	f.width = w
	for i := range f.inputs {
		f.inputs[i].SetWidth(max(w-16, 8))
	}
	f.reason.SetWidth(max(w-16, 8))
}

// Update handles a key and returns the form's intent.
func (f *form) Update(msg tea.KeyPressMsg) (intent, tea.Cmd) {
	f.err = ""
	if f.pending != engine.ActionNone {
		return f.updateReason(msg)
	}
	k := msg.String()
	switch {
	case f.local() && k == "esc":
		return intent{kind: intentCancel}, nil
	case f.typing() && k == "esc":
		// Leave the field: p, a, b, n, q and ? act again; tab comes back.
		f.inputs[f.focus].Blur()
		return intent{}, nil
	case f.leftField() && k == "tab" && f.kind != engine.PromptApproval:
		return intent{}, f.inputs[f.focus].Focus()
	case !f.capturesText() && k == "q":
		return intent{kind: intentQuit}, nil
	case f.canSkip() && k == "s":
		return f.askReason(engine.ActionSkip)
	}
	switch f.kind {
	case engine.PromptChecklist:
		return f.updateChecklist(k), nil
	case engine.PromptDecision:
		return f.updateDecision(msg)
	case engine.PromptApproval:
		return f.updateApproval(msg)
	case engine.PromptInterrupted, engine.PromptFailed:
		return f.updateActions(k)
	case formAbort, formQuit:
		if k == "enter" || k == "y" {
			return intent{kind: intentSubmit, answer: engine.Answer{Confirm: true}}, nil
		}
		if k == "n" {
			return intent{kind: intentCancel}, nil
		}
		return intent{}, nil
	}
	if len(f.inputs) > 0 {
		return f.updateSingleInput(msg)
	}
	// manual, destructive and kinds this front end does not know: acknowledge.
	if k == "enter" {
		return intent{kind: intentSubmit, answer: engine.Answer{Confirm: true}}, nil
	}
	return intent{}, nil
}

func (f *form) askReason(a engine.Action) (intent, tea.Cmd) {
	f.pending = a
	f.reason.Reset()
	return intent{}, f.reason.Focus()
}

func (f *form) updateReason(msg tea.KeyPressMsg) (intent, tea.Cmd) {
	switch msg.String() {
	case "esc":
		f.pending = engine.ActionNone
		f.reason.Blur()
		return intent{}, nil
	case "enter":
		r := strings.TrimSpace(f.reason.Value())
		if r == "" {
			f.err = "a reason is required"
			return intent{}, nil
		}
		// A skipped checklist sends the items ticked so far: they were
		// done, and the engine journals them before the skip.
		return intent{kind: intentSubmit, answer: engine.Answer{Action: f.pending, Reason: r, Checked: f.tickedSoFar()}}, nil
	}
	var cmd tea.Cmd
	f.reason, cmd = f.reason.Update(msg)
	return intent{}, cmd
}

// tickedSoFar is the checklist items ticked, in the order ticked (nil for
// other forms).
func (f *form) tickedSoFar() []int {
	if f == nil || f.kind != engine.PromptChecklist || len(f.order) == 0 {
		return nil
	}
	return slices.Clone(f.order)
}

func (f *form) updateChecklist(k string) intent {
	n := len(f.ticked)
	switch k {
	case "up", "k":
		f.cursor = max(f.cursor-1, 0)
	case "down", "j":
		f.cursor = min(f.cursor+1, max(n-1, 0))
	case "space":
		if n == 0 {
			break
		}
		if f.ticked[f.cursor] {
			// Each tick is journaled as it is made: what was attested
			// stays attested.
			f.err = "ticked and journaled: cannot be undone"
			break
		}
		i := f.cursor
		f.ticked[i] = true
		f.order = append(f.order, i)
		f.cursor = min(f.cursor+1, n-1)
		return intent{kind: intentTick, item: i}
	case "enter":
		if left := n - len(f.order); left > 0 {
			f.err = fmt.Sprintf("%d item(s) left to tick (or s to skip with a reason)", left)
			return intent{}
		}
		return intent{kind: intentSubmit, answer: engine.Answer{Checked: slices.Clone(f.order)}}
	}
	return intent{}
}

func (f *form) updateDecision(msg tea.KeyPressMsg) (intent, tea.Cmd) {
	switch msg.String() {
	case "up":
		f.cursor = max(f.cursor-1, 0)
		return intent{}, nil
	case "down":
		f.cursor = min(f.cursor+1, max(len(f.prompt.Choices)-1, 0))
		return intent{}, nil
	case "enter":
		r := strings.TrimSpace(f.inputs[0].Value())
		if len(f.prompt.Choices) == 0 {
			f.err = "no choices to pick from"
			return intent{}, nil
		}
		if r == "" {
			f.err = "a rationale is required"
			return intent{}, nil
		}
		return intent{kind: intentSubmit, answer: engine.Answer{Choice: f.prompt.Choices[f.cursor], Reason: r}}, nil
	}
	var cmd tea.Cmd
	f.inputs[0], cmd = f.inputs[0].Update(msg)
	return intent{}, cmd
}

func (f *form) updateApproval(msg tea.KeyPressMsg) (intent, tea.Cmd) {
	switch msg.String() {
	case "tab", "down", "shift+tab", "up":
		return intent{}, f.setFocus(1 - f.focus)
	case "enter":
		if f.focus == 0 {
			return intent{}, f.setFocus(1)
		}
		who := strings.TrimSpace(f.inputs[0].Value())
		r := strings.TrimSpace(f.inputs[1].Value())
		switch {
		case who == "":
			f.err = "the approver's name is required"
		case len(f.prompt.Holders) > 0 && !slices.Contains(f.prompt.Holders, who):
			f.err = fmt.Sprintf("%s does not hold the %s role (%s)", who, f.prompt.Role, strings.Join(f.prompt.Holders, ", "))
		case r == "":
			f.err = "a reason is required"
		default:
			return intent{kind: intentSubmit, answer: engine.Answer{Approver: who, Reason: r}}, nil
		}
		return intent{}, nil
	}
	var cmd tea.Cmd
	f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
	return intent{}, cmd
}

func (f *form) setFocus(i int) tea.Cmd {
	f.inputs[f.focus].Blur()
	f.focus = i
	return f.inputs[i].Focus()
}

func (f *form) updateSingleInput(msg tea.KeyPressMsg) (intent, tea.Cmd) {
	if msg.String() != "enter" {
		var cmd tea.Cmd
		f.inputs[0], cmd = f.inputs[0].Update(msg)
		return intent{}, cmd
	}
	v := strings.TrimSpace(f.inputs[0].Value())
	switch {
	case f.kind == engine.PromptDestructive && v != f.destructiveID():
		f.err = fmt.Sprintf("type %q exactly to run this destructive step", f.destructiveID())
	case f.kind == engine.PromptDestructive:
		return intent{kind: intentSubmit, answer: engine.Answer{Confirm: true, Value: v}}, nil
	case f.kind == engine.PromptConfirmEnv && v != f.prompt.Expect:
		f.err = fmt.Sprintf("type %q exactly to confirm", f.prompt.Expect)
	case v == "":
		f.err = "text is required"
	case f.kind == engine.PromptConfirmEnv:
		return intent{kind: intentSubmit, answer: engine.Answer{Value: v, Confirm: true}}, nil
	default:
		return intent{kind: intentSubmit, answer: engine.Answer{Reason: v}}, nil
	}
	return intent{}, nil
}

func (f *form) updateActions(k string) (intent, tea.Cmd) {
	pick := func(a engine.Action) (intent, tea.Cmd) {
		switch a {
		case engine.ActionDone, engine.ActionSkip, engine.ActionRollback:
			return f.askReason(a) // a rollback asks why, as b does
		}
		return intent{kind: intentSubmit, answer: engine.Answer{Action: a}}, nil
	}
	switch k {
	case "up", "k":
		f.cursor = max(f.cursor-1, 0)
	case "down", "j":
		f.cursor = min(f.cursor+1, len(f.actions)-1)
	case "enter":
		return pick(f.actions[f.cursor])
	case "r":
		return pick(engine.ActionRetry)
	case "d":
		if slices.Contains(f.actions, engine.ActionDone) {
			return pick(engine.ActionDone)
		}
	}
	return intent{}, nil
}
