package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/internal/journaltest"
)

// anchorRunbook migrates a sqlite table, so its session uses (and
// anchors in) its store.
const anchorRunbook = `lockstep: 1
name: anc
title: Anchored
version: 1
strategy: multi-step
roles: {responsible: [u]}
environments:
  local:
    store: {kind: sqlite, path: data.db, table: items, key: [id]}
phases:
  - name: p
    steps:
      - {id: mig, kind: migrate, with: {set: {up: 'upper(item.name)'}}}
`

// ranJournal runs anchorRunbook once in dir and returns the journal's
// path, the environment to run lockstep with and the session id.
func ranJournal(t *testing.T, dir string, env map[string]string) (string, string) {
	t.Helper()
	sqlExec(t, filepath.Join(dir, "data.db"), "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, up TEXT, v INTEGER)",
		"INSERT INTO items (id, name) VALUES (1, 'a'), (2, 'b')")
	writeTestFile(t, filepath.Join(dir, "anc.yaml"), anchorRunbook)
	jpath := filepath.Join(dir, "journal.db")
	env["LOCKSTEP_JOURNAL"] = jpath
	if out, errOut, err := execCmd(env, "run", filepath.Join(dir, "anc.yaml"), "--env", "local", "--plain", "--yes"); err != nil {
		t.Fatalf("run = %v\n%s\n%s", err, out, errOut)
	}
	j, err := journal.OpenReadOnly(jpath, journal.WithKey([]byte(env["LOCKSTEP_JOURNAL_KEY"])))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	s, err := j.LatestSession(t.Context(), engine.SessionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return jpath, s.ID
}

// rawJournal opens the journal file the way someone editing it would.
func rawJournal(t *testing.T, jpath string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", jpath+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rewriteSession edits the session's last event and recomputes every
// hash after the header with plain SHA-256: a full rewrite of the file.
func rewriteSession(t *testing.T, jpath, id string) {
	t.Helper()
	db := rawJournal(t, jpath)
	if _, err := db.Exec(`UPDATE events SET data = '{"outcome":"completed","note":"edited"}'
		WHERE session = ?1 AND seq = (SELECT MAX(seq) FROM events WHERE session = ?1)`, id); err != nil {
		t.Fatal(err)
	}
	journaltest.Rechain(t, db, id)
}

// TestJournalVerifyExitCodes: exit 1 only for a real mismatch, exit 2 for
// a journal that cannot be read or keyed sessions that cannot be checked,
// exit 0 for a row a crash left behind its chain (shown as "fix").
func TestJournalVerifyExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string // of the run
		tamper   func(t *testing.T, jpath, id string)
		args     []string
		verifyBy map[string]string // extra env of verify
		want     int
		wantOut  string
	}{
		{"untouched", nil, nil, nil, nil, exitOK, "ok   "},
		{"missing file", nil, func(t *testing.T, jpath, _ string) { os.Remove(jpath) }, nil, nil, exitBadInput, ""},
		{"not a journal", nil, func(t *testing.T, jpath, _ string) { os.WriteFile(jpath, []byte("notes\n"), 0o600) }, nil, nil, exitBadInput, ""},
		{"a directory", nil, func(t *testing.T, jpath, _ string) { os.Remove(jpath); os.Mkdir(jpath, 0o700) }, nil, nil, exitBadInput, ""},
		{"corrupt pages", nil, func(t *testing.T, jpath, _ string) {
			b, err := os.ReadFile(jpath)
			if err != nil {
				t.Fatal(err)
			}
			for i := 4096; i < len(b); i++ { // keep the header page, scramble the rest
				b[i] ^= 0x5a
			}
			os.Remove(jpath + "-wal")
			os.Remove(jpath + "-shm")
			os.WriteFile(jpath, b, 0o600)
		}, nil, nil, exitBadInput, ""},
		{"event edited", nil, func(t *testing.T, jpath, id string) {
			if _, err := rawJournal(t, jpath).Exec(`UPDATE events SET data = '{}' WHERE session = ? AND seq = 2`, id); err != nil {
				t.Fatal(err)
			}
		}, nil, nil, exitFailed, "BAD  "},
		{"row behind its chain", nil, func(t *testing.T, jpath, id string) {
			if _, err := rawJournal(t, jpath).Exec(`UPDATE sessions SET outcome = '', ended = NULL WHERE id = ?`, id); err != nil {
				t.Fatal(err)
			}
		}, nil, nil, exitOK, "fix  "},
		{"keyed, no key", map[string]string{"LOCKSTEP_JOURNAL_KEY": "s3cret"}, nil, nil, nil, exitBadInput, "key  "},
		{"keyed, with the key", map[string]string{"LOCKSTEP_JOURNAL_KEY": "s3cret"}, nil, nil,
			map[string]string{"LOCKSTEP_JOURNAL_KEY": "s3cret"}, exitOK, "ok   "},
		{"anchors match", nil, nil, []string{"--env", "local"}, nil, exitOK, "matches its 1 anchor"},
		{"full rewrite: the chain alone passes", nil, rewriteSession, nil, nil, exitOK, "ok   "},
		{"full rewrite: the anchor catches it", nil, rewriteSession, []string{"--env", "local"}, nil, exitFailed, "session rewritten"},
		{"session deleted: the anchor misses it", nil, func(t *testing.T, jpath, id string) {
			db := rawJournal(t, jpath)
			for _, q := range []string{`DELETE FROM checkpoints WHERE session = ?`, `DELETE FROM applied WHERE session = ?`,
				`DELETE FROM events WHERE session = ?`, `DELETE FROM sessions WHERE id = ?`} {
				if _, err := db.Exec(q, id); err != nil {
					t.Fatal(err)
				}
			}
		}, []string{"--env", "local", "--runbook", "RUNBOOK"}, nil, exitFailed, "missing from the journal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = v
			}
			jpath, id := ranJournal(t, dir, env)
			if tt.tamper != nil {
				tt.tamper(t, jpath, id)
			}
			venv := map[string]string{"LOCKSTEP_JOURNAL": jpath}
			for k, v := range tt.verifyBy {
				venv[k] = v
			}
			args := []string{"journal", "verify"}
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "RUNBOOK", filepath.Join(dir, "anc.yaml")))
			}
			out, errOut, err := execCmd(venv, args...)
			if got := exitCode(err); got != tt.want || !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("journal verify: exit %d (%v), want %d with %q\nstdout:\n%s\nstderr:\n%s", got, err, tt.want, tt.wantOut, out, errOut)
			}
		})
	}
}
