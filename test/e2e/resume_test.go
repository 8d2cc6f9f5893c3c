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
)

// started is a lockstep process running in the background.
type started struct {
	t      *testing.T
	cancel context.CancelFunc
	wait   chan error
	stdout *syncBuffer
	stderr *syncBuffer
	pid    int
}

// start runs lockstep in the background.
func (e *env) start(args ...string) *started {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	cmd, stdout, stderr := e.command(ctx, args...)
	if err := cmd.Start(); err != nil {
		cancel()
		e.t.Fatal(err)
	}
	s := &started{t: e.t, cancel: cancel, wait: make(chan error, 1), stdout: stdout, stderr: stderr, pid: cmd.Process.Pid}
	go func() { s.wait <- cmd.Wait() }()
	e.t.Cleanup(func() {
		_ = syscall.Kill(s.pid, syscall.SIGKILL)
		cancel()
	})
	return s
}

// signal sends sig and waits for the process to exit, returning its exit code.
func (s *started) signal(sig syscall.Signal) int {
	s.t.Helper()
	if err := syscall.Kill(s.pid, sig); err != nil {
		s.t.Fatal(err)
	}
	select {
	case err := <-s.wait:
		if err == nil {
			return 0
		}
		var ws syscall.WaitStatus
		if ee, ok := err.(interface{ Sys() any }); ok {
			ws, _ = ee.Sys().(syscall.WaitStatus)
		}
		if ws.Signaled() {
			return -int(ws.Signal())
		}
		return ws.ExitStatus()
	case <-time.After(30 * time.Second):
		s.t.Fatalf("lockstep did not exit within 30s of %v\n%s%s", sig, s.stdout, s.stderr)
	}
	return 0
}

// waitFile waits until path exists.
func (e *env) waitFile(name string, s *started) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(e.dir, name)); err == nil {
			return
		}
		select {
		case err := <-s.wait:
			e.t.Fatalf("lockstep exited (%v) before %s appeared\n%s%s", err, name, s.stdout, s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	e.t.Fatalf("%s did not appear within 30s\n%s%s", name, s.stdout, s.stderr)
}

// waitOutput waits until the process has printed want.
func (s *started) waitOutput(want string) {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(s.stdout.String(), want) {
			return
		}
		select {
		case err := <-s.wait:
			s.t.Fatalf("lockstep exited (%v) before printing %q\n%s%s", err, want, s.stdout, s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.t.Fatalf("lockstep did not print %q within 60s\n%s%s", want, s.stdout, s.stderr)
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
	if !strings.Contains(r.stdout, "slow was interrupted") {
		t.Errorf("resume does not report slow as interrupted\n%s", r)
	}
	if !strings.Contains(r.stderr, `"slow.retry|done|skip"`) {
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
	if !strings.Contains(p.stdout.String(), "slow was interrupted") {
		t.Errorf("second resume does not report slow as interrupted\n%s", p.stdout)
	}
	e.wantCounts("after the retry and a second kill -9", map[string]int{"first": 1, "slow": 2, "steady": 1, "last": 0})

	// 4. The latest stopped session is the default; an idempotent step re-runs without asking.
	r = e.mustRun(0, "resume", "--plain")
	if !strings.Contains(r.stdout, "steady was interrupted") || strings.Contains(r.stdout, "? steady") {
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

func TestInterruptStopsResumablyWithExit3(t *testing.T) {
	e := newEnv(t)
	e.writeFile("steady.marker", "") // steady does not sleep in this test
	p := e.start("run", testdata(t, "crash.yaml"), "--env", "box", "--plain")
	e.waitFile("slow.marker", p)
	if code := p.signal(syscall.SIGINT); code != 3 {
		t.Fatalf("exit %d after SIGINT, want 3\n%s%s", code, p.stdout, p.stderr)
	}
	s := e.latest()
	if want := "lockstep resume " + s.ID; !strings.Contains(p.stderr.String(), want) {
		t.Errorf("stderr does not say how to resume (%q)\n%s", want, p.stderr)
	}
	if s.Outcome != "stopped" {
		t.Errorf("outcome %q, want stopped", s.Outcome)
	}

	// Marking the interrupted step done (with a reason) does not run it again.
	answers := e.writeFile("done.yaml", "slow: {done: \"finished by hand\"}\n")
	r := e.mustRun(0, "resume", "--plain", "--answers", answers)
	if !strings.Contains(r.stdout, "slow marked done") {
		t.Errorf("resume does not report slow marked done\n%s", r)
	}
	e.wantCounts("after resume", map[string]int{"first": 1, "slow": 1, "steady": 1, "last": 1})
}
