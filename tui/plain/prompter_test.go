package plain_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/tui/plain"
)

const answersSrc = `confirm_env: production
rehearsal_drift: "only comments changed since the rehearsal"
outside_window: "finish the backfill stopped at 01:58"
extend_window: "backfill nearly done, support agreed"
deploy: {check: all}
partial: {check: [2, "c"]}
wrongitem: {check: ["zzz"]}
pick: {choice: later, reason: "after billing"}
badpick: {choice: never, reason: "x"}
ok: {approve: bob, reason: "reviewed"}
notholder: {approve: mallory, reason: "trust me"}
drop: {confirm: true}
flaky: {retry: true}
gone: {done: "by hand"}
optional: {skip: "not today"}
stop: {abort: true}
snapshot: {run: true}
`

func TestPrompterAnswers(t *testing.T) {
	a, err := plain.ParseAnswers("ans.yaml", []byte(answersSrc))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		prompt  engine.Prompt
		want    engine.Answer
		wantKey string // MissingAnswerError key, "" when an answer is expected
		wantBad bool   // an *AnswerError (bad answer) is expected
	}{
		{"confirm env", engine.Prompt{Kind: engine.PromptConfirmEnv, Expect: "production", Key: "confirm_env"}, engine.Answer{Value: "production"}, "", false},
		{"confirm env wrong", engine.Prompt{Kind: engine.PromptConfirmEnv, Expect: "staging", Key: "confirm_env"}, engine.Answer{}, "", true},
		{"checklist all", engine.Prompt{Kind: engine.PromptChecklist, Step: "deploy", Checklist: []string{"a", "b"}}, engine.Answer{Checked: []int{0, 1}, Confirm: true}, "", false},
		{"checklist some", engine.Prompt{Kind: engine.PromptChecklist, Step: "partial", Checklist: []string{"a", "b", "c"}}, engine.Answer{Checked: []int{1, 2}, Confirm: true}, "", false},
		{"checklist unknown item", engine.Prompt{Kind: engine.PromptChecklist, Step: "wrongitem", Checklist: []string{"a"}}, engine.Answer{}, "", true},
		{"checklist missing", engine.Prompt{Kind: engine.PromptChecklist, Step: "nope", Checklist: []string{"a"}, Key: "nope.check"}, engine.Answer{}, "nope.check", false},
		{"manual acknowledged", engine.Prompt{Kind: engine.PromptManual, Step: "readme"}, engine.Answer{Confirm: true}, "", false},
		{"decision", engine.Prompt{Kind: engine.PromptDecision, Step: "pick", Choices: []string{"now", "later"}}, engine.Answer{Choice: "later", Reason: "after billing"}, "", false},
		{"decision not a choice", engine.Prompt{Kind: engine.PromptDecision, Step: "badpick", Choices: []string{"now"}}, engine.Answer{}, "", true},
		{"approval", engine.Prompt{Kind: engine.PromptApproval, Step: "ok", Role: "accountable", Holders: []string{"bob"}}, engine.Answer{Approver: "bob", Reason: "reviewed"}, "", false},
		{"approval by a non-holder", engine.Prompt{Kind: engine.PromptApproval, Step: "notholder", Role: "accountable", Holders: []string{"bob"}}, engine.Answer{}, "", true},
		{"approval missing", engine.Prompt{Kind: engine.PromptApproval, Step: "go-no-go", Key: "go-no-go.approve"}, engine.Answer{}, "go-no-go.approve", false},
		{"destructive", engine.Prompt{Kind: engine.PromptDestructive, Step: "drop"}, engine.Answer{Confirm: true}, "", false},
		{"destructive missing", engine.Prompt{Kind: engine.PromptDestructive, Step: "wipe"}, engine.Answer{}, "wipe.confirm", false},
		{"interrupted retry", engine.Prompt{Kind: engine.PromptInterrupted, Step: "flaky"}, engine.Answer{Action: engine.ActionRetry}, "", false},
		{"interrupted done", engine.Prompt{Kind: engine.PromptInterrupted, Step: "gone"}, engine.Answer{Action: engine.ActionDone, Reason: "by hand"}, "", false},
		{"interrupted skip", engine.Prompt{Kind: engine.PromptInterrupted, Step: "optional"}, engine.Answer{Action: engine.ActionSkip, Reason: "not today"}, "", false},
		{"interrupted missing", engine.Prompt{Kind: engine.PromptInterrupted, Step: "x", Key: "x.retry|done|skip"}, engine.Answer{}, "x.retry|done|skip", false},
		{"rehearsal drift", engine.Prompt{Kind: engine.PromptReason, Key: "rehearsal_drift"}, engine.Answer{Reason: "only comments changed since the rehearsal"}, "", false},
		{"resume outside the window", engine.Prompt{Kind: engine.PromptReason, Key: "outside_window"}, engine.Answer{Reason: "finish the backfill stopped at 01:58"}, "", false},
		{"extend the window during a run", engine.Prompt{Kind: engine.PromptReason, Key: "extend_window"}, engine.Answer{Reason: "backfill nearly done, support agreed"}, "", false},
		{"step by step run", engine.Prompt{Kind: engine.PromptStep, Step: "snapshot", Key: "snapshot.run"}, engine.Answer{Confirm: true}, "", false},
		{"step by step missing", engine.Prompt{Kind: engine.PromptStep, Step: "drop", Key: "drop.run"}, engine.Answer{}, "drop.run", false},
		{"failed abort", engine.Prompt{Kind: engine.PromptFailed, Step: "stop"}, engine.Answer{Action: engine.ActionAbort}, "", false},
		{"failed retry", engine.Prompt{Kind: engine.PromptFailed, Step: "flaky"}, engine.Answer{Action: engine.ActionRetry}, "", false},
		{"skip answers a decision too", engine.Prompt{Kind: engine.PromptDecision, Step: "optional"}, engine.Answer{Action: engine.ActionSkip, Reason: "not today"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			pr := plain.NewPrompter(a, &out)
			got, err := pr.Ask(context.Background(), tt.prompt)
			var missing *engine.MissingAnswerError
			var bad *plain.AnswerError
			switch {
			case tt.wantKey != "":
				if !errors.As(err, &missing) || missing.Key != tt.wantKey || missing.File != "ans.yaml" {
					t.Fatalf("Ask() error = %v, want missing answer %q", err, tt.wantKey)
				}
				if !errors.Is(err, engine.ErrNoAnswer) {
					t.Errorf("missing answer does not wrap ErrNoAnswer")
				}
			case tt.wantBad:
				if !errors.As(err, &bad) || !errors.Is(err, plain.ErrBadAnswers) {
					t.Fatalf("Ask() error = %v, want an *AnswerError", err)
				}
			default:
				if err != nil {
					t.Fatalf("Ask() error = %v", err)
				}
				if got.Choice != tt.want.Choice || got.Reason != tt.want.Reason || got.Approver != tt.want.Approver ||
					got.Confirm != tt.want.Confirm || got.Value != tt.want.Value || got.Action != tt.want.Action ||
					!slices.Equal(got.Checked, tt.want.Checked) {
					t.Errorf("Ask() = %+v, want %+v", got, tt.want)
				}
			}
			if out.Len() == 0 {
				t.Error("Ask printed nothing")
			}
		})
	}
}

// TestPrompterFailedWithoutAnswer: a failed step the answers file says
// nothing about fails the session (ErrStepFailed, exit 1): it neither
// aborts it nor counts as a missing answer (exit 2).
func TestPrompterFailedWithoutAnswer(t *testing.T) {
	a, err := plain.ParseAnswers("ans.yaml", []byte(answersSrc))
	if err != nil {
		t.Fatal(err)
	}
	ans, err := plain.NewPrompter(a, nil).Ask(context.Background(),
		engine.Prompt{Kind: engine.PromptFailed, Step: "x", Key: "x.retry|skip|abort"})
	if !errors.Is(err, plain.ErrStepFailed) || errors.Is(err, engine.ErrNoAnswer) {
		t.Fatalf("Ask() = %+v, %v; want ErrStepFailed, not a missing answer", ans, err)
	}
	if ans.Action != engine.ActionNone {
		t.Errorf("Action = %q, want none", ans.Action)
	}
	if msg := err.Error(); !strings.Contains(msg, "x") || !strings.Contains(msg, "ans.yaml") {
		t.Errorf("error %q does not name the step and the answers file", msg)
	}
}

// TestPrompterChecklistJournaledTicks: the items of a checklist already
// journaled as ticked (before a resume, or by an earlier ask) are shown
// [x] and need no answer again, as in the TUI.
func TestPrompterChecklistJournaledTicks(t *testing.T) {
	a, err := plain.ParseAnswers("ans.yaml", []byte("all: {check: all}\nrest: {check: [3]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	items := []string{"a", "b", "c"}
	tests := []struct {
		name    string
		step    string
		checked []int // journaled before the ask
		want    engine.Answer
		wantKey string // MissingAnswerError key, "" when an answer is expected
		wantOut []string
	}{
		{"check all", "all", []int{1, 0}, engine.Answer{Checked: []int{0, 1, 2}, Confirm: true}, "",
			[]string{"1. [x] a\n", "2. [x] b\n", "3. [ ] c\n", "→ ticked 3; already ticked 1, 2\n"}},
		{"the rest", "rest", []int{0, 1}, engine.Answer{Checked: []int{2}, Confirm: true}, "",
			[]string{"1. [x] a\n", "3. [ ] c\n", "→ ticked 3; already ticked 1, 2\n"}},
		{"nothing journaled", "rest", nil, engine.Answer{Checked: []int{2}, Confirm: true}, "",
			[]string{"1. [ ] a\n", "→ ticked 3\n"}},
		{"all journaled, no answer", "none", []int{2, 0, 1}, engine.Answer{Checked: []int{0, 1, 2}, Confirm: true}, "",
			[]string{"3. [x] c\n", "→ already ticked 1, 2, 3\n"}},
		{"some journaled, no answer", "none", []int{0}, engine.Answer{}, "none.check",
			[]string{"1. [x] a\n", "2. [ ] b\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			pr := plain.NewPrompter(a, &out)
			pr.State = func() engine.State {
				return engine.State{Steps: []*engine.StepState{
					{Step: &runbook.Step{ID: "other", Checklist: items}, Checked: []int{0, 1, 2}},
					{Step: &runbook.Step{ID: tt.step, Checklist: items}, Checked: tt.checked},
				}}
			}
			got, err := pr.Ask(context.Background(), engine.Prompt{Kind: engine.PromptChecklist, Step: tt.step,
				Checklist: items, Key: tt.step + ".check"})
			var missing *engine.MissingAnswerError
			switch {
			case tt.wantKey != "":
				if !errors.As(err, &missing) || missing.Key != tt.wantKey {
					t.Errorf("Ask() error = %v, want missing %q", err, tt.wantKey)
				}
			case err != nil:
				t.Fatalf("Ask() error = %v", err)
			case !slices.Equal(got.Checked, tt.want.Checked) || got.Confirm != tt.want.Confirm:
				t.Errorf("Ask() = %+v, want %+v", got, tt.want)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestPrompterWithoutAnswersFile(t *testing.T) {
	pr := plain.NewPrompter(nil, nil)
	_, err := pr.Ask(context.Background(), engine.Prompt{Kind: engine.PromptConfirmEnv, Expect: "prod", Key: "confirm_env"})
	var missing *engine.MissingAnswerError
	if !errors.As(err, &missing) || missing.Key != "confirm_env" || missing.File != "" {
		t.Fatalf("Ask() = %v, want missing confirm_env", err)
	}
	if got := missing.Error(); got != `missing answer "confirm_env" (no --answers file given): add it to the answers file` {
		t.Errorf("Error() = %q", got)
	}
}

func TestPrompterYesConfirmsDestructiveOnly(t *testing.T) {
	pr := plain.NewPrompter(nil, nil)
	pr.Yes = true
	ans, err := pr.Ask(context.Background(), engine.Prompt{Kind: engine.PromptDestructive, Step: "drop"})
	if err != nil || !ans.Confirm {
		t.Errorf("Ask(destructive) with Yes = %+v, %v; want confirmed", ans, err)
	}
	if _, err := pr.Ask(context.Background(), engine.Prompt{Kind: engine.PromptConfirmEnv, Expect: "prod"}); !errors.Is(err, engine.ErrNoAnswer) {
		t.Errorf("Ask(confirm_env) with Yes = %v, want a missing answer", err)
	}
}

func TestPrompterHonoursCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a, _ := plain.ParseAnswers("a.yaml", []byte("x: {confirm: true}\n"))
	if _, err := plain.NewPrompter(a, nil).Ask(ctx, engine.Prompt{Kind: engine.PromptDestructive, Step: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Ask(cancelled) = %v, want context.Canceled", err)
	}
}
