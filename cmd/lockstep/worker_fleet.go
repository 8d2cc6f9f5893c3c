package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/runbook"
)

// withFleet makes the migrate step of kinds fleet-aware: a step with a
// fleet (runbook.FleetOf) runs on workers through the control table,
// any other as before.
func withFleet(kinds engine.StepKinds, f *factory) engine.StepKinds {
	k := kinds[runbook.KindMigrate]
	k.Executor = fleet.Executor{Local: k.Executor, Open: openStepFleet, Launch: launchFleet(f)}
	kinds[runbook.KindMigrate] = k
	return kinds
}

// fleetStore is the environment's store spec with ${VAR}s expanded: the
// control table lives in the data table's account, region and endpoint.
func fleetStore(sc *engine.StepContext) (*runbook.StoreSpec, error) {
	if sc.Env == nil || sc.Env.Store == nil || sc.Env.Store.Kind != runbook.StoreDynamoDB {
		return nil, fmt.Errorf("a fleet runs on a dynamodb store only (lint LS604)")
	}
	getenv := sc.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return sc.Env.Store.Expanded(getenv)
}

func openStepFleet(ctx context.Context, sc *engine.StepContext, spec *runbook.FleetSpec) (fleet.Control, error) {
	st, err := fleetStore(sc)
	if err != nil {
		return nil, err
	}
	getenv := sc.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return openFleetTable(ctx, getenv, spec.Table, st.Region, st.Endpoint)
}

// workerArgs is the worker command line (after the program name) for a
// fleet, as every launcher runs it.
func workerArgs(sc *engine.StepContext, spec *runbook.FleetSpec, rec fleet.Record) ([]string, error) {
	st, err := fleetStore(sc)
	if err != nil {
		return nil, err
	}
	args := []string{"worker", "--fleet", rec.ID, "--env", rec.Env, "--table", spec.Table, "--region", st.Region}
	if st.Endpoint != "" {
		args = append(args, "--endpoint", st.Endpoint)
	}
	return args, nil
}

// launchFleet starts or prints the workers as the fleet's launcher says.
func launchFleet(f *factory) fleet.LaunchFunc {
	return func(ctx context.Context, sc *engine.StepContext, spec *runbook.FleetSpec, rec fleet.Record) (fleet.Workers, error) {
		args, err := workerArgs(sc, spec, rec)
		if err != nil {
			return fleet.Workers{}, err
		}
		switch spec.Launcher {
		case runbook.LauncherLocal:
			return launchLocal(ctx, sc, spec, rec, args)
		case runbook.LauncherBatch:
			return launchBatch(ctx, sc, spec, rec, args)
		case runbook.LauncherKubernetes:
			return launchKubernetes(sc, spec, rec, args)
		}
		return fleet.Workers{}, fmt.Errorf("unknown launcher %q", spec.Launcher)
	}
}

// shellLine is args quoted for a POSIX shell, after "lockstep".
func shellLine(args []string) string {
	q := make([]string, 0, len(args)+1)
	q = append(q, "lockstep")
	for _, a := range args {
		q = append(q, shellQuote(a))
	}
	return strings.Join(q, " ")
}
