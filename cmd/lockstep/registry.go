package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
)

// registryOptions are the inputs of `lockstep registry`.
type registryOptions struct {
	f           *factory
	Env         string
	Runbook     string // a runbook file: its environment's store, its records only
	Format      string
	JournalPath string
}

func newCmdRegistry(f *factory, runF func(context.Context, *registryOptions) error) *cobra.Command {
	opts := &registryOptions{f: f}
	cmd := &cobra.Command{
		Use:   "registry --env ENV [RUNBOOK]",
		Short: "Show what ran in an environment, from the registry in its store",
		Long: `Show the registry that the store of environment ENV keeps (see
docs/registry.md): one record per live or rehearsal session that ran there,
from any machine, newest first: runbook name, version, SHA-256, mode,
outcome, session, operator, host, start and end, items migrated and the
session's final journal head.

With a RUNBOOK file, its environment ENV names the store, and only that
runbook's records are shown. Without, the stores are found in the runbooks
the journal's sessions in ENV ran, and every runbook's records are shown.

JSON (--format json): [{"name","version","checksum","env","mode","outcome",
"session","operator","host","started","ended","migrated","head"}...];
"ended" is null while a session runs.

The stores are only read. Exit 2 when a store or the runbook cannot be read.`,
		Example: `  lockstep registry --env prod users.yaml
  lockstep registry --env staging --format json`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Runbook = args[0]
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRegistry(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Env, "env", "", "the environment whose registry to show (required)")
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&opts.JournalPath, "journal", "", "without RUNBOOK: the journal whose sessions name the stores (default $LOCKSTEP_JOURNAL, $XDG_STATE_HOME/lockstep/journal.db)")
	_ = cmd.MarkFlagRequired("env")
	return cmd
}

// registryJSON is one record of `registry --format json`: exactly the
// documented fields.
type registryJSON struct {
	Name     string     `json:"name"`
	Version  int        `json:"version"`
	Checksum string     `json:"checksum"`
	Env      string     `json:"env"`
	Mode     string     `json:"mode"`
	Outcome  string     `json:"outcome"`
	Session  string     `json:"session"`
	Operator string     `json:"operator"`
	Host     string     `json:"host"`
	Started  time.Time  `json:"started"`
	Ended    *time.Time `json:"ended"`
	Migrated int64      `json:"migrated"`
	Head     string     `json:"head"`
}

func runRegistry(ctx context.Context, opts *registryOptions) error {
	if err := checkFormat(opts.Format, "text", "json"); err != nil {
		return err
	}
	recs, err := readRegistries(ctx, opts)
	if err != nil {
		var e *exitError
		if errors.As(err, &e) {
			return err
		}
		return &exitError{code: exitBadInput, err: fmt.Errorf("registry: %w", err)}
	}
	if opts.Format == "json" {
		out := make([]registryJSON, 0, len(recs))
		for _, r := range recs {
			v := registryJSON{Name: r.Runbook, Version: r.Version, Checksum: r.SHA256, Env: r.Env, Mode: string(r.Mode),
				Outcome: string(r.Outcome), Session: r.SessionID, Operator: r.Operator, Host: r.Host, Started: r.Started.UTC(),
				Migrated: r.Migrated, Head: r.Head}
			if !r.Ended.IsZero() {
				e := r.Ended.UTC()
				v.Ended = &e
			}
			out = append(out, v)
		}
		return writeJSON(opts.f.Out, out)
	}
	if len(recs) == 0 {
		fmt.Fprintf(opts.f.ErrOut, "the %s registry holds no session\n", opts.Env)
		return nil
	}
	tw := tabwriter.NewWriter(opts.f.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tRUNBOOK\tVERSION\tMODE\tOUTCOME\tMIGRATED\tSESSION\tOPERATOR\tCHECKSUM\tHEAD")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s@%s\t%.12s\t%.12s\n", r.Started.UTC().Format("2006-01-02 15:04:05"),
			r.Runbook, r.Version, r.Mode, r.Outcome, r.Migrated, r.SessionID, r.Operator, r.Host, r.SHA256, r.Head)
	}
	return tw.Flush()
}

// readRegistries reads opts.Env's registry in the stores the runbook (or
// the journal) names, newest first, each session once.
func readRegistries(ctx context.Context, opts *registryOptions) ([]engine.RegistryRecord, error) {
	var j *journal.Journal
	if opts.Runbook == "" {
		var err error
		if j, err = opts.f.openJournalRO(opts.JournalPath); err != nil {
			return nil, err
		}
		defer j.Close()
	}
	targets, err := registryTargets(ctx, opts.f, j, opts.Env, opts.Runbook)
	if err != nil {
		return nil, err
	}
	var (
		out  []engine.RegistryRecord
		seen = map[string]bool{}
	)
	vo := &journalVerifyOptions{f: opts.f, Env: opts.Env}
	for _, t := range targets {
		recs, err := readTarget(ctx, vo, t)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if seen[r.SessionID] || (opts.Runbook != "" && r.Runbook != t.runbook) {
				continue
			}
			seen[r.SessionID] = true
			out = append(out, r)
		}
	}
	engine.SortRegistry(out)
	return out, nil
}
