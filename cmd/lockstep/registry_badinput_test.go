package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRegistryUnknownEnvironment: registry (and journal verify --env, which
// shares the lookup), given an environment the runbook does not declare,
// exits 2 naming the ones it has, as run, plan and lint do.
func TestRegistryUnknownEnvironment(t *testing.T) {
	dir := t.TempDir()
	rb := filepath.Join(dir, "rb.yaml")
	writeTestFile(t, rb, badInputRunbook)
	env := map[string]string{"LOCKSTEP_JOURNAL": filepath.Join(dir, "journal.db"), "BI_DB": filepath.Join(dir, "users.db")}
	_, _, err := execCmd(env, "registry", "--env", "prod", rb)
	if got := exitCode(err); got != exitBadInput {
		t.Fatalf("exit %d (%v), want %d", got, err, exitBadInput)
	}
	if want := `has no environment "prod" with a store (it has dev)`; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
}
