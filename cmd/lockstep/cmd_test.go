package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/tui/plain"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"usage", usageError(errors.New("bad flag")), 2},
		{"silent stopped", silentExit(exitStopped, errors.New("stopped")), 3},
		{"invalid runbook", fmt.Errorf("parse: %w", runbook.Errors{{Msg: "x"}}), 2},
		{"bad answers", fmt.Errorf("load: %w", plain.AnswerErrors{{Msg: "x"}}), 2},
		{"missing answer", fmt.Errorf("ask: %w", &engine.MissingAnswerError{Key: "a.approve"}), 2},
		{"protected --yes", fmt.Errorf("start: %w", engine.ErrProtectedYes), 2},
		{"env confirm", fmt.Errorf("start: %w", engine.ErrEnvConfirm), 2},
		{"unknown session", fmt.Errorf("resume: %w", engine.ErrNotFound), 2},
		{"cobra unknown command", errors.New(`unknown command "x" for "lockstep"`), 2},
		{"cobra unknown flag", errors.New("unknown flag: --nope"), 2},
		{"anything else", errors.New("journal is on fire"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestOutcomeCode(t *testing.T) {
	for o, want := range map[engine.Outcome]int{
		engine.OutcomeCompleted: 0, engine.OutcomeFailed: 1, engine.OutcomeAborted: 1,
		engine.OutcomeRolledBack: 1, engine.OutcomeStopped: 3,
	} {
		if got := outcomeCode(o); got != want {
			t.Errorf("outcomeCode(%q) = %d, want %d", o, got, want)
		}
	}
}

func testFactory(env map[string]string, user string) (*factory, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return &factory{
		In: strings.NewReader(""), Out: &out, ErrOut: &errOut,
		Getenv:      func(k string) string { return env[k] },
		IsTerminal:  func() bool { return false },
		CurrentUser: func() string { return user },
	}, &out, &errOut
}

func TestOperator(t *testing.T) {
	tests := []struct {
		name string
		flag string
		env  map[string]string
		user string
		want string
	}{
		{"flag wins", "flo", map[string]string{"LOCKSTEP_OPERATOR": "lo", "USER": "u"}, "os", "flo"},
		{"LOCKSTEP_OPERATOR", "", map[string]string{"LOCKSTEP_OPERATOR": "lo", "USER": "u"}, "os", "lo"},
		{"USER", "", map[string]string{"USER": "u"}, "os", "u"},
		{"OS user", "", nil, "os", "os"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, _ := testFactory(tt.env, tt.user)
			got, err := f.operator(tt.flag)
			if err != nil || got != tt.want {
				t.Errorf("operator(%q) = %q, %v; want %q", tt.flag, got, err, tt.want)
			}
		})
	}
	f, _, _ := testFactory(nil, "")
	if _, err := f.operator(""); exitCode(err) != 2 {
		t.Errorf("operator with nothing set: %v, want a usage error", err)
	}
}

func TestJournalPath(t *testing.T) {
	f, _, _ := testFactory(map[string]string{"LOCKSTEP_JOURNAL": "/env/j.db"}, "")
	if got := f.journalPath("/flag/j.db"); got != "/flag/j.db" {
		t.Errorf("journalPath(flag) = %q", got)
	}
	if got := f.journalPath(""); got != "/env/j.db" {
		t.Errorf("journalPath(env) = %q", got)
	}
}

func TestParseVars(t *testing.T) {
	got, err := parseVars([]string{"a=1", "b=x=y", "c="})
	if err != nil || got["a"] != "1" || got["b"] != "x=y" || got["c"] != "" || len(got) != 3 {
		t.Errorf("parseVars = %v, %v", got, err)
	}
	for _, bad := range []string{"novalue", "=x"} {
		if _, err := parseVars([]string{bad}); exitCode(err) != 2 {
			t.Errorf("parseVars(%q) = %v, want a usage error", bad, err)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/j.db": "/tmp/j.db", "a b": "'a b'", "it's": `'it'\''s'`, "": "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

const planRunbook = `lockstep: 1
name: p
title: Plan me
version: 2
strategy: multi-step
roles: {accountable: [bob]}
environments:
  prod:
    store: {kind: sqlite, path: /data/u.db, table: users, key: [id]}
    protected: true
phases:
  - name: backup
    steps:
      - {id: snap, kind: backup}
  - name: run
    steps:
      - {id: hello, kind: shell, with: {run: "echo hi"}}
      - id: fill
        kind: migrate
        with: {where: "item.v == nil", set: {b: 'item.a + "!"'}}
      - {id: drop, kind: migrate, with: {remove: [a]}, destructive: true}
`

func TestPlanShowsTheModeEffect(t *testing.T) {
	rb, err := runbook.Parse("p.yaml", []byte(planRunbook))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mode engine.Mode
		want []string
	}{
		{engine.ModeLive, []string{"protected: asks to type \"prod\"", " 1. snap (backup): takes a backup", " 2. hello (shell): runs `echo hi`",
			" 3. fill (migrate): migrates: set b; where item.v == nil", "destructive: asks for confirmation", "4 steps."}},
		{engine.ModeDryRun, []string{" 1. snap (backup): skipped in dry-run", "would run `echo hi` (not run in dry-run)",
			"reads and transforms, shows sample diffs and counts, writes nothing"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			var out bytes.Buffer
			writePlan(&out, buildPlan(rb, rb.Env("prod"), tt.mode))
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("plan lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestRootUsageErrors(t *testing.T) {
	tests := [][]string{
		{"nope"},
		{"run"},
		{"run", "x.yaml"},                 // --env is required
		{"lint"},                          // at least one file
		{"journal", "show"},               // an id
		{"journal", "diff", "a"},          // two ids
		{"run", "x.yaml", "--bogus", "1"}, // unknown flag
		{"protocols", "new", "x"},         // -o is required
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			f, _, _ := testFactory(nil, "u")
			cmd := newRootCmd(f)
			cmd.SetArgs(args)
			err := cmd.ExecuteContext(context.Background())
			if got := exitCode(err); got != 2 {
				t.Errorf("exit %d (%v), want 2", got, err)
			}
		})
	}
}

func TestRunOptionsReachRunF(t *testing.T) {
	f, _, _ := testFactory(nil, "u")
	var got *runOptions
	cmd := newCmdRun(f, func(_ context.Context, o *runOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"rb.yaml", "--env", "staging", "--mode", "rehearsal", "--plain", "--answers", "a.yaml",
		"--var", "a=1", "--var", "b=2", "--yes", "--journal", "j.db", "--operator", "op"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := runOptions{f: f, Target: "rb.yaml", Env: "staging", Mode: "rehearsal", Plain: true, AnswersFile: "a.yaml",
		Vars: []string{"a=1", "b=2"}, Yes: true, JournalPath: "j.db", Operator: "op"}
	if fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Errorf("options = %+v, want %+v", *got, want)
	}
}

func TestFinishSession(t *testing.T) {
	tests := []struct {
		name      string
		outcome   engine.Outcome
		err       error
		wantCode  int
		wantInErr string // substring of what reaches stderr
	}{
		{"completed", engine.OutcomeCompleted, nil, 0, ""},
		{"failed", engine.OutcomeFailed, nil, 1, ""},
		{"aborted", engine.OutcomeAborted, nil, 1, ""},
		{"stopped", engine.OutcomeStopped, nil, 3, "lockstep resume S1 --journal j.db"},
		{"interrupted", engine.OutcomeStopped, context.Canceled, 3, "lockstep resume S1 --journal j.db"},
		{"missing answer", engine.OutcomeStopped, fmt.Errorf("ask: %w", &engine.MissingAnswerError{Key: "x.approve"}), 2,
			"lockstep resume S1 --plain --answers FILE --journal j.db"},
		{"journal failure", engine.OutcomeFailed, errors.New("disk I/O error"), 1, ""},
		{"completed, anchor not written", engine.OutcomeCompleted, &engine.AnchorError{Err: errors.New("AccessDenied: CreateTable")}, 0,
			"warning: AccessDenied: CreateTable"},
		{"failed and anchor not written", engine.OutcomeFailed, errors.Join(errors.New("step x failed"), &engine.AnchorError{Err: errors.New("denied")}), 1, ""},
		{"failed step without answer", engine.OutcomeFailed, fmt.Errorf("ask failed: %w broken", plain.ErrStepFailed), 1,
			"lockstep resume S1 --plain --answers FILE --journal j.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, errOut := testFactory(nil, "u")
			err := finishSession(f, sessionRequest{resumeArgs: journalArg("j.db")}, tt.outcome, "S1", tt.err)
			if got := exitCode(err); got != tt.wantCode {
				t.Errorf("exit %d (%v), want %d", got, err, tt.wantCode)
			}
			if tt.wantInErr != "" && !strings.Contains(errOut.String(), tt.wantInErr) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tt.wantInErr)
			}
		})
	}
}

// TestRunSessionTUIResumeHint: after the terminal UI returns a stopped
// session (q), exactly one resume hint, with --journal, reaches stderr.
func TestRunSessionTUIResumeHint(t *testing.T) {
	f, out, errOut := testFactory(nil, "u")
	f.IsTerminal = func() bool { return true }
	var gotResume string
	f.RunTUI = func(_ context.Context, _ engine.Config, resumeID string) (engine.Outcome, string, error) {
		gotResume = resumeID
		return engine.OutcomeStopped, "S1", nil
	}
	err := runSession(context.Background(), f, sessionRequest{resumeID: "S0", resumeArgs: journalArg("j.db")})
	if got := exitCode(err); got != exitStopped {
		t.Errorf("exit %d (%v), want %d", got, err, exitStopped)
	}
	if gotResume != "S0" {
		t.Errorf("the TUI resumed %q, want S0", gotResume)
	}
	if n := strings.Count(errOut.String()+out.String(), "lockstep resume "); n != 1 {
		t.Errorf("%d resume hints, want 1\nstdout: %q\nstderr: %q", n, out.String(), errOut.String())
	}
	if !strings.Contains(errOut.String(), "lockstep resume S1 --journal j.db") {
		t.Errorf("stderr %q lacks the hint for S1 with --journal", errOut.String())
	}
}

// runOneStep writes a runbook titled title, with the one step given as a
// YAML flow mapping and an environment box, into dir and runs
// `lockstep run RB --env box --plain ARGS...` on it through the real
// wiring, with env as the environment (LOCKSTEP_JOURNAL defaults to
// dir/journal.db). It returns the journal's path, the outputs and the
// command's error.
func runOneStep(t *testing.T, dir, title, step string, env map[string]string, args ...string) (jpath string, out, errOut *bytes.Buffer, err error) {
	t.Helper()
	rb := filepath.Join(dir, "rb.yaml")
	src := "lockstep: 1\nname: t\ntitle: " + title + "\nversion: 1\nroles: {responsible: [u]}\nenvironments: {box: {}}\n" +
		"phases:\n  - name: p\n    steps:\n      - " + step + "\n"
	if err := os.WriteFile(rb, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if env == nil {
		env = map[string]string{}
	}
	if env["LOCKSTEP_JOURNAL"] == "" {
		env["LOCKSTEP_JOURNAL"] = filepath.Join(dir, "journal.db")
	}
	f, out, errOut := testFactory(env, "u")
	cmd := newRootCmd(f)
	cmd.SetArgs(append([]string{"run", rb, "--env", "box", "--plain"}, args...))
	cmd.SetOut(f.Out)
	cmd.SetErr(f.ErrOut)
	err = cmd.ExecuteContext(context.Background())
	return env["LOCKSTEP_JOURNAL"], out, errOut, err
}

// latestSession opens the journal at jpath (closed when the test ends) and
// returns it with its latest session.
func latestSession(t *testing.T, jpath string) (*journal.Journal, engine.SessionInfo) {
	t.Helper()
	j, err := journal.Open(jpath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	s, err := j.LatestSession(context.Background(), engine.SessionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return j, s
}
