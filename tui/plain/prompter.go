package plain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/lockstep-run/lockstep/engine"
)

var (
	_ engine.Prompter   = (*Prompter)(nil)
	_ engine.PreSkipper = (*Prompter)(nil)
)

// Prompter answers the engine's prompts from an answers file. It never
// reads stdin: a prompt the file does not answer fails at once with a
// *engine.MissingAnswerError naming the key to add.
type Prompter struct {
	answers *Answers
	out     io.Writer
	mu      sync.Mutex
	// Yes confirms destructive steps that have no {confirm: …} answer
	// (--yes). It never answers confirm_env: protected environments need
	// the typed name.
	Yes bool
	// State, when set, returns the session's current state (the CLI sets
	// it to the session's State once the session is started or resumed).
	// A checklist then shows the items already journaled as ticked — by
	// an earlier ask or attempt, or before a resume — as [x]: they count,
	// as in the TUI, and need no answer again.
	State func() engine.State
}

// NewPrompter returns a Prompter answering from answers (nil: no answers
// file) and printing each question and its answer to out.
func NewPrompter(answers *Answers, out io.Writer) *Prompter {
	if answers == nil {
		answers = &Answers{Steps: map[string]*StepAnswers{}}
	}
	return &Prompter{answers: answers, out: out}
}

// Ask answers p from the answers file.
func (pr *Prompter) Ask(ctx context.Context, p engine.Prompt) (engine.Answer, error) {
	if err := ctx.Err(); err != nil {
		return engine.Answer{}, err
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	s := pr.answers.Steps[p.Step]
	if p.Retry != "" && s != nil {
		// The engine rejected the answer this file gave: asking again
		// would give the same one. Stop resumably (exit 2) at its line.
		key := answerKey(p)
		what := p.Step
		if key != "" {
			what += "." + key
		}
		err := fmt.Errorf("%w: %w", engine.ErrInvalidAnswer, s.errAt(key, "fix it, then resume the session", "%s: %s", what, p.Retry))
		pr.printf("  ? %s: %v\n", title(p), err)
		return engine.Answer{}, err
	}
	done := pr.journaled(p)
	pr.show(p, done)
	ans, err := pr.answer(p, s, done)
	var bad *AnswerError
	if errors.As(err, &bad) && !errors.Is(err, engine.ErrInvalidAnswer) {
		// A wrong answer in the file is bad input, not a failed step:
		// the engine stops the session resumably (exit 2).
		err = fmt.Errorf("%w: %w", engine.ErrInvalidAnswer, err)
	}
	if err != nil {
		pr.printf("  ? %s: %v\n", title(p), err)
		return engine.Answer{}, err
	}
	pr.printf("  ? %s → %s\n", title(p), describe(p, ans, done))
	return ans, nil
}

// PreSkip implements engine.PreSkipper: a step whose answers say
// `{skip: "reason"}` is skipped before it runs, whatever its kind. (A
// failed step's skip is answered by Ask, as a prompt.)
func (pr *Prompter) PreSkip(step string) (string, bool) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	s := pr.answers.Steps[step]
	if !s.Has("skip") {
		return "", false
	}
	pr.printf("  ? %s: skip → %s\n", step, s.Skip)
	return s.Skip, true
}

// answerKey is the answers-file key that answers a prompt of p's kind.
func answerKey(p engine.Prompt) string {
	switch p.Kind {
	case engine.PromptChecklist:
		return "check"
	case engine.PromptDecision:
		return "choice"
	case engine.PromptApproval:
		return "approve"
	case engine.PromptDestructive:
		return "confirm"
	case engine.PromptStep:
		return "run"
	case engine.PromptReason:
		return "reason"
	}
	return ""
}

// journaled returns which items of a checklist prompt are already
// journaled as ticked (nil without State or a checklist).
func (pr *Prompter) journaled(p engine.Prompt) []bool {
	if pr.State == nil || p.Kind != engine.PromptChecklist || len(p.Checklist) == 0 {
		return nil
	}
	st := pr.State()
	ss := st.StepState(p.Step)
	if ss == nil {
		return nil
	}
	done := make([]bool, len(p.Checklist))
	for _, i := range ss.Checked {
		if i >= 0 && i < len(done) {
			done[i] = true
		}
	}
	return done
}

// answer computes the answer to p from the step's answers s (nil: none);
// done marks the checklist items already journaled as ticked.
func (pr *Prompter) answer(p engine.Prompt, s *StepAnswers, done []bool) (engine.Answer, error) {
	if s.Has("skip") && p.Kind != engine.PromptConfirmEnv && p.Kind != engine.PromptReason {
		return engine.Answer{Action: engine.ActionSkip, Reason: s.Skip}, nil
	}
	switch p.Kind {
	case engine.PromptConfirmEnv:
		return pr.confirmEnv(p)
	case engine.PromptManual:
		// Plain mode runs steps in order without "run this?" prompts: a
		// manual step without a checklist is acknowledged by being shown.
		return engine.Answer{Confirm: true}, nil
	case engine.PromptChecklist:
		return pr.checklist(p, s, done)
	case engine.PromptDecision:
		return pr.decision(p, s)
	case engine.PromptApproval:
		return pr.approval(p, s)
	case engine.PromptDestructive:
		if s.Has("confirm") {
			return engine.Answer{Confirm: s.Confirm}, nil
		}
		if pr.Yes {
			return engine.Answer{Confirm: true, Reason: "--yes"}, nil
		}
		return engine.Answer{}, pr.missing(p, "confirm")
	case engine.PromptInterrupted, engine.PromptFailed:
		return pr.action(p, s)
	case engine.PromptStep:
		// A {skip: "reason"} was taken before the step came up (PreSkip);
		// --yes does not answer: the operator asked to be asked.
		if s.Has("run") {
			return engine.Answer{Confirm: true}, nil
		}
		return engine.Answer{}, pr.missing(p, "run")
	case engine.PromptReason:
		if r, ok := topReasons[p.Key]; ok && *r.field(pr.answers) != "" {
			return engine.Answer{Reason: *r.field(pr.answers)}, nil
		}
		if s.Has("reason") {
			return engine.Answer{Reason: s.Reason}, nil
		}
		return engine.Answer{}, pr.missing(p, "reason")
	}
	return engine.Answer{}, fmt.Errorf("answer prompt %q: %w", p.Kind, pr.missing(p, string(p.Kind)))
}

func (pr *Prompter) confirmEnv(p engine.Prompt) (engine.Answer, error) {
	a := pr.answers
	if a.ConfirmEnv == "" {
		return engine.Answer{}, pr.missing(p, "")
	}
	if p.Expect != "" && a.ConfirmEnv != p.Expect {
		return engine.Answer{}, &AnswerError{File: a.File, Line: a.confirmPos.line, Col: a.confirmPos.col,
			Msg:  fmt.Sprintf("confirm_env is %q but the environment is %q", a.ConfirmEnv, p.Expect),
			Hint: "confirm_env: " + p.Expect}
	}
	return engine.Answer{Value: a.ConfirmEnv}, nil
}

func (pr *Prompter) checklist(p engine.Prompt, s *StepAnswers, done []bool) (engine.Answer, error) {
	if !s.Has("check") {
		if len(done) > 0 && !slices.Contains(done, false) {
			// Every item was ticked before: nothing is left to answer.
			return engine.Answer{Checked: indexes(done), Confirm: true}, nil
		}
		return engine.Answer{}, pr.missing(p, "check")
	}
	if s.CheckAll {
		idx := make([]int, len(p.Checklist))
		for i := range idx {
			idx[i] = i
		}
		return engine.Answer{Checked: idx, Confirm: true}, nil
	}
	var idx []int
	for _, it := range s.Check {
		i := it.Index - 1
		if it.Text != "" {
			i = slices.Index(p.Checklist, it.Text)
		}
		if i < 0 || i >= len(p.Checklist) {
			what := it.Text
			if what == "" {
				what = fmt.Sprint(it.Index)
			}
			return engine.Answer{}, s.errAt("check", "items: "+numbered(p.Checklist),
				"%s.check: no checklist item %q", s.Step, what)
		}
		if !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	return engine.Answer{Checked: idx, Confirm: true}, nil
}

func (pr *Prompter) decision(p engine.Prompt, s *StepAnswers) (engine.Answer, error) {
	if !s.Has("choice") {
		return engine.Answer{}, pr.missing(p, "choice")
	}
	if len(p.Choices) > 0 && !slices.Contains(p.Choices, s.Choice) {
		return engine.Answer{}, s.errAt("choice", "choose one of: "+strings.Join(p.Choices, ", "),
			"%s.choice %q is not a choice of this decision", s.Step, s.Choice)
	}
	return engine.Answer{Choice: s.Choice, Reason: s.Reason}, nil
}

func (pr *Prompter) approval(p engine.Prompt, s *StepAnswers) (engine.Answer, error) {
	if !s.Has("approve") {
		return engine.Answer{}, pr.missing(p, "approve")
	}
	if len(p.Holders) > 0 && !slices.Contains(p.Holders, s.Approve) {
		return engine.Answer{}, s.errAt("approve", fmt.Sprintf("the %s role is held by %s", p.Role, strings.Join(p.Holders, ", ")),
			"%s.approve: %q does not hold the %s role", s.Step, s.Approve, p.Role)
	}
	return engine.Answer{Approver: s.Approve, Reason: s.Reason}, nil
}

// action answers an interrupted or failed step: retry, done, skip (handled
// in answer) or abort. A failed step without an answer fails the session
// (ErrStepFailed, exit 1) rather than waiting for input.
func (pr *Prompter) action(p engine.Prompt, s *StepAnswers) (engine.Answer, error) {
	switch {
	case s.Has("retry") && s.Retry:
		return engine.Answer{Action: engine.ActionRetry, Reason: s.Reason}, nil
	case s.Has("done") && p.Kind == engine.PromptInterrupted:
		return engine.Answer{Action: engine.ActionDone, Reason: s.Done}, nil
	case s.Has("abort") && s.Abort:
		return engine.Answer{Action: engine.ActionAbort, Reason: s.Reason}, nil
	}
	if p.Kind == engine.PromptFailed {
		where := "no --answers file given"
		if pr.answers.File != "" {
			where = pr.answers.File
		}
		return engine.Answer{}, fmt.Errorf("%w %s (%s)", ErrStepFailed, p.Step, where)
	}
	return engine.Answer{}, pr.missing(p, "retry")
}

// missing builds the error for an unanswered prompt. The prompt's own Key
// wins; otherwise the key is step.field (or confirm_env).
func (pr *Prompter) missing(p engine.Prompt, field string) error {
	key := p.Key
	if key == "" {
		switch {
		case p.Kind == engine.PromptConfirmEnv:
			key = "confirm_env"
		case p.Step == "":
			key = field
		default:
			key = p.Step + "." + field
		}
	}
	return &engine.MissingAnswerError{Step: p.Step, Key: key, File: pr.answers.File}
}

// show prints the prompt's text and checklist, indented; the items of done
// (already journaled as ticked) are shown [x].
func (pr *Prompter) show(p engine.Prompt, done []bool) {
	if t := strings.TrimSpace(p.Text); t != "" {
		for _, line := range strings.Split(t, "\n") {
			pr.printf("    %s\n", line)
		}
	}
	for i, it := range p.Checklist {
		box := "[ ]"
		if i < len(done) && done[i] {
			box = "[x]"
		}
		pr.printf("    %d. %s %s\n", i+1, box, it)
	}
}

func (pr *Prompter) printf(format string, args ...any) {
	if pr.out != nil {
		fmt.Fprintf(pr.out, format, args...)
	}
}

// title is the one-line label of a prompt.
func title(p engine.Prompt) string {
	if p.Title != "" {
		return p.Title
	}
	if p.Step != "" {
		return p.Step + " (" + string(p.Kind) + ")"
	}
	return string(p.Kind)
}

// describe renders an answer for the log; done marks the checklist items
// ticked before this answer.
func describe(p engine.Prompt, a engine.Answer, done []bool) string {
	switch {
	case a.Action != engine.ActionNone:
		if a.Reason != "" {
			return fmt.Sprintf("%s: %s", a.Action, a.Reason)
		}
		return string(a.Action)
	case p.Kind == engine.PromptConfirmEnv:
		return "typed " + a.Value
	case p.Kind == engine.PromptChecklist:
		return describeTicks(a.Checked, done)
	case p.Kind == engine.PromptDecision:
		return fmt.Sprintf("%s (%s)", a.Choice, a.Reason)
	case p.Kind == engine.PromptApproval:
		return fmt.Sprintf("approved by %s (%s)", a.Approver, a.Reason)
	case p.Kind == engine.PromptReason:
		return a.Reason
	case a.Confirm:
		return "confirmed"
	}
	return "not confirmed"
}

// describeTicks renders a checklist answer: the items it ticks, then
// those ticked before ("ticked 3; already ticked 1, 2").
func describeTicks(checked []int, done []bool) string {
	var now []string
	for _, c := range checked {
		if c < 0 || c >= len(done) || !done[c] {
			now = append(now, fmt.Sprint(c+1))
		}
	}
	var before []string
	for _, i := range indexes(done) {
		before = append(before, fmt.Sprint(i+1))
	}
	switch {
	case len(before) == 0:
		return "ticked " + strings.Join(now, ", ")
	case len(now) == 0:
		return "already ticked " + strings.Join(before, ", ")
	}
	return "ticked " + strings.Join(now, ", ") + "; already ticked " + strings.Join(before, ", ")
}

// indexes returns the indexes of the true values of marks.
func indexes(marks []bool) []int {
	var idx []int
	for i, m := range marks {
		if m {
			idx = append(idx, i)
		}
	}
	return idx
}

// numbered renders a checklist as "1. a; 2. b".
func numbered(items []string) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = fmt.Sprintf("%d. %s", i+1, it)
	}
	return strings.Join(parts, "; ")
}
