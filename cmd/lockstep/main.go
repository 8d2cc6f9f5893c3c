// Command lockstep is a terminal runbook assistant for data migrations: it
// walks an operator through a migration runbook step by step, executing
// what can be executed, asking for what only a human can decide, and
// journaling everything so a session can be resumed and reviewed.
//
// This package is CLI wiring only (cobra): one file per command, each with
// an options struct and a run function. It is the only package that imports
// the concrete journal and stores.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	relaxStartupGC()
	// The first SIGINT/SIGTERM stops the session resumably (exit 3); after
	// it, the default handling is restored so a second one kills lockstep.
	// SIGHUP: a dropped SSH session stops the session resumably, as
	// Ctrl-C does, instead of killing the process mid-step.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-ctx.Done()
		stop()
	}()
	f := newFactory()
	err := newRootCmd(f).ExecuteContext(ctx)
	stop()
	code := exitCode(err)
	if err != nil && !isSilent(err) {
		fmt.Fprintln(f.ErrOut, "lockstep:", err)
	}
	os.Exit(code)
}
