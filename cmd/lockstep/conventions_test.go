package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// execRoot runs the root command with args and returns stdout and the error.
func execRoot(t *testing.T, args ...string) (string, error) {
	t.Helper()
	f, out, _ := testFactory(nil, "u")
	cmd := newRootCmd(f)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestVersionFlagAndCommandAgree(t *testing.T) {
	flag, err := execRoot(t, "--version")
	if err != nil {
		t.Fatalf("--version: %v", err)
	}
	cmd, err := execRoot(t, "version")
	if err != nil {
		t.Fatalf("version: %v", err)
	}
	if !strings.HasPrefix(flag, "lockstep ") || flag != cmd {
		t.Errorf("--version printed %q, version printed %q; want the same lockstep line", flag, cmd)
	}
}

func TestUsageErrorsSayWhatIsExpected(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"versio"}, []string{`unknown command "versio"`, "did you mean version?"}},
		{[]string{"jornal"}, []string{"did you mean journal?"}},
		{[]string{"plan"}, []string{"lockstep plan expects RUNBOOK|PROTOCOL, got no argument", "usage: lockstep plan RUNBOOK|PROTOCOL --env ENV"}},
		{[]string{"journal", "show", "a", "b"}, []string{"expects ID, got 2 arguments (a b)"}},
		{[]string{"journal", "diff", "a"}, []string{"expects A B, got 1 argument (a)"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := execRoot(t, tt.args...)
			if got := exitCode(err); got != 2 {
				t.Fatalf("exit %d (%v), want 2", got, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestPlanFormatJSON(t *testing.T) {
	out, err := execRoot(t, "plan", "demo", "--env", "demo", "--format", "json")
	if err != nil {
		t.Fatalf("plan --format json: %v", err)
	}
	var d planDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("plan --format json is not JSON: %v\n%s", err, out)
	}
	n := 0
	for _, ph := range d.Phases {
		for _, st := range ph.Steps {
			n++
			if st.N != n || st.ID == "" || st.Effect == "" {
				t.Errorf("step %d: %+v, want its number, id and effect", n, st)
			}
		}
	}
	if d.Runbook != "demo" || d.Env != "demo" || n == 0 || n != d.Steps {
		t.Errorf("plan: runbook %q env %q, %d steps listed, steps=%d", d.Runbook, d.Env, n, d.Steps)
	}
	if _, err := execRoot(t, "plan", "demo", "--env", "demo", "--format", "yaml"); exitCode(err) != 2 {
		t.Errorf("--format yaml: %v, want a usage error", err)
	}
}

func TestSelfCommand(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "lockstep")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "lockstep")
	if err := os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	notFound := func(string) (string, error) { return "", errors.New("not found") }
	onPath := func(string) (string, error) { return bin, nil }
	otherOnPath := func(string) (string, error) { return other, nil }
	tests := []struct {
		name, arg0, wd string
		look           func(string) (string, error)
		want           string
	}{
		{"found on PATH by name", "lockstep", dir, notFound, "lockstep"},
		{"relative below the working directory", "bin/lockstep", dir, notFound, "bin/lockstep"},
		{"absolute below the working directory", bin, dir, notFound, "bin/lockstep"},
		{"same binary as on PATH", bin, elsewhere, onPath, "lockstep"},
		{"another lockstep on PATH", bin, elsewhere, otherOnPath, bin},
		{"in the working directory itself", filepath.Join(dir, "bin", "lockstep"), filepath.Join(dir, "bin"), notFound, "./lockstep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := selfCommand(tt.arg0, tt.wd, tt.look); got != tt.want {
				t.Errorf("selfCommand(%q, %q) = %q, want %q", tt.arg0, tt.wd, got, tt.want)
			}
		})
	}
}

func TestDynamicCompletion(t *testing.T) {
	rb := filepath.Join(t.TempDir(), "rb.yaml")
	src := `lockstep: 1
name: c
title: Completion
version: 1
roles: {responsible: [u]}
environments:
  staging: {store: {kind: sqlite, path: x.db, table: t, key: [id]}}
  production: {store: {kind: sqlite, path: y.db, table: t, key: [id]}}
phases:
  - name: p
    steps:
      - {id: s, kind: manual, text: hi}
`
	if err := os.WriteFile(rb, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "run", rb, "--env", ""}, []string{"staging", "production"}},
		{[]string{"__complete", "plan", "demo", "--mode", ""}, []string{"live", "rehearsal", "dry-run"}},
		{[]string{"__complete", "journal", "export", "x", "--format", ""}, []string{"md", "json"}},
		{[]string{"__complete", "run", ""}, []string{"demo", "split-attribute"}},
		{[]string{"__complete", "protocols", "show", ""}, []string{"demo"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			out, err := execRoot(t, tt.args...)
			if err != nil {
				t.Fatalf("%v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w+"\n") {
					t.Errorf("completion does not offer %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestRunShowsLintWarningsItDoesNotEnforce: outside a protected
// environment a run starts despite lint warnings, but lists them first.
func TestRunShowsLintWarningsItDoesNotEnforce(t *testing.T) {
	_, _, errOut, err := runOneStep(t, t.TempDir(), "Warned", `{id: s, kind: shell, with: {run: "true"}}`, nil)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut)
	}
	for _, want := range []string{"lint warning(s), not enforced in box (live):", "LS101", "LS407"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

// TestDemoJournalHint: after `make demo`, the demo's journal is in
// ./lockstep-demo; commands reading the default journal say where it is.
func TestDemoJournalHint(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv("LOCKSTEP_JOURNAL", "")
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.MkdirAll("lockstep-demo", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("lockstep-demo", "journal.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	const hint = "the demo's journal is lockstep-demo/journal.db: add --journal lockstep-demo/journal.db"
	_, err := execRoot(t, "resume")
	if err == nil || !strings.Contains(err.Error(), hint) {
		t.Errorf("resume: %v, want the demo journal hint", err)
	}
	f, _, errOut := testFactory(nil, "u")
	cmd := newRootCmd(f)
	cmd.SetArgs([]string{"journal", "list"})
	if err := cmd.ExecuteContext(context.Background()); err != nil || !strings.Contains(errOut.String(), hint) {
		t.Errorf("journal list: %v, stderr %q; want the demo journal hint", err, errOut)
	}
	if _, err := execRoot(t, "resume", "--journal", filepath.Join(dir, "none.db")); err == nil || strings.Contains(err.Error(), hint) {
		t.Errorf("resume --journal elsewhere: %v; want no demo hint", err)
	}
}
