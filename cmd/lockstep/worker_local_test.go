package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestLocalWorkersGoneAfterTheirRestarts: a worker that keeps failing
// (exit 75) is run 1+localRestarts times, each exit journaled, and once
// every worker has stopped for good the launcher says so (Workers.Gone),
// so that the session fails the step instead of waiting for ever.
func TestLocalWorkersGoneAfterTheirRestarts(t *testing.T) {
	var mu sync.Mutex
	var out []string
	sc := &engine.StepContext{Step: &runbook.Step{ID: "fill"}, Emit: func(ev engine.Event) error {
		if o, err := engine.DecodeAs[engine.Output](ev); err == nil {
			mu.Lock()
			out = append(out, o.Text)
			mu.Unlock()
		}
		return nil
	}}
	ws, err := runLocal(context.Background(), sc, 2, t.TempDir(), "/bin/sh", []string{"-c", "exit 75"})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Stop()
	select {
	case <-ws.Gone:
	case <-time.After(30 * time.Second):
		t.Fatal("Gone not closed 30s after every worker kept exiting 75")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, i := range []string{"worker 0 ", "worker 1 "} {
		n := 0
		for _, line := range out {
			if strings.HasPrefix(line, i) && strings.HasSuffix(line, "exited with status 75") {
				n++
			}
		}
		if n != 1+localRestarts {
			t.Errorf("%sexited 75 %d times, want %d\n%s", i, n, 1+localRestarts, strings.Join(out, "\n"))
		}
	}
}

// TestLocalWorkersStopped: Stop ends running workers (SIGTERM) and
// returns once they are gone.
func TestLocalWorkersStopped(t *testing.T) {
	sc := &engine.StepContext{Step: &runbook.Step{ID: "fill"}}
	ws, err := runLocal(context.Background(), sc, 2, t.TempDir(), "/bin/sh", []string{"-c", "sleep 60"})
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { ws.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("Stop did not return within 30s")
	}
	select {
	case <-ws.Gone:
	default:
		t.Fatal("Stop returned with Gone still open")
	}
}
