package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestJournalCommandsUnknownSession: a session id the journal does not
// hold is bad input (exit 2) naming the id and the journal searched, and
// how to list its sessions — without a stray "not found" after the hint.
func TestJournalCommandsUnknownSession(t *testing.T) {
	dir := t.TempDir()
	_, env, _ := stoppedDecision(t, dir)
	jpath := env["LOCKSTEP_JOURNAL"]
	for _, args := range [][]string{
		{"journal", "show", "nosuch"},
		{"journal", "export", "nosuch", "--format", "json", "-o", filepath.Join(dir, "out.json")},
		{"journal", "verify", "nosuch"},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			_, _, err := execCmd(env, args...)
			if got := exitCode(err); got != exitBadInput {
				t.Fatalf("exit %d (%v), want %d", got, err, exitBadInput)
			}
			msg := err.Error()
			for _, w := range []string{`no session "nosuch" in ` + jpath, "lockstep journal list"} {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if strings.HasSuffix(msg, "not found") {
				t.Errorf("error %q ends in a stray %q", msg, "not found")
			}
			if !errors.Is(err, engine.ErrNotFound) {
				t.Errorf("errors.Is(%v, ErrNotFound) = false", err)
			}
		})
	}
}
