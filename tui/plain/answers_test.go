package plain_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/tui/plain"
)

func TestParseAnswers(t *testing.T) {
	src := `confirm_env: production
deploy: {check: all}
partial: {check: [2, "Error rate normal"]}
strategy: {choice: multi-step, reason: "no downtime"}
go: {approve: bob, reason: "ok"}
drop: {confirm: true}
flaky: {retry: true}
gone: {done: "finished by hand"}
optional: {skip: "not needed"}
stop: {abort: true}
noted: {note: "learning: warm the cache first"}
snapshot: {run: true}
`
	a, err := plain.ParseAnswers("a.yaml", []byte(src))
	if err != nil {
		t.Fatalf("ParseAnswers: %v", err)
	}
	if a.ConfirmEnv != "production" {
		t.Errorf("ConfirmEnv = %q, want production", a.ConfirmEnv)
	}
	tests := []struct {
		step  string
		check func(*plain.StepAnswers) bool
	}{
		{"deploy", func(s *plain.StepAnswers) bool { return s.CheckAll }},
		{"partial", func(s *plain.StepAnswers) bool {
			return len(s.Check) == 2 && s.Check[0].Index == 2 && s.Check[1].Text == "Error rate normal"
		}},
		{"strategy", func(s *plain.StepAnswers) bool { return s.Choice == "multi-step" && s.Reason == "no downtime" }},
		{"go", func(s *plain.StepAnswers) bool { return s.Approve == "bob" && s.Reason == "ok" }},
		{"drop", func(s *plain.StepAnswers) bool { return s.Confirm && s.Has("confirm") }},
		{"flaky", func(s *plain.StepAnswers) bool { return s.Retry }},
		{"gone", func(s *plain.StepAnswers) bool { return s.Done == "finished by hand" }},
		{"optional", func(s *plain.StepAnswers) bool { return s.Skip == "not needed" && !s.Has("retry") }},
		{"stop", func(s *plain.StepAnswers) bool { return s.Abort }},
		{"noted", func(s *plain.StepAnswers) bool { return s.Note == "learning: warm the cache first" }},
		{"snapshot", func(s *plain.StepAnswers) bool { return s.Run && s.Has("run") }},
	}
	for _, tt := range tests {
		s := a.Steps[tt.step]
		if s == nil || !tt.check(s) {
			t.Errorf("answers for %s = %+v", tt.step, s)
		}
	}
}

func TestParseAnswersErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // each a substring of one reported problem, in order
	}{
		{"unknown key", "deploy: {chek: all}\n", []string{`a.yaml:1:10: unknown key "chek" in answers for step "deploy" (did you mean check?)`}},
		{"wrong type", "deploy: {confirm: yes please}\n", []string{`a.yaml:1:19: deploy.confirm must be true or false`}},
		{"check not all", "deploy: {check: some}\n", []string{`a.yaml:1:17: deploy.check must be`}},
		{"bad index", "deploy: {check: [0]}\n", []string{`a.yaml:1:18: deploy.check: bad item number 0`}},
		{"decision without reason", "pick: {choice: a}\n", []string{`a.yaml:1:16: pick: a decision needs a reason`}},
		{"approval without reason", "ok: {approve: bob}\n", []string{`a.yaml:1:15: ok: an approval needs a reason`}},
		{"contradiction", "s: {retry: true, abort: true}\n", []string{`a.yaml:1:25: s: retry and abort contradict each other`}},
		{"run false", "s: {run: false}\n", []string{`a.yaml:1:10: s.run must be true, not "false" (run: true, or skip: "reason" to skip the step)`}},
		{"run and skip", "s: {run: true, skip: \"later\"}\n", []string{`s: run and skip contradict each other`}},
		{"not a mapping", "s: retry\n", []string{`a.yaml:1:4: answers for step "s" must be a mapping`}},
		{"empty string", "s: {skip: \"\"}\n", []string{`a.yaml:1:11: s.skip must be a non-empty string`}},
		{"several at once", "a: {x: 1}\nb: {choice: c}\n", []string{`a.yaml:1:5: unknown key "x"`, `a.yaml:2:13: b: a decision needs a reason`}},
		{"top level list", "- a\n", []string{`a.yaml:1:1: answers file must be a mapping`}},
		{"yaml syntax", "a: {b: [}\n", []string{`a.yaml:1:1:`}},
		{"yaml syntax on a later line", "check: {check: all}\n\n\n\npick:\n  choice: a\n   reason: x\n", []string{`a.yaml:7:1: yaml: mapping values are not allowed`}},
		{"confirm_env twice", "confirm_env: staging\nconfirm_env: production\n", []string{`a.yaml:2:1: confirm_env given twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := plain.ParseAnswers("a.yaml", []byte(tt.src))
			if err == nil {
				t.Fatal("ParseAnswers succeeded, want an error")
			}
			if !errors.Is(err, plain.ErrBadAnswers) {
				t.Errorf("errors.Is(err, ErrBadAnswers) = false for %v", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestLoadAnswers(t *testing.T) {
	dir := t.TempDir()
	if _, err := plain.LoadAnswers(filepath.Join(dir, "missing.yaml")); !errors.Is(err, plain.ErrBadAnswers) {
		t.Errorf("LoadAnswers(missing) = %v, want ErrBadAnswers", err)
	}
	p := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := plain.LoadAnswers(p)
	if err != nil || len(a.Steps) != 0 {
		t.Errorf("LoadAnswers(empty) = %+v, %v; want no answers", a, err)
	}
}

func TestValidateSteps(t *testing.T) {
	a, err := plain.ParseAnswers("a.yaml", []byte("deploy: {check: all}\ngo-no-goo: {confirm: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ValidateSteps([]string{"deploy", "go-no-go"}); err == nil ||
		err.Error() != `a.yaml:2:1: answers given for unknown step "go-no-goo" (did you mean go-no-go?)` {
		t.Errorf("ValidateSteps = %v", err)
	}
	if err := a.ValidateSteps([]string{"deploy", "go-no-goo"}); err != nil {
		t.Errorf("ValidateSteps(all known) = %v, want nil", err)
	}
}
