package main

import (
	"context"
	"fmt"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/runbook"
)

// launchBatch is a placeholder until the AWS Batch launcher lands: it
// prints the worker command for the operator to launch.
func launchBatch(_ context.Context, sc *engine.StepContext, spec *runbook.FleetSpec, rec fleet.Record, args []string) (func(), error) {
	return printLaunch(sc, spec, rec, args)
}

// launchKubernetes prints the worker command for the operator to launch.
func launchKubernetes(sc *engine.StepContext, spec *runbook.FleetSpec, rec fleet.Record, args []string) (func(), error) {
	return printLaunch(sc, spec, rec, args)
}

func printLaunch(sc *engine.StepContext, spec *runbook.FleetSpec, rec fleet.Record, args []string) (func(), error) {
	err := sc.EmitOutput(fmt.Sprintf("launch %d workers (%s) running: %s", spec.Workers, spec.Launcher, shellLine(args)))
	return func() {}, err
}
