package testbin

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Errors of Proc.Until.
var (
	// ErrExited means the process ended before the condition held.
	ErrExited = errors.New("lockstep exited first")
	// ErrTimeout means the condition did not hold in time.
	ErrTimeout = errors.New("timed out")
)

// stopTimeout bounds how long Stop waits for the signalled process.
const stopTimeout = 30 * time.Second

// shown is how much of the end of each stream a failure message shows.
const shown = 3000

// Result is what one lockstep run did.
type Result struct {
	Code   int // the exit code; -N when signal N killed the process
	Stdout string
	Stderr string
}

// String shows the exit code and the end of each stream, for failure
// messages.
func (r Result) String() string {
	return fmt.Sprintf("exit %d\n%s", r.Code, output(r.Stdout, r.Stderr))
}

func output(stdout, stderr string) string {
	return section("stdout", stdout) + section("stderr", stderr)
}

func section(name, s string) string {
	head := "--- " + name + "\n"
	if len(s) > shown {
		head = fmt.Sprintf("--- %s (last %d bytes)\n…", name, shown)
		s = s[len(s)-shown:]
	}
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return head + s
}

// ExitCode returns the exit code that err, from exec.Cmd's Run or Wait,
// reports: 0 for nil, -N when signal N killed the process. ok is false
// when err is no exit status (the process did not run or was not waited
// for).
func ExitCode(err error) (code int, ok bool) {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, true
	case !errors.As(err, &ee):
		return 0, false
	}
	if ws, isWS := ee.Sys().(syscall.WaitStatus); isWS && ws.Signaled() {
		return -int(ws.Signal()), true
	}
	return ee.ExitCode(), true
}

// SyncBuffer is a bytes.Buffer that a process may write while the test
// reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what has been written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Proc is a process started by Start, running in the background.
type Proc struct {
	// Stdout and Stderr hold what the process has written so far.
	Stdout, Stderr *SyncBuffer

	t    testing.TB
	cmd  *exec.Cmd
	done chan struct{} // closed once res (and err) are set
	res  Result
	err  error // cmd.Wait's error when it is no exit status
}

// Start starts cmd in the background with its output in Stdout and
// Stderr, failing the test when it cannot start. When the test ends it
// kills the process, and every process left in its group when cmd runs in
// a group of its own (SysProcAttr.Setpgid), such as the shell steps it
// started.
func Start(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{Stdout: &SyncBuffer{}, Stderr: &SyncBuffer{}, t: t, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Stdout, p.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.Name(), err)
	}
	go func() {
		err := cmd.Wait()
		code, ok := ExitCode(err)
		if !ok {
			p.err = err
		}
		p.res = Result{Code: code, Stdout: p.Stdout.String(), Stderr: p.Stderr.String()}
		close(p.done)
	}()
	t.Cleanup(p.Kill)
	return p
}

// Name is the command line, "lockstep ARGS", for messages.
func (p *Proc) Name() string {
	return strings.Join(append([]string{"lockstep"}, p.cmd.Args[1:]...), " ")
}

// Output shows the end of what the process has written so far, for
// failure messages.
func (p *Proc) Output() string { return output(p.Stdout.String(), p.Stderr.String()) }

// Done returns a channel that is closed when the process has ended.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits for the process to end and returns what it did. After
// timeout it kills the process and fails the test.
func (p *Proc) Wait(timeout time.Duration) Result {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.Kill()
		<-p.done
		p.t.Fatalf("%s: still running after %v (hang?)\n%s", p.Name(), timeout, p.res)
	}
	if p.err != nil {
		p.t.Fatalf("%s: %v\n%s", p.Name(), p.err, p.res)
	}
	return p.res
}

// Signal sends sig to the process (not to its group), failing the test
// when it cannot.
func (p *Proc) Signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v to %s: %v", sig, p.Name(), err)
	}
}

// Stop sends sig to the process and waits, at most 30 s, for it to end.
func (p *Proc) Stop(sig os.Signal) Result {
	p.t.Helper()
	p.Signal(sig)
	return p.Wait(stopTimeout)
}

// Kill kills the process with SIGKILL, and every process left in its
// group when it runs in a group of its own. It may be called more than
// once, and after the process ended.
func (p *Proc) Kill() {
	if a := p.cmd.SysProcAttr; a != nil && a.Setpgid {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		return
	}
	_ = p.cmd.Process.Kill()
}

// Until calls cond every poll until it returns true. It returns an error
// wrapping ErrExited when the process ends first, or ErrTimeout when cond
// still fails after timeout.
func (p *Proc) Until(timeout, poll time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if p.Exited() {
			return fmt.Errorf("%w (exit %d)", ErrExited, p.res.Code)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w after %v", ErrTimeout, timeout)
		}
		time.Sleep(poll)
	}
	return nil
}
