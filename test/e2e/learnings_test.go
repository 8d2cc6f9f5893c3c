package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/testbin"
)

// TestLearningFromTheTUI takes a note marked "learning:" with n in the
// TUI of a real terminal (tmux), as an operator would, stops the session,
// and finds the learning with `lockstep learnings` (and not the plain
// note taken next to it).
func TestLearningFromTheTUI(t *testing.T) {
	testbin.LookPath(t, "tmux") // skips without tmux, fails under CI=true
	e := newEnv(t)
	e.newAccountsDB()
	session := fmt.Sprintf("lockstep-learn-%d", os.Getpid())
	exitFile := filepath.Join(e.dir, "exit-code")
	script := e.writeFile("run.sh", fmt.Sprintf("#!/bin/sh\ncd %q\nexport %s\n%q run %q --env scratch\necho $? > %q\nsleep 60\n",
		e.dir, strings.Join(quoteAll(e.vars), " "), binary.Path(t), testdata(t, "release.yaml"), exitFile))
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	tmux(t, "new-session", "-d", "-s", session, "-x", "100", "-y", "30", script)
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", session).Run() })

	waitPane(t, session, "Dashboards green")
	for _, note := range []string{"learning: warm the cache before the backfill", "just looking"} {
		time.Sleep(500 * time.Millisecond) // a new prompt ignores keys for 300 ms
		tmux(t, "send-keys", "-t", session, "n")
		waitPane(t, session, "Add a note")
		time.Sleep(500 * time.Millisecond)
		tmux(t, "send-keys", "-t", session, "-l", note)
		tmux(t, "send-keys", "-t", session, "Enter")
		waitPane(t, session, "note recorded")
	}
	time.Sleep(500 * time.Millisecond)
	tmux(t, "send-keys", "-t", session, "C-c")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(exitFile); err == nil && len(b) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lockstep did not exit after ctrl+c:\n%s", tmux(t, "capture-pane", "-p", "-t", session))
		}
		time.Sleep(100 * time.Millisecond)
	}

	r := e.mustRun(0, "learnings", "e2e-release", "--format", "json")
	var list []struct{ Runbook, Text, Env string }
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatalf("learnings --format json: %v\n%s", err, r.Stdout)
	}
	if len(list) != 1 || list[0].Text != "warm the cache before the backfill" || list[0].Runbook != "e2e-release" || list[0].Env != "scratch" {
		t.Errorf("learnings = %+v, want the one learning of e2e-release in scratch", list)
	}
	md := e.mustRun(0, "learnings").Stdout
	if !strings.Contains(md, "## e2e-release\n\n- warm the cache before the backfill — ") || strings.Contains(md, "just looking") {
		t.Errorf("learnings (md) =\n%s", md)
	}
}
