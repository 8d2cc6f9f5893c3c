package engine

import (
	"context"
	"fmt"
)

// PromptKind says what the engine is asking.
type PromptKind string

// Prompt kinds and the answers key each one reads in an answers file.
const (
	PromptChecklist   PromptKind = "checklist"   // answers: {check: all}
	PromptDecision    PromptKind = "decision"    // {choice: X, reason: "…"}
	PromptApproval    PromptKind = "approval"    // {approve: NAME, reason: "…"}
	PromptConfirmEnv  PromptKind = "confirm_env" // top-level confirm_env: NAME
	PromptDestructive PromptKind = "destructive" // {confirm: true}
	PromptInterrupted PromptKind = "interrupted" // {retry: true} | {done: "reason"} | {skip: "reason"}
	PromptFailed      PromptKind = "failed"      // {retry: true} | {skip: "reason"} | {abort: true}
	PromptManual      PromptKind = "manual"      // manual step without checklist: acknowledge
	PromptStep        PromptKind = "step"        // step-by-step mode, before an automated step: {run: true} | {skip: "reason"}
	PromptReason      PromptKind = "reason"      // free text (rollback reason, rehearsal-drift ack, lease takeover)
)

// Prompt is a question the engine asks the operator through a Prompter.
type Prompt struct {
	Kind      PromptKind
	Step      string   // step id ("" for session-level prompts)
	Title     string   // one line
	Text      string   // Markdown
	Choices   []string // decision choices
	Checklist []string
	Role      string   // approval: role name
	Holders   []string // approval: who holds the role
	Expect    string   // confirm_env: the environment name to type
	Key       string   // answers-file key that answers this prompt, for error messages
	Retry     string   // why the previous answer was rejected ("" on the first ask)
}

// Action is what the operator chose at an interrupted or failed step.
type Action string

// Actions.
const (
	ActionNone  Action = ""
	ActionRetry Action = "retry"
	ActionDone  Action = "done"
	ActionSkip  Action = "skip"
	ActionAbort Action = "abort"
	// ActionRollback (failed prompt): roll back the completed steps.
	ActionRollback Action = "rollback"
)

// Answer is the operator's reply to a Prompt.
type Answer struct {
	Choice   string // decision
	Reason   string // decision rationale, approval reason, skip/done reason, free text
	Approver string // approval
	Checked  []int  // checklist: indexes ticked, in order
	Confirm  bool   // destructive / manual acknowledge
	Value    string // confirm_env: what was typed
	Action   Action // interrupted / failed
}

// Prompter obtains answers from the operator. Ask blocks until an answer,
// ctx is done, the operator quits (ErrQuit) or no answer can come
// (a *MissingAnswerError).
type Prompter interface {
	Ask(ctx context.Context, p Prompt) (Answer, error)
}

// PreSkipper is an optional Prompter capability: the operator decided
// before a step came up (an answers file's `{skip: "reason"}`) that it
// must not run. The engine asks before a pending or interrupted step
// starts, even one that would not prompt (a shell or migrate step), and
// journals the skip as the operator's, with the reason.
type PreSkipper interface {
	PreSkip(step string) (reason string, ok bool)
}

// MissingAnswerError reports a prompt that a non-interactive front end has
// no answer for. The CLI maps it to exit code 2.
type MissingAnswerError struct {
	Step string
	Key  string // e.g. "go-no-go.approve" or "confirm_env"
	File string // answers file, if any
}

func (e *MissingAnswerError) Error() string {
	where := "no --answers file given"
	if e.File != "" {
		where = e.File
	}
	return fmt.Sprintf("missing answer %q (%s): add it to the answers file", e.Key, where)
}

// Unwrap makes errors.Is(err, ErrNoAnswer) true.
func (e *MissingAnswerError) Unwrap() error { return ErrNoAnswer }
