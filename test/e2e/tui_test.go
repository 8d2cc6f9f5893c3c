package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/testbin"
)

// tmux runs tmux with args, failing the test on error.
func tmux(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "tmux", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// waitPane waits until the tmux pane shows want.
func waitPane(t *testing.T, session, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		screen = tmux(t, "capture-pane", "-p", "-t", session)
		if strings.Contains(screen, want) {
			return screen
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the screen never showed %q:\n%s", want, screen)
	return ""
}

// TestRunOnATerminalUsesTheTUI runs lockstep in a real terminal (tmux), as
// a person would: without --plain it opens the TUI, a checklist is ticked
// with the keyboard and confirmed (and journaled), and ctrl+c at the next
// prompt stops the session resumably (exit 3).
func TestRunOnATerminalUsesTheTUI(t *testing.T) {
	testbin.LookPath(t, "tmux") // skips without tmux, fails under CI=true
	e := newEnv(t)
	e.newAccountsDB()
	session := fmt.Sprintf("lockstep-e2e-%d", os.Getpid())
	exitFile := filepath.Join(e.dir, "exit-code")
	script := e.writeFile("run.sh", fmt.Sprintf("#!/bin/sh\ncd %q\nexport %s\n%q run %q --env scratch\necho $? > %q\nsleep 60\n",
		e.dir, strings.Join(quoteAll(e.vars), " "), binary.Path(t), testdata(t, "release.yaml"), exitFile))
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	tmux(t, "new-session", "-d", "-s", session, "-x", "100", "-y", "30", script)
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", session).Run() })

	screen := waitPane(t, session, "Dashboards green")
	for _, want := range []string{"scratch", "preflight", "smoke"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the TUI does not show %q:\n%s", want, screen)
		}
	}
	// A prompt ignores keys for 300 ms after it opens (key bounce from the
	// previous prompt must not answer it).
	time.Sleep(500 * time.Millisecond)
	for _, item := range []string{"Dashboards green", "Support warned", "Rollback script at hand"} {
		tmux(t, "send-keys", "-t", session, "space") // ticks the item under the cursor and moves on
		waitPane(t, session, "[✓] "+item)
	}
	tmux(t, "send-keys", "-t", session, "Enter")
	waitPane(t, session, "Now or after the billing run?") // the next step's prompt
	time.Sleep(500 * time.Millisecond)
	tmux(t, "send-keys", "-t", session, "C-c") // the rationale field has focus: q would be typed

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(exitFile); err == nil && len(b) > 0 {
			if code := strings.TrimSpace(string(b)); code != "3" {
				t.Fatalf("exit %s after ctrl+c, want 3\n%s", code, tmux(t, "capture-pane", "-p", "-t", session))
			}
			s := e.latest()
			if s.Outcome != "stopped" {
				t.Errorf("outcome %q after ctrl+c, want stopped", s.Outcome)
			}
			// The tick made with the keyboard was journaled.
			r := e.mustRun(0, "journal", "show", s.ID, "--format", "json")
			if !strings.Contains(r.Stdout, `"item": "Dashboards green"`) {
				t.Errorf("the ticked item is not in the timeline\n%s", r.Stdout)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("lockstep did not exit after ctrl+c:\n%s", tmux(t, "capture-pane", "-p", "-t", session))
}

// quoteAll shell-quotes each NAME=value.
func quoteAll(vars []string) []string {
	out := make([]string, len(vars))
	for i, v := range vars {
		out[i] = testbin.ShellQuote(v)
	}
	return out
}
