package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestJournalVerifyNotesSessionsOfAnotherJournal holds docs/journal.md:
// the registry is shared by every machine, so "a record written from
// another journal file (its host:/path differs) is noted on stderr and
// not checked", while "a session this journal held that is gone from it
// is a mismatch". Two journals run the same runbook against one store;
// each verifies against the registry (exit 0) noting the other's
// session; once the second journal loses its session, it alone fails.
func TestJournalVerifyNotesSessionsOfAnotherJournal(t *testing.T) {
	dir := t.TempDir()
	first, _ := ranJournal(t, dir, map[string]string{})
	second := filepath.Join(dir, "second.db")
	if out, errOut, err := execCmd(map[string]string{"LOCKSTEP_JOURNAL": second},
		"run", filepath.Join(dir, "anc.yaml"), "--env", "local", "--plain", "--yes"); err != nil {
		t.Fatalf("second run = %v\n%s\n%s", err, out, errOut)
	}
	verify := func(jpath string) (int, string, string) {
		out, errOut, err := execCmd(map[string]string{"LOCKSTEP_JOURNAL": jpath}, "journal", "verify", "--env", "local",
			"--runbook", filepath.Join(dir, "anc.yaml"))
		return exitCode(err), out.String(), errOut.String()
	}
	for _, tt := range []struct{ self, other string }{{first, second}, {second, first}} {
		code, out, errOut := verify(tt.self)
		note := "1 session(s) in the local registry were journaled elsewhere"
		if code != exitOK || !strings.Contains(out, "matches its 1 anchor") || !strings.Contains(errOut, note) || !strings.Contains(errOut, tt.other) {
			t.Errorf("verify %s: exit %d, want %d, its own anchor matched and a note naming %s\nstdout:\n%s\nstderr:\n%s",
				filepath.Base(tt.self), code, exitOK, tt.other, out, errOut)
		}
	}
	db := rawJournal(t, second)
	for _, q := range []string{`DELETE FROM checkpoints`, `DELETE FROM applied`, `DELETE FROM events`, `DELETE FROM sessions`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if code, out, errOut := verify(second); code != exitFailed || !strings.Contains(out+errOut, "missing from the journal") {
		t.Errorf("verify of the journal that lost its session: exit %d, want %d naming it missing\nstdout:\n%s\nstderr:\n%s", code, exitFailed, out, errOut)
	}
	if code, out, errOut := verify(first); code != exitOK {
		t.Errorf("verify of the untouched journal: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitOK, out, errOut)
	}
}
