package migrate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// DefaultTransformLineTimeout is how long an external transform may go
// without printing a line while it still owes lines of a batch. A
// transform that prints fewer lines than it received (or does not flush
// its output) would otherwise block the segment forever. The runbook has
// no field to change it; Executor.TransformLineTimeout does.
const DefaultTransformLineTimeout = 60 * time.Second

// externalTransform is one long-lived transform process (one per scan
// segment), in a process group of its own. It reads items as typed JSON
// lines (MarshalItem) on stdin and must write exactly one transformed item
// per line on stdout, in order.
type externalTransform struct {
	mu     sync.Mutex
	argv   []string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	out    *bufio.Reader
	stderr *tailBuffer
	dead   error
	// lineTimeout bounds the wait for each line owed (see
	// DefaultTransformLineTimeout).
	lineTimeout time.Duration
}

// startExternal starts argv in dir; it is killed after lineTimeout
// without a line it owes.
func startExternal(ctx context.Context, argv []string, dir string, lineTimeout time.Duration) (*externalTransform, error) {
	if len(argv) == 0 {
		return nil, errors.New("start transform: empty command")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	// Its own process group, killed whole: a child it started (sh -c
	// "python …") must not keep the pipes open after it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd) }
	cmd.WaitDelay = time.Second
	x := &externalTransform{argv: argv, cmd: cmd, stderr: &tailBuffer{max: 8 << 10}, lineTimeout: lineTimeout}
	cmd.Stderr = x.stderr
	var err error
	if x.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("start transform %s: %w", argv[0], err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start transform %s: %w", argv[0], err)
	}
	x.stdout, x.out = stdout, bufio.NewReaderSize(stdout, 64<<10)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start transform %s: %w", argv[0], err)
	}
	return x, nil
}

// run feeds items and reads as many transformed items back. A process
// that prints no line for x.lineTimeout while it owes some is
// killed and the step fails (see lineWatchdog).
func (x *externalTransform) run(ctx context.Context, items []engine.Item) ([]engine.Item, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.dead != nil {
		return nil, x.dead
	}
	var in bytes.Buffer
	for _, it := range items {
		b, err := engine.MarshalItem(it)
		if err != nil {
			return nil, fmt.Errorf("transform input: %w", err)
		}
		in.Write(b)
		in.WriteByte('\n')
	}
	werr := make(chan error, 1)
	go func() {
		_, err := x.stdin.Write(in.Bytes())
		werr <- err
	}()
	dog := x.watch(x.lineTimeout)
	defer dog.stop()
	outs := make([]engine.Item, 0, len(items))
	for len(outs) < len(items) {
		line, err := x.out.ReadBytes('\n')
		if err != nil && len(bytes.TrimSpace(line)) == 0 {
			if dog.fired() {
				err = x.failKilled(fmt.Errorf("returned %d of %d lines, then none for %s; it must print exactly one JSON line per input line, "+
					"in order, and flush its output after each line", len(outs), len(items), x.lineTimeout))
			} else {
				err = x.fail(fmt.Errorf("returned %d of %d lines, then its output ended: %w; it must print exactly one JSON line per input line, "+
					"and exit only once its input ends", len(outs), len(items), err))
			}
			<-werr
			return nil, err
		}
		dog.reset()
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		it, err := engine.UnmarshalItem(line)
		if err != nil {
			err = x.failKilled(badLine(len(outs)+1, line, err))
			<-werr
			return nil, err
		}
		outs = append(outs, it)
	}
	if err := <-werr; err != nil {
		return nil, x.fail(fmt.Errorf("write batch: %w", err))
	}
	return outs, ctx.Err()
}

// lineWatchdog kills a transform that prints no line for a while: killing
// its process group and closing both pipes ends the blocked read (and a
// write to a process that no longer reads).
type lineWatchdog struct {
	t      *time.Timer
	d      time.Duration
	killed atomic.Bool
}

func (x *externalTransform) watch(d time.Duration) *lineWatchdog {
	w := &lineWatchdog{d: d}
	w.t = time.AfterFunc(d, func() { // real time: the transform is a real process
		w.killed.Store(true)
		_ = killGroup(x.cmd)
		_ = x.stdin.Close()
		_ = x.stdout.Close()
	})
	return w
}

// reset restarts the delay: a line came.
func (w *lineWatchdog) reset() { w.t.Reset(w.d) }

func (w *lineWatchdog) stop() { w.t.Stop() }

// fired reports whether the watchdog killed the process.
func (w *lineWatchdog) fired() bool { return w.killed.Load() }

// killGroup kills cmd's process group.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}

// badLine is the error of an output line that is not an item: which line,
// its start (what the command printed instead) and what it must print.
func badLine(n int, line []byte, err error) error {
	why := strings.TrimPrefix(err.Error(), "unmarshal item: ")
	if !bytes.HasPrefix(line, []byte("{")) {
		why = "not a JSON object"
	}
	const max = 60
	shown := string(line)
	if len(shown) > max {
		shown = shown[:max] + "…"
	}
	return fmt.Errorf("output line %d is not a JSON item (%s): %q; it must print exactly one JSON object per input line, "+
		"in order (the item it read, with its attributes changed)", n, why, shown)
}

// fail stops the process and returns err with the process's exit status
// and the tail of its stderr.
func (x *externalTransform) fail(err error) error { return x.stop(err, false) }

// failKilled is fail for a process lockstep kills while it runs (a bad
// line, no line in time): its "signal: killed" is lockstep's doing and
// says nothing of the command, so it is left out.
func (x *externalTransform) failKilled(err error) error { return x.stop(err, true) }

func (x *externalTransform) stop(err error, killing bool) error {
	_ = x.stdin.Close()
	_ = killGroup(x.cmd)
	werr := x.cmd.Wait()
	msg := fmt.Sprintf("transform %s: %v", strings.Join(x.argv, " "), err)
	if werr != nil && !(killing && killedBySIGKILL(werr)) {
		msg += " (" + werr.Error() + ")"
	}
	if s := strings.TrimSpace(x.stderr.String()); s != "" {
		msg += "; stderr: " + s
	}
	x.dead = errors.New(msg)
	return x.dead
}

// killedBySIGKILL reports a process that ended of a SIGKILL.
func killedBySIGKILL(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// close ends the process: stdin closed, then wait.
func (x *externalTransform) close() error {
	if x == nil {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.dead != nil {
		return nil
	}
	_ = x.stdin.Close()
	err := x.cmd.Wait()
	x.dead = errors.New("transform closed")
	if err != nil {
		return fmt.Errorf("transform %s: %w; stderr: %s", x.argv[0], err, strings.TrimSpace(x.stderr.String()))
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
