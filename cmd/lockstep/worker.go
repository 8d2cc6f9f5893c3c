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
	"github.com/lockstep-run/lockstep/engine/migrate"
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
	Print    string // batch | kubernetes: print the launcher's definition instead of working
	Image    string
	Workers  int
}

func newCmdWorker(f *factory, runF func(context.Context, *workerOptions) error) *cobra.Command {
	opts := &workerOptions{f: f}
	cmd := &cobra.Command{
		Use:   "worker --fleet ID --env ENV | worker --print batch|kubernetes --image IMAGE",
		Short: "Run segments of a fleet migrate step (started by AWS Batch, Kubernetes or a session)",
		Long: `A worker reads the runbook from the fleet record in the control table,
checks its SHA-256, and claims the step's scan segments one at a time
with conditional writes that bump each segment's claim counter. It runs
the same migrate code as a local step on the segment and checkpoints
into the segment's row under its claim; it writes no journal (the
session collects the segments' results into its own).

AWS_BATCH_JOB_ARRAY_INDEX, JOB_COMPLETION_INDEX or LOCKSTEP_WORKER_INDEX
name the segment its first claim tries; any claimable segment will do.

--print batch writes the AWS Batch job definition of the workers (the
input of "aws batch register-job-definition --cli-input-json"; the fleet
id and environment are its parameters); --print kubernetes writes the
Indexed Job manifest of one fleet (--fleet, --env, --workers). A session
with launcher batch registers the definition and submits the array job
itself; with launcher kubernetes it writes the manifest for kubectl.

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
	cmd.Flags().StringVar(&opts.Print, "print", "", "print the job definition of a launcher (batch or kubernetes) and exit")
	cmd.Flags().StringVar(&opts.Image, "image", "", "with --print: the container image holding lockstep")
	cmd.Flags().IntVar(&opts.Workers, "workers", 4, "with --print kubernetes: the number of workers")
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
	if opts.Print != "" {
		return printWorkerDefinition(opts, getenv)
	}
	if opts.Fleet == "" || opts.Env == "" {
		return usageError(errors.New("worker needs --fleet ID and --env ENV (or --print batch|kubernetes)"))
	}
	ctl, err := openFleetTable(ctx, getenv, opts.Table, opts.Region, opts.Endpoint)
	if err != nil {
		return workerExit(err)
	}
	host, _ := os.Hostname()
	w := &fleet.Worker{Control: ctl, Fleet: opts.Fleet, Clock: engine.SystemClock{}, Hint: -1,
		ID: cmp.Or(opts.ID, fmt.Sprintf("%s/%d", host, os.Getpid())),
		Run: func(ctx context.Context, rec fleet.Record, r migrate.SegmentRun, leases *engine.Leases, c engine.Control) (engine.MigrateCounts, error) {
			if rec.Env != opts.Env {
				return engine.MigrateCounts{}, fmt.Errorf("fleet %s runs in %s, not %s: %w", rec.ID, rec.Env, opts.Env, fleet.ErrPermanent)
			}
			sc, err := workerStep(rec, getenv, leases, c)
			if err != nil {
				return engine.MigrateCounts{}, err
			}
			return migrate.Executor{}.RunSegment(ctx, sc, r)
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

// printWorkerDefinition writes a launcher's job definition to stdout.
func printWorkerDefinition(opts *workerOptions, getenv func(string) string) error {
	if opts.Image == "" {
		return usageError(errors.New("--print needs --image (the container image holding lockstep)"))
	}
	w := workerSetup{Image: opts.Image, Table: cmp.Or(opts.Table, getenv("LOCKSTEP_FLEET_TABLE"), runbook.DefaultFleetTable),
		Region: cmp.Or(opts.Region, getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")), Endpoint: opts.Endpoint, Attempts: localRestarts + 1}
	var out []byte
	var err error
	switch opts.Print {
	case runbook.LauncherBatch:
		out, err = cliJSON(batchJobDefinition(w))
	case runbook.LauncherKubernetes:
		if opts.Fleet == "" || opts.Env == "" || opts.Workers < 1 {
			return usageError(errors.New("--print kubernetes needs --fleet ID, --env ENV and --workers N ≥ 1"))
		}
		out, err = k8sManifest(w, opts.Workers, opts.Fleet, opts.Env)
	default:
		return usageError(fmt.Errorf("unknown --print %q: want batch or kubernetes", opts.Print))
	}
	if err != nil {
		return err
	}
	_, err = opts.f.Out.Write(out)
	return err
}
