package tmux_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// pollEvery is how often a wait captures the pane.
const pollEvery = 50 * time.Millisecond

// term is one tmux pane on a private tmux server, running sh.
type term struct {
	t      *testing.T
	socket string
	dir    string // TMUX_TMPDIR: the server's socket lives here
	target string
	start  time.Time
	last   screen // the last screen captured, dumped on failure

	lastProblem string // what waitUntil saw wrong last, named on failure
}

// newTerm starts a private tmux server with one width×height pane running
// sh with exactly the environment env (plus PATH), and kills the server
// when the test ends.
func newTerm(t *testing.T, width, height int, env []string) *term {
	t.Helper()
	dir, err := os.MkdirTemp("", "lstmux-") // short: socket paths are limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, dir: dir, target: "e2e", start: time.Now(),
		socket: fmt.Sprintf("lockstep-e2e-%d-%d", os.Getpid(), time.Now().UnixNano()%1_000_000)}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = tm.command(ctx, "kill-server").Run()
		_ = os.RemoveAll(dir)
	})
	args := []string{"new-session", "-d", "-s", tm.target, "-x", fmt.Sprint(width), "-y", fmt.Sprint(height),
		"env", "-i", "PATH=" + os.Getenv("PATH"), "PS1=$ "}
	args = append(append(args, env...), "sh")
	tm.tmux(args...)
	tm.waitFor("the shell prompt", 10*time.Second, func(s screen) bool { return s.hasLine("$") })
	return tm
}

// command is a tmux command on the private server.
func (tm *term) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "tmux", append([]string{"-u", "-L", tm.socket, "-f", "/dev/null"}, args...)...)
	env := []string{"TMUX_TMPDIR=" + tm.dir}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TMUX=") && !strings.HasPrefix(kv, "TMUX_TMPDIR=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	return cmd
}

// tmux runs a tmux command and returns its output, failing the test on error.
func (tm *term) tmux(args ...string) string {
	tm.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := tm.command(ctx, args...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// capture reads the pane as plain text (joined: a line the program wrote
// wider than the pane, which the terminal wrapped, comes back whole).
func (tm *term) capture() screen {
	tm.t.Helper()
	tm.last = parseScreen(tm.tmux("capture-pane", "-p", "-J", "-t", tm.target))
	return tm.last
}

// logf logs what the test does, with the time since the pane started.
func (tm *term) logf(format string, args ...any) {
	tm.t.Helper()
	tm.t.Logf("%6.2fs  %s", time.Since(tm.start).Seconds(), fmt.Sprintf(format, args...))
}

// typeText types text literally, as keys.
func (tm *term) typeText(text string) {
	tm.t.Helper()
	tm.logf("type %q", text)
	tm.tmux("send-keys", "-t", tm.target, "-l", text)
}

// press presses key (a tmux key name: "Enter", "Space", "Tab", "Down", "p")
// after checking that the footer offers it as label ("p pause"): the test
// uses only keys the screen tells the operator about.
func (tm *term) press(key, label string) {
	tm.t.Helper()
	tm.waitFor(fmt.Sprintf("the footer to offer %q before pressing %s", label, key), 5*time.Second,
		func(s screen) bool { return strings.Contains(s.footer(), label) })
	tm.logf("press %s (%s)", key, label)
	tm.tmux("send-keys", "-t", tm.target, key)
}

// resize sets the pane to width×height, as a terminal window resize would.
func (tm *term) resize(width, height int) {
	tm.t.Helper()
	tm.logf("resize to %d×%d", width, height)
	tm.tmux("resize-window", "-t", tm.target, "-x", fmt.Sprint(width), "-y", fmt.Sprint(height))
}

// waitFor captures the pane until cond holds and returns that screen; after
// timeout it fails, naming what it waited for and dumping the last screen.
func (tm *term) waitFor(what string, timeout time.Duration, cond func(screen) bool) screen {
	tm.t.Helper()
	defer func() { tm.lastProblem = "" }()
	deadline := time.Now().Add(timeout)
	for {
		s := tm.capture()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			if tm.lastProblem != "" {
				what += " (still: " + tm.lastProblem + ")"
			}
			tm.fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(pollEvery)
	}
}

// waitUntil is waitFor with a reason: check returns "" when the screen is
// right, else what is still wrong, which the failure message names.
func (tm *term) waitUntil(what string, timeout time.Duration, check func(screen) string) screen {
	tm.t.Helper()
	return tm.waitFor(what, timeout, func(s screen) bool {
		tm.lastProblem = check(s)
		return tm.lastProblem == ""
	})
}

// waitText waits until the screen shows text.
func (tm *term) waitText(text string, timeout time.Duration) screen {
	tm.t.Helper()
	return tm.waitFor(fmt.Sprintf("the screen to show %q", text), timeout,
		func(s screen) bool { return s.contains(text) })
}

// settled returns a screen whose state (prompt, step, pause) reads the
// same on two captures in a row, so a capture taken mid-redraw is never
// acted on.
func (tm *term) settled(timeout time.Duration) screen {
	tm.t.Helper()
	prev := tm.capture()
	return tm.waitFor("a screen that stays the same for two captures", timeout, func(s screen) bool {
		same := s.state() == prev.state()
		prev = s
		return same
	})
}

// fatalf fails the test with msg and the last screen.
func (tm *term) fatalf(format string, args ...any) {
	tm.t.Helper()
	tm.t.Fatalf("%s (at %.1fs)\n%s", fmt.Sprintf(format, args...), time.Since(tm.start).Seconds(), tm.last.dump())
}
