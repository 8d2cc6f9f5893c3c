package steps

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// Output coalescing: a chatty command produces one step.output event per
// chunk of up to chunkLines lines or chunkDelay, not one per line.
const (
	chunkLines = 64
	chunkDelay = 100 * time.Millisecond
	// KillGrace is how long a timed-out or cancelled process group has
	// between SIGTERM and SIGKILL.
	KillGrace = 3 * time.Second
)

// ShellResult is the result of a shell step.
type ShellResult struct {
	Command  string `json:"command"`
	ExitCode int    `json:"exit_code"`
	WouldRun bool   `json:"would_run,omitempty"` // dry-run: not executed
}

// runShell runs `run` via sh -c, or `argv`, in its own process group with
// `env` merged over the process environment, streaming redacted output as
// step.output events. A non-zero exit fails the step; a timeout or a quit
// kills the process group (SIGTERM, then SIGKILL after KillGrace). In
// dry-run it only prints "would run: …" unless the step says dry_run: run.
func runShell(ctx context.Context, sc *engine.StepContext) (any, error) {
	spec := sc.Step.Shell
	if spec == nil || (spec.Run == "" && len(spec.Argv) == 0) {
		return nil, fmt.Errorf("shell %s: %w: no run or argv", sc.Step.ID, engine.ErrConfig)
	}
	argv := spec.Argv
	if len(argv) == 0 {
		argv = []string{"sh", "-c", spec.Run}
	}
	res := &ShellResult{Command: sc.Redact(shellText(spec))}
	if sc.Mode == engine.ModeDryRun && spec.DryRun != "run" {
		res.WouldRun = true
		err := sc.Emit(engine.NewEvent("", engine.Output{Stream: "stdout", Text: "would run: " + res.Command}))
		return res, err
	}
	env, err := shellEnv(spec.Env, sc.Getenv)
	if err != nil {
		return nil, fmt.Errorf("shell %s: %w", sc.Step.ID, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	if spec.Cwd != "" {
		// cwd may hold ${VAR}; a relative one follows the runbook's directory.
		if cmd.Dir, err = sc.Runbook.ExpandPath(spec.Cwd, sc.Getenv); err != nil {
			return nil, fmt.Errorf("shell %s: cwd: %w", sc.Step.ID, err)
		}
		// exec would blame the shell ("fork/exec /usr/bin/sh: no such
		// file or directory") for a missing working directory.
		if fi, err := os.Stat(cmd.Dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("shell %s: cwd %s is not a directory; create it or fix cwd:", sc.Step.ID, cmd.Dir)
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second // a background child holding stdout must not hang the step
	out := newOutputSink(sc)
	defer out.close()
	cmd.Stdout, cmd.Stderr = out.writer("stdout"), out.writer("stderr")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("shell %s: start: %w", sc.Step.ID, err)
	}
	done := make(chan struct{})
	killed := make(chan struct{})
	go killOnCancel(ctx, cmd.Process.Pid, done, killed)
	err = cmd.Wait()
	close(done)
	<-killed
	out.close()
	if out.err != nil {
		return nil, fmt.Errorf("shell %s: %w", sc.Step.ID, out.err)
	}
	res.ExitCode = cmd.ProcessState.ExitCode()
	if ctx.Err() != nil {
		return res, fmt.Errorf("shell %s: process group killed: %w", sc.Step.ID, context.Cause(ctx))
	}
	var exitErr *exec.ExitError
	if errors.Is(err, exec.ErrWaitDelay) && res.ExitCode == 0 {
		err = nil // exited 0; a background child kept the output open
	}
	if errors.As(err, &exitErr) {
		return res, fmt.Errorf("shell %s: exit code %d", sc.Step.ID, res.ExitCode)
	}
	if err != nil {
		return res, fmt.Errorf("shell %s: %w", sc.Step.ID, err)
	}
	return res, nil
}

// killOnCancel sends SIGTERM to the process group when ctx ends, then
// SIGKILL after KillGrace if the process has not exited.
func killOnCancel(ctx context.Context, pid int, done <-chan struct{}, killed chan<- struct{}) {
	defer close(killed)
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(KillGrace): // real time: the grace is the process's, which runs on it
	}
	// Children that ignored SIGTERM (or outlived the shell) go too.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

func shellText(spec *runbook.ShellSpec) string {
	if spec.Run != "" {
		return spec.Run
	}
	return strings.Join(spec.Argv, " ")
}

// shellEnv merges env (values ${VAR}-expanded) over the process environment.
func shellEnv(extra map[string]string, getenv func(string) string) ([]string, error) {
	base := os.Environ()
	if len(extra) == 0 {
		return base, nil
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, over := extra[k]; !over {
			out = append(out, kv)
		}
	}
	for _, k := range keys {
		v, err := runbook.Expand(extra[k], getenv)
		if err != nil {
			// The variable's name last: "TOKEN: …" reads as a credential
			// to the redactor, which would hide the cause.
			return nil, fmt.Errorf("%w (in env %s)", err, k)
		}
		out = append(out, k+"="+v)
	}
	return out, nil
}

// outputSink turns a process's output into step.output events, one per
// stream chunk of up to chunkLines lines, flushed at least every
// chunkDelay. Lines are redacted before they are journaled.
type outputSink struct {
	sc      *engine.StepContext
	mu      sync.Mutex
	pending map[string][]string
	order   []string
	err     error
	wg      sync.WaitGroup
	stop    chan struct{}
	once    sync.Once
	writers []*io.PipeWriter
}

func newOutputSink(sc *engine.StepContext) *outputSink {
	o := &outputSink{sc: sc, pending: map[string][]string{}, stop: make(chan struct{})}
	o.wg.Add(1)
	go o.ticker()
	return o
}

// writer returns a writer for one stream; its lines are read by a goroutine.
func (o *outputSink) writer(stream string) io.Writer {
	pr, pw := io.Pipe()
	o.writers = append(o.writers, pw)
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		readLines(pr, maxOutputLine, func(line string) { o.add(stream, line) })
	}()
	return pw
}

// maxOutputLine bounds one journaled output line; the rest of a longer
// line is cut, and said so, and the lines after it are kept.
const maxOutputLine = 64 * 1024

// readLines calls line for each line of r (without its newline), each cut
// to max bytes with a note of how much was cut, until r ends.
func readLines(r io.Reader, max int, line func(string)) {
	br := bufio.NewReaderSize(r, 64*1024)
	var buf []byte
	cut := 0
	for {
		frag, isPrefix, err := br.ReadLine()
		if len(frag) > 0 || (err == nil && !isPrefix) {
			if room := max - len(buf); room > 0 {
				n := min(room, len(frag))
				buf = append(buf, frag[:n]...)
				cut += len(frag) - n
			} else {
				cut += len(frag)
			}
		}
		if err == nil && isPrefix {
			continue
		}
		if len(buf) > 0 || cut > 0 || err == nil {
			s := string(buf)
			if cut > 0 {
				s += fmt.Sprintf(" … [%d bytes of this line cut]", cut)
			}
			line(s)
		}
		buf, cut = buf[:0], 0
		if err != nil {
			return
		}
	}
}

func (o *outputSink) add(stream, line string) {
	o.mu.Lock()
	if _, ok := o.pending[stream]; !ok {
		o.order = append(o.order, stream)
	}
	o.pending[stream] = append(o.pending[stream], line)
	full := len(o.pending[stream]) >= chunkLines
	o.mu.Unlock()
	if full {
		o.flush()
	}
}

func (o *outputSink) ticker() {
	defer o.wg.Done()
	t := time.NewTicker(chunkDelay) // real time: batches a real process's output as it comes
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
			o.flush()
		}
	}
}

// flush emits the pending chunks, in the order the streams first wrote.
func (o *outputSink) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, stream := range o.order {
		lines := o.pending[stream]
		if len(lines) == 0 {
			continue
		}
		text := o.sc.Redact(strings.Join(lines, "\n"))
		if err := o.sc.Emit(engine.NewEvent("", engine.Output{Stream: stream, Text: text})); err != nil && o.err == nil {
			o.err = err
		}
	}
	o.pending, o.order = map[string][]string{}, nil
}

// close stops the readers and the ticker and flushes what is left. It is
// safe to call twice.
func (o *outputSink) close() {
	o.once.Do(func() {
		for _, w := range o.writers {
			_ = w.Close()
		}
		close(o.stop)
		o.wg.Wait()
		o.flush()
	})
}
