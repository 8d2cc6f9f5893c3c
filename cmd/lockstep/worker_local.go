package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/runbook"
)

// localRestarts is how many times the local launcher runs a worker
// again after it exited 75 or was killed, as AWS Batch's retry attempts
// or a Job's backoffLimit would.
const localRestarts = 5

// launchLocal runs spec.Workers worker processes of this binary, each
// restarted when it exits 75 or dies of a signal; each one's output goes
// to WORKDIR/fleet/ID/worker-N.log and each exit is journaled.
func launchLocal(ctx context.Context, sc *engine.StepContext, spec *runbook.FleetSpec, rec fleet.Record, args []string) (fleet.Workers, error) {
	exe, err := os.Executable()
	if err != nil {
		return fleet.Workers{}, fmt.Errorf("find the lockstep binary: %w", err)
	}
	return runLocal(ctx, sc, spec.Workers, filepath.Join(sc.WorkDir, "fleet", rec.ID), exe, args)
}

// runLocal runs n processes of exe with args under superviseLocal, their
// logs in dir. Workers.Gone is closed once every one has stopped for
// good: exited 0 or 65, or its restarts spent.
func runLocal(ctx context.Context, sc *engine.StepContext, n int, dir, exe string, args []string) (fleet.Workers, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fleet.Workers{}, fmt.Errorf("worker log directory: %w", err)
	}
	if err := sc.EmitOutput(fmt.Sprintf("local workers: %s (logs in %s)", shellLine(args), dir)); err != nil {
		return fleet.Workers{}, err
	}
	lctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			superviseLocal(lctx, sc, exe, args, i, filepath.Join(dir, fmt.Sprintf("worker-%d.log", i)))
		}()
	}
	gone := make(chan struct{})
	go func() { wg.Wait(); close(gone) }()
	return fleet.Workers{Stop: func() { cancel(); <-gone }, Gone: gone}, nil
}

// superviseLocal runs worker i until it exits 0 or 65, it has been
// restarted localRestarts times, or ctx is done (then it is sent
// SIGTERM, and killed 10s later).
func superviseLocal(ctx context.Context, sc *engine.StepContext, exe string, args []string, i int, logPath string) {
	for run := 0; run <= localRestarts && ctx.Err() == nil; run++ {
		log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			_ = sc.EmitOutput(fmt.Sprintf("worker %d: %v", i, err))
			return
		}
		cmd := exec.Command(exe, args...)
		cmd.Env = append(os.Environ(), "LOCKSTEP_WORKER_INDEX="+strconv.Itoa(i))
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			log.Close()
			_ = sc.EmitOutput(fmt.Sprintf("worker %d: start: %v", i, err))
			return
		}
		code := waitLocal(ctx, cmd)
		log.Close()
		_ = sc.EmitOutput(fmt.Sprintf("worker %d (pid %d) exited with status %d", i, cmd.Process.Pid, code))
		if code == fleet.ExitDone || code == fleet.ExitDataError {
			return
		}
	}
}

// waitLocal waits for cmd and returns its exit status (-1: killed by a
// signal).
func waitLocal(ctx context.Context, cmd *exec.Cmd) int {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			err = <-done
		}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
