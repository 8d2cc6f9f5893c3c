package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/testbin"
)

// started is a lockstep process running in the background.
type started struct {
	*testbin.Proc
	t *testing.T
}

// start runs lockstep in the background (killed after 90 s at the latest).
func (e *env) start(args ...string) *started {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	e.t.Cleanup(cancel)
	return &started{Proc: testbin.Start(e.t, e.command(ctx, args...)), t: e.t}
}

// signal sends sig and waits for the process to exit, returning its exit code.
func (s *started) signal(sig syscall.Signal) int {
	s.t.Helper()
	return s.Stop(sig).Code
}

// waitFile waits until the file name exists in the test's directory.
func (e *env) waitFile(name string, s *started) {
	e.t.Helper()
	exists := func() bool {
		_, err := os.Stat(filepath.Join(e.dir, name))
		return err == nil
	}
	if err := s.Until(30*time.Second, 20*time.Millisecond, exists); err != nil {
		e.t.Fatalf("%s did not appear: %v\n%s", name, err, s.Output())
	}
}

// waitOutput waits until the process has printed want.
func (s *started) waitOutput(want string) {
	s.t.Helper()
	printed := func() bool { return strings.Contains(s.Stdout.String(), want) }
	if err := s.Until(60*time.Second, 20*time.Millisecond, printed); err != nil {
		s.t.Fatalf("lockstep did not print %q: %v\n%s", want, err, s.Output())
	}
}

// killOrphan kills the sleeping shell a killed lockstep left behind.
func (e *env) killOrphan(pidFile string) {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, pidFile))
	if err != nil {
		e.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		e.t.Fatal(err)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// wantCounts checks how often each marker-counting step ran.
func (e *env) wantCounts(when string, want map[string]int) {
	e.t.Helper()
	for name, n := range want {
		if got := e.count(name + ".count"); got != n {
			e.t.Errorf("%s: step %s ran %d time(s), want %d", when, name, got, n)
		}
	}
}

func TestResumeAfterKill9(t *testing.T) {
	e := newEnv(t)
	crash := testdata(t, "crash.yaml")

	// 1. kill -9 in the middle of the non-idempotent step "slow".
	p := e.start("run", crash, "--env", "box", "--plain")
	e.waitFile("slow.marker", p)
	if code := p.signal(syscall.SIGKILL); code != -int(syscall.SIGKILL) {
		t.Fatalf("lockstep exit %d after SIGKILL", code)
	}
	e.killOrphan("slow.pid")
	e.wantCounts("after kill -9", map[string]int{"first": 1, "slow": 1, "steady": 0, "last": 0})
	s := e.latest()
	if s.Outcome != "" {
		t.Fatalf("killed session outcome %q, want \"\" (never ended)", s.Outcome)
	}

	// 2. Resuming without an answer for the interrupted step asks, and exits 2 naming the key.
	r := e.mustRun(2, "resume", s.ID, "--plain")
	if !strings.Contains(r.Stdout, "slow was interrupted") {
		t.Errorf("resume does not report slow as interrupted\n%s", r)
	}
	if !strings.Contains(r.Stderr, `"slow.retry|done|skip"`) {
		t.Errorf("resume does not name the answer key for slow\n%s", r)
	}
	e.wantCounts("after a refused resume", map[string]int{"first": 1, "slow": 1, "steady": 0})

	// 3. {retry: true} re-runs slow; completed steps never run again. Then
	// kill -9 again inside the idempotent step "steady".
	answers := e.writeFile("retry.yaml", "slow: {retry: true}\n")
	p = e.start("resume", s.ID, "--plain", "--answers", answers)
	e.waitFile("steady.marker", p)
	p.signal(syscall.SIGKILL)
	e.killOrphan("steady.pid")
	if !strings.Contains(p.Stdout.String(), "slow was interrupted") {
		t.Errorf("second resume does not report slow as interrupted\n%s", p.Stdout)
	}
	e.wantCounts("after the retry and a second kill -9", map[string]int{"first": 1, "slow": 2, "steady": 1, "last": 0})

	// 4. The latest stopped session is the default; an idempotent step re-runs without asking.
	r = e.mustRun(0, "resume", "--plain")
	if !strings.Contains(r.Stdout, "steady was interrupted") || strings.Contains(r.Stdout, "? steady") {
		t.Errorf("steady was not re-run without asking\n%s", r)
	}
	e.wantCounts("after the last resume", map[string]int{"first": 1, "slow": 2, "steady": 2, "last": 1})
	if got := e.latest(); got.ID != s.ID || got.Outcome != "completed" {
		t.Errorf("session %s outcome %q, want %s completed", got.ID, got.Outcome, s.ID)
	}
	e.mustRun(0, "journal", "verify", s.ID)

	// 5. A completed session cannot be resumed.
	e.mustRun(2, "resume", s.ID, "--plain")
}

// TestInterruptStopsResumablyWithExit3: Ctrl-C, a kill and a dropped SSH
// session (SIGHUP) all stop the session resumably, exit 3.
func TestInterruptStopsResumablyWithExit3(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) { interruptStopsResumably(t, sig) })
	}
}

func interruptStopsResumably(t *testing.T, sig syscall.Signal) {
	e := newEnv(t)
	e.writeFile("steady.marker", "") // steady does not sleep in this test
	p := e.start("run", testdata(t, "crash.yaml"), "--env", "box", "--plain")
	e.waitFile("slow.marker", p)
	if code := p.signal(sig); code != 3 {
		t.Fatalf("exit %d after %s, want 3\n%s%s", code, sig, p.Stdout, p.Stderr)
	}
	s := e.latest()
	if want := "lockstep resume " + s.ID; !strings.Contains(p.Stderr.String(), want) {
		t.Errorf("stderr does not say how to resume (%q)\n%s", want, p.Stderr)
	}
	if s.Outcome != "stopped" {
		t.Errorf("outcome %q, want stopped", s.Outcome)
	}

	// Marking the interrupted step done (with a reason) does not run it again.
	answers := e.writeFile("done.yaml", "slow: {done: \"finished by hand\"}\n")
	r := e.mustRun(0, "resume", "--plain", "--answers", answers)
	if !strings.Contains(r.Stdout, "slow marked done") {
		t.Errorf("resume does not report slow marked done\n%s", r)
	}
	e.wantCounts("after resume", map[string]int{"first": 1, "slow": 1, "steady": 1, "last": 1})
}
