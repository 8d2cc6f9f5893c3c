package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stoppedDecision runs a one-decision runbook without its answer, so the
// session stops resumably, and returns the runbook's path, the env the
// commands run with (its journal in dir) and the session's id.
func stoppedDecision(t *testing.T, dir string) (rb string, env map[string]string, id string) {
	t.Helper()
	env = map[string]string{"LOCKSTEP_JOURNAL": filepath.Join(dir, "journal.db")}
	step := `{id: pick, kind: decision, with: {choices: [a, b]}}`
	jpath, out, errOut, err := runOneStep(t, dir, "stopped", step, env, "--answers", writeAnswers(t, dir, "{}"))
	if got := exitCode(err); got != exitBadInput {
		t.Fatalf("run without the answer: exit %d (%v), want %d\n%s%s", got, err, exitBadInput, out, errOut)
	}
	_, s := latestSession(t, jpath)
	return filepath.Join(dir, "rb.yaml"), env, s.ID
}

func writeAnswers(t *testing.T, dir, content string) string {
	t.Helper()
	p := filepath.Join(dir, "answers.yaml")
	writeTestFile(t, p, content+"\n")
	return p
}

// TestResumeEditedJournalBadInput: a session whose journaled events were
// edited is not resumed (its state would be rebuilt from forged events):
// exit 2, naming the session, the first bad event and how to look at it.
// Nothing runs.
func TestResumeEditedJournalBadInput(t *testing.T) {
	tests := []struct {
		name   string
		edit   string
		latest bool // resume without SESSION: the latest resumable one
		want   []string
	}{
		{"event changed", `UPDATE events SET data = replace(data, '"box"', '"prod"') WHERE seq = 1`, false,
			[]string{"event seq 1", "lockstep journal verify"}},
		{"event changed, latest session", `UPDATE events SET data = replace(data, '"box"', '"prod"') WHERE seq = 1`, true,
			[]string{"event seq 1", "lockstep journal verify"}},
		{"last event deleted", `DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)`, false,
			[]string{"lockstep journal verify"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, env, id := stoppedDecision(t, dir)
			sqlExec(t, env["LOCKSTEP_JOURNAL"], tt.edit)
			before := sqlQuery(t, env["LOCKSTEP_JOURNAL"], "SELECT count(*) FROM events")
			args := []string{"resume", id, "--plain", "--answers", writeAnswers(t, dir, `pick: {choice: a, reason: "r"}`)}
			if tt.latest {
				args = append(args[:1], args[2:]...)
			}
			out, errOut, err := execCmd(env, args...)
			if got := exitCode(err); got != exitBadInput {
				t.Fatalf("resume of an edited journal: exit %d (%v), want %d\n%s%s", got, err, exitBadInput, out, errOut)
			}
			for _, w := range append([]string{id, "does not verify"}, tt.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if after := sqlQuery(t, env["LOCKSTEP_JOURNAL"], "SELECT count(*) FROM events"); after != before {
				t.Errorf("events %s → %s: the refused resume wrote to the journal", before, after)
			}
		})
	}
}

// TestResumeChangedRunbookSaysWhichRuns: resume runs the runbook saved
// when the session started; when the file changed since, it says so, and
// how to run the changed one, instead of silently running the old copy
// (the operator who fixed a statement would otherwise retry the broken
// one).
func TestResumeChangedRunbookSaysWhichRuns(t *testing.T) {
	dir := t.TempDir()
	rb, env, id := stoppedDecision(t, dir)
	src, err := os.ReadFile(rb)
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, rb, strings.Replace(string(src), "choices: [a, b]", "choices: [a, b, c]", 1))
	out, errOut, err := execCmd(env, "resume", id, "--plain", "--answers", writeAnswers(t, dir, `pick: {choice: a, reason: "r"}`))
	if err != nil {
		t.Fatalf("resume: %v\n%s%s", err, out, errOut)
	}
	for _, w := range []string{rb + " changed since session " + id + " started", "lockstep run " + rb} {
		if !strings.Contains(errOut.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}
}

// TestResumeSessionThatNeverStarted: a session whose first event could not
// be journaled (its journal's disk filled up between the session row and
// session.start) is not resumed as if it had started: exit 2, saying what
// happened and to start a new session.
func TestResumeSessionThatNeverStarted(t *testing.T) {
	dir := t.TempDir()
	rb, env, _ := stoppedDecision(t, dir)
	src, err := os.ReadFile(rb)
	if err != nil {
		t.Fatal(err)
	}
	j, s := latestSession(t, env["LOCKSTEP_JOURNAL"])
	info := s
	info.ID, info.RunbookSource, info.Started = "20261207-000000-00000000", src, s.Started.Add(time.Second)
	if _, err := j.CreateSession(context.Background(), info); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := execCmd(env, "resume", info.ID, "--plain", "--answers", writeAnswers(t, dir, `pick: {choice: a, reason: "r"}`))
	if got := exitCode(err); got != exitBadInput {
		t.Fatalf("resume of a session without events: exit %d (%v), want %d\n%s%s", got, err, exitBadInput, out, errOut)
	}
	for _, w := range []string{info.ID, "never started", "lockstep run"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if n := sqlQuery(t, env["LOCKSTEP_JOURNAL"], "SELECT count(*) FROM events WHERE session = '"+info.ID+"'"); n != "0" {
		t.Errorf("the refused resume journaled %s events", n)
	}
}
