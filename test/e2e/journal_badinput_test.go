package e2e

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// decisionRunbook asks one decision: without its answer, a plain run stops
// resumably.
const decisionRunbook = `lockstep: 1
name: e2e-badinput
title: Bad input
version: 1
roles: {responsible: [e2e-op]}
environments: {box: {}}
phases:
  - name: p
    steps:
      - {id: pick, kind: decision, with: {choices: [a, b]}}
      - {id: touch, kind: shell, with: {run: "touch touched"}}
`

// TestJournalPathBadInputBinary: the real binary, given a journal it
// cannot write, exits 2 naming the path and what to do, and runs nothing.
func TestJournalPathBadInputBinary(t *testing.T) {
	tests := []struct {
		name string
		path func(e *env) string
		want string
	}{
		{"a directory", func(e *env) string {
			p := filepath.Join(e.dir, "journals")
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
			return p
		}, "is a directory (name a file in it: --journal "},
		{"under a regular file", func(e *env) string {
			return filepath.Join(e.writeFile("plain", "x"), "journal.db")
		}, "(choose a writable place with --journal or $LOCKSTEP_JOURNAL)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rb := e.writeFile("rb.yaml", decisionRunbook)
			answers := e.writeFile("a.yaml", `pick: {choice: a, reason: "r"}`+"\n")
			jpath := tt.path(e)
			r := e.mustRun(2, "run", rb, "--env", "box", "--plain", "--answers", answers, "--journal", jpath)
			if !strings.Contains(r.Stderr, jpath) || !strings.Contains(r.Stderr, tt.want) {
				t.Errorf("stderr does not name %s and say %q\n%s", jpath, tt.want, r)
			}
			if _, err := os.Stat(filepath.Join(e.dir, "touched")); err == nil {
				t.Error("a step ran without a journal")
			}
		})
	}
}

// TestResumeRefusesAnEditedJournalBinary: the real binary refuses (exit 2)
// to resume a session whose journaled events were edited, naming the event
// and lockstep journal verify, and runs nothing of it.
func TestResumeRefusesAnEditedJournalBinary(t *testing.T) {
	e := newEnv(t)
	rb := e.writeFile("rb.yaml", decisionRunbook)
	e.mustRun(2, "run", rb, "--env", "box", "--plain")
	s := e.latest()
	db, err := sql.Open("sqlite3", e.journal)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE events SET data = replace(data, '"box"', '"prod"') WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	answers := e.writeFile("a.yaml", `pick: {choice: a, reason: "r"}`+"\n")
	r := e.mustRun(2, "resume", s.ID, "--plain", "--answers", answers)
	for _, w := range []string{"session " + s.ID + " does not verify (event seq 1", "lockstep journal verify " + s.ID} {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("stderr lacks %q\n%s", w, r)
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, "touched")); err == nil {
		t.Error("the refused resume ran a step")
	}
}
