package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// badInputRunbook is a valid runbook the cases of TestRunBadInput break
// one way each.
const badInputRunbook = `lockstep: 1
name: bi
title: Bad input
version: 1
strategy: multi-step
roles: {responsible: [u], accountable: [u]}
environments:
  dev:
    store: {kind: sqlite, path: "${BI_DB}", table: users, key: [id]}
phases:
  - name: run
    steps:
      - id: pick
        kind: decision
        with: {choices: [a, b]}
      - id: backfill
        kind: migrate
        with:
          set: {city: 'trim(split(item.address, ",")[1])'}
`

// TestRunBadInput: each kind of bad input to lockstep run exits 2 before a
// session starts, with a message naming the file (and line where there
// is one) and what to do.
func TestRunBadInput(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(rb string) string // the runbook's source; nil: unchanged
		answers string                 // the answers file's content; "" : none given
		args    []string               // after run RB --env dev --plain; RB stands for the runbook
		want    []string               // in stderr or the error; RB and DIR stand for the paths
	}{
		{name: "runbook missing", args: []string{"run", "DIR/nosuch.yaml", "--env", "dev"},
			want: []string{"DIR/nosuch.yaml", "no such file", "check the path"}},
		{name: "runbook is a directory", args: []string{"run", "DIR/", "--env", "dev"},
			want: []string{"is a directory", "check the path"}},
		{name: "empty runbook", edit: func(string) string { return "" },
			want: []string{"RB:1:1: empty runbook", "lockstep protocols new"}},
		{name: "yaml syntax", edit: func(s string) string { return strings.Replace(s, "version: 1", "version: [1", 1) },
			want: []string{"RB:4:1: yaml: did not find expected ',' or ']'", "check the quotes"}},
		{name: "unknown key", edit: func(s string) string { return strings.Replace(s, "title:", "titel:", 1) },
			want: []string{`RB:3:1: unknown key "titel" in runbook (did you mean title?)`}},
		{name: "unknown key in with", edit: func(s string) string { return strings.Replace(s, "set: {", "sett: {", 1) },
			want: []string{`RB:19:11: unknown key "sett" in migrate step "backfill" with (did you mean set?)`}},
		{name: "wrong type", edit: func(s string) string { return strings.Replace(s, "version: 1", "version: three", 1) },
			want: []string{`RB:4:10: version must be an integer, got "three"`}},
		{name: "bad expression", edit: func(s string) string { return strings.Replace(s, "trim(split", "trimm(split", 1) },
			want: []string{"RB:19:23: set.city: unknown name trimm"}},
		{name: "unknown step reference", edit: func(s string) string {
			return strings.Replace(s, "        kind: migrate\n", "        kind: migrate\n        requires: [pik]\n", 1)
		}, want: []string{`RB:18:20: unknown step "pik" (did you mean pick?)`}},
		{name: "store kind", edit: func(s string) string { return strings.Replace(s, "kind: sqlite", "kind: sqlit", 1) },
			want: []string{`RB:9:19: unknown store kind "sqlit" (did you mean sqlite?)`}},
		{name: "store without key", edit: func(s string) string { return strings.Replace(s, ", key: [id]", "", 1) },
			want: []string{`RB:9:12: environment dev store (sqlite): missing required key "key"`}},
		{name: "malformed env reference", edit: func(s string) string { return strings.Replace(s, "${BI_DB}", "${BI_DB", 1) },
			want: []string{`RB:9:33: malformed ${VAR} reference`, "write ${NAME}"}},
		{name: "unset env of the store", args: []string{"run", "RB", "--env", "dev", "--var-unset-BI_DB"},
			want: []string{"store at RB:9:12", "unset variable BI_DB", "export it, then run again"}},
		{name: "undeclared environment", args: []string{"run", "RB", "--env", "prod"},
			want: []string{`has no environment "prod" (it has dev)`}},
		{name: "bad mode", args: []string{"run", "RB", "--env", "dev", "--mode", "fast"},
			want: []string{`unknown --mode "fast": want live, rehearsal or dry-run`}},
		{name: "unknown flag", args: []string{"run", "RB", "--env", "dev", "--bogus"},
			want: []string{"unknown flag: --bogus"}},
		{name: "malformed --var", args: []string{"run", "RB", "--env", "dev", "--var", "nope"},
			want: []string{`bad --var "nope": want NAME=VALUE`}},
		{name: "undeclared --var", args: []string{"run", "RB", "--env", "dev", "--var", "nope=1"},
			want: []string{`unknown var "nope"`, "declare it under vars:"}},
		{name: "answers file missing", args: []string{"run", "RB", "--env", "dev", "--answers", "DIR/nosuch-answers.yaml"},
			want: []string{"DIR/nosuch-answers.yaml", "check the --answers path"}},
		{name: "answers for an unknown step", answers: "pik: {choice: a, reason: x}\n",
			want: []string{`answers.yaml:1:1: answers given for unknown step "pik" (did you mean pick?)`}},
		{name: "answers with an unknown key", answers: "pick: {chose: a, reason: x}\n",
			want: []string{`answers.yaml:1:8: unknown key "chose" in answers for step "pick" (did you mean choice?)`}},
		{name: "answers without a reason", answers: "pick: {choice: a}\n",
			want: []string{`answers.yaml:1:16: pick: a decision needs a reason (add reason: "why")`}},
		{name: "answers yaml syntax", answers: "other: {check: all}\npick: {choice: a, reason: x\n",
			want: []string{`answers.yaml:2:1: yaml: did not find expected ',' or '}'`, "check the quotes"}},
		{name: "answers not a mapping", answers: "- a\n",
			want: []string{"answers.yaml:1:1: answers file must be a mapping keyed by step id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			rb := filepath.Join(dir, "rb.yaml")
			src := badInputRunbook
			if tt.edit != nil {
				src = tt.edit(src)
			}
			writeTestFile(t, rb, src)
			jpath := filepath.Join(dir, "journal.db")
			env := map[string]string{"LOCKSTEP_JOURNAL": jpath, "BI_DB": filepath.Join(dir, "users.db")}
			args := tt.args
			if args == nil {
				args = []string{"run", "RB", "--env", "dev"}
			}
			var full []string
			for _, a := range args {
				if a == "--var-unset-BI_DB" {
					delete(env, "BI_DB")
					continue
				}
				full = append(full, strings.NewReplacer("RB", rb, "DIR", dir).Replace(a))
			}
			full = append(full, "--plain")
			if tt.answers != "" {
				full = append(full, "--answers", writeAnswers(t, dir, strings.TrimSuffix(tt.answers, "\n")))
			}
			out, errOut, err := execCmd(env, full...)
			if got := exitCode(err); got != exitBadInput {
				t.Fatalf("exit %d (%v), want %d\n%s%s", got, err, exitBadInput, out, errOut)
			}
			shown := errOut.String()
			if !isSilent(err) {
				shown += "lockstep: " + err.Error() + "\n"
			}
			for _, w := range tt.want {
				if w = strings.NewReplacer("RB", rb, "DIR", dir).Replace(w); !strings.Contains(shown, w) {
					t.Errorf("the operator sees\n%s\nwhich lacks %q", shown, w)
				}
			}
			if _, serr := os.Stat(jpath); serr == nil {
				if n := sqlQuery(t, jpath, "SELECT count(*) FROM sessions"); n != "0" {
					t.Errorf("bad input left %s session(s) in the journal", n)
				}
			}
			if _, serr := os.Stat(env["BI_DB"]); serr == nil {
				t.Errorf("bad input created the store's database")
			}
		})
	}
}
