package tui

import (
	"fmt"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
)

var actionLabels = map[engine.Action]string{
	engine.ActionRetry:    "retry the step",
	engine.ActionDone:     "mark done (with a reason)",
	engine.ActionSkip:     "skip (with a reason)",
	engine.ActionAbort:    "abort the session",
	engine.ActionRollback: "roll back completed steps",
}

// title is the question the form asks. The engine titles the prompts of
// manual, decision and approval steps with the step id, which the pane's
// first line already shows: those get the question for their kind.
func (f *form) title() string {
	switch f.kind {
	case engine.PromptChecklist:
		return "Tick each item, then enter"
	case engine.PromptDecision:
		return "Choose and give a rationale"
	case engine.PromptApproval:
		if f.prompt.Role != "" {
			return "Approval by " + f.prompt.Role
		}
	case engine.PromptManual:
		return "Confirm when done"
	}
	return f.prompt.Title
}

// View renders the form as lines of at most width cells.
func (f *form) View(st *styles) []string {
	lines := []string{st.PromptBox.Render("▶ " + f.title())}
	if f.local() && f.prompt.Text != "" {
		lines = append(lines, st.Dim.Render(f.prompt.Text))
	}
	mark := func(sel bool, s string) string {
		if sel {
			return st.Selected.Render("› " + s)
		}
		return "  " + s
	}
	switch f.kind {
	case engine.PromptChecklist:
		for i, item := range f.prompt.Checklist {
			box := "[ ] "
			if f.ticked[i] {
				box = st.Done.Render("[✓]") + " "
			}
			lines = append(lines, mark(i == f.cursor, box+item))
		}
	case engine.PromptDecision:
		for i, c := range f.prompt.Choices {
			lines = append(lines, mark(i == f.cursor, c))
		}
	case engine.PromptApproval:
		holders := strings.Join(f.prompt.Holders, ", ")
		if holders == "" {
			holders = "—"
		}
		lines = append(lines, fmt.Sprintf("role %s · holders: %s", f.prompt.Role, holders))
	case engine.PromptConfirmEnv:
		lines = append(lines, fmt.Sprintf("Type the environment name %s to continue.", st.Error.Render(f.prompt.Expect)))
	case engine.PromptDestructive:
		lines = append(lines, st.Warn.Render("This step is destructive. enter runs it, s skips it (with a reason)."))
	case engine.PromptManual:
		lines = append(lines, "Press enter when done.")
	case engine.PromptInterrupted, engine.PromptFailed:
		for i, a := range f.actions {
			lines = append(lines, mark(i == f.cursor, actionLabels[a]))
		}
	}
	for i, in := range f.inputs {
		lines = append(lines, fmt.Sprintf("%-11s %s", f.labels[i]+":", in.View()))
	}
	if f.pending != engine.ActionNone {
		lines = append(lines, fmt.Sprintf("%-11s %s", string(f.pending)+" reason:", f.reason.View()))
	}
	switch {
	case f.err != "":
		lines = append(lines, st.Error.Render("✗ "+f.err))
	case f.prompt.Retry != "":
		lines = append(lines, st.Error.Render("✗ "+f.prompt.Retry))
	}
	return lines
}
