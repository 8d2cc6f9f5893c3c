package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/runbook"
)

// Index variables a launcher sets: a worker's first claim tries that
// segment (a hint only; any claimable segment will do).
var indexVars = []string{"AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX", "LOCKSTEP_WORKER_INDEX"}

// workerOptions are the flags of `lockstep worker`.
type workerOptions struct {
	f        *factory
	Fleet    string
	Env      string
	Table    string
	Region   string
	Endpoint string
	ID       string
}

func newCmdWorker(f *factory, runF func(context.Context, *workerOptions) error) *cobra.Command {
	opts := &workerOptions{f: f}
	cmd := &cobra.Command{
		Use:   "worker --fleet ID --env ENV",
		Short: "Run segments of a fleet migrate step (started by AWS Batch, Kubernetes or a session)",
		Long: `A worker reads the runbook from the fleet record in the control table,
checks its SHA-256, and claims the step's scan segments one at a time
with conditional writes that bump each segment's claim counter. It runs
the same migrate code as a local step on the segment and checkpoints
into the segment's row under its claim; it writes no journal (the
session collects the segments' results into its own).

AWS_BATCH_JOB_ARRAY_INDEX, JOB_COMPLETION_INDEX or LOCKSTEP_WORKER_INDEX
name the segment its first claim tries; any claimable segment will do.

Exit codes: 0 no work left (or the fleet was cancelled); 65 a permanent
error (the runbook does not match its SHA-256, the error budget is
spent); 75 a lost claim or a transient failure: the launcher may run the
worker again. See docs/fleet.md.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runWorker(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Fleet, "fleet", "", "the fleet id (printed by the session)")
	cmd.Flags().StringVar(&opts.Env, "env", "", "the environment the fleet runs in")
	cmd.Flags().StringVar(&opts.Table, "table", "", "the control table (default $LOCKSTEP_FLEET_TABLE, "+runbook.DefaultFleetTable+")")
	cmd.Flags().StringVar(&opts.Region, "region", "", "the control table's AWS region (default $AWS_REGION)")
	cmd.Flags().StringVar(&opts.Endpoint, "endpoint", "", "a DynamoDB endpoint for the control table (default $LOCKSTEP_FLEET_ENDPOINT)")
	cmd.Flags().StringVar(&opts.ID, "id", "", "the worker's name in the control table (default HOST/PID)")
	_ = cmd.MarkFlagRequired("fleet")
	_ = cmd.MarkFlagRequired("env")
	return cmd
}

// workerExit is a worker's error with its exit code (0, 65 or 75).
func workerExit(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: fleet.ExitCode(err), err: err}
}

func runWorker(ctx context.Context, opts *workerOptions) error {
	getenv := opts.f.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	ctl, err := openFleetTable(ctx, getenv, opts.Table, opts.Region, opts.Endpoint)
	if err != nil {
		return workerExit(err)
	}
	host, _ := os.Hostname()
	w := &fleet.Worker{Control: ctl, Fleet: opts.Fleet, Clock: engine.SystemClock{}, Hint: -1,
		ID: cmp.Or(opts.ID, fmt.Sprintf("%s/%d", host, os.Getpid())),
		Run: func(ctx context.Context, rec fleet.Record, r engine.SegmentRun, leases *engine.Leases, c engine.Control) (engine.MigrateCounts, error) {
			if rec.Env != opts.Env {
				return engine.MigrateCounts{}, fmt.Errorf("fleet %s runs in %s, not %s: %w", rec.ID, rec.Env, opts.Env, fleet.ErrPermanent)
			}
			sc, err := workerStep(rec, getenv, leases, c)
			if err != nil {
				return engine.MigrateCounts{}, err
			}
			return engine.MigrateExecutor{}.RunSegment(ctx, sc, r)
		},
		Log: func(format string, args ...any) { fmt.Fprintf(opts.f.ErrOut, format+"\n", args...) },
	}
	for _, v := range indexVars {
		if n, err := strconv.Atoi(getenv(v)); err == nil && n >= 0 {
			w.Hint = n
			break
		}
	}
	return workerExit(w.Work(ctx))
}

// openFleetTable reaches the control table: flags first, then the
// environment variables the launchers set.
func openFleetTable(ctx context.Context, getenv func(string) string, table, region, endpoint string) (*dynamo.FleetTable, error) {
	spec := &runbook.StoreSpec{Kind: runbook.StoreDynamoDB,
		Region:   cmp.Or(region, getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")),
		Endpoint: cmp.Or(endpoint, getenv("LOCKSTEP_FLEET_ENDPOINT"))}
	client, err := dynamo.NewClient(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("open fleet control table: %w", err)
	}
	return dynamo.NewFleetTable(client, cmp.Or(table, getenv("LOCKSTEP_FLEET_TABLE"), runbook.DefaultFleetTable)), nil
}

// workerStep is the StepContext of the fleet's migrate step in a worker:
// the runbook and expression environment from the record, the
// environment's store, the claim's leases and the fleet's controls. The
// environment's max_write_rate is the fleet's: the worker's share comes
// through ctl.
func workerStep(rec fleet.Record, getenv func(string) string, leases *engine.Leases, ctl engine.Control) (*engine.StepContext, error) {
	rb, err := runbook.Parse(rec.Path, rec.Runbook)
	if err != nil {
		return nil, fmt.Errorf("fleet %s: %w", rec.ID, errors.Join(err, fleet.ErrPermanent))
	}
	step, env := rb.Step(rec.Step), rb.Env(rec.Env)
	if step == nil || step.Migrate == nil || env == nil {
		return nil, fmt.Errorf("fleet %s: no migrate step %q or environment %q in the runbook: %w", rec.ID, rec.Step, rec.Env, fleet.ErrPermanent)
	}
	local := *env
	local.MaxWriteRate = 0
	var exprEnv map[string]any
	if len(rec.ExprEnv) > 0 {
		if err := json.Unmarshal(rec.ExprEnv, &exprEnv); err != nil {
			return nil, fmt.Errorf("fleet %s: expression environment: %w", rec.ID, errors.Join(err, fleet.ErrPermanent))
		}
	}
	var secrets []string
	for _, name := range rb.Secrets {
		if v := getenv(name); v != "" {
			secrets = append(secrets, v)
		}
	}
	open := openStore(getenv)
	return &engine.StepContext{Step: step, Runbook: rb, Env: &local, Mode: engine.Mode(rec.Mode), Attempt: 1,
		Session: engine.SessionInfo{ID: rec.Session}, Clock: engine.SystemClock{}, Getenv: getenv,
		Store:     func(ctx context.Context) (engine.Store, error) { return open(ctx, env.Store) },
		OpenStore: open, Redact: engine.NewRedactor(secrets...).Redact,
		ExprEnv: func() map[string]any { return exprEnv }, Control: ctl, Leases: leases}, nil
}
