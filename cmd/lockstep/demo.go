package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/internal/demo"
	"github.com/lockstep-run/lockstep/tui/plain"
)

// demoMarker marks a directory `lockstep demo` created, which it may
// therefore delete and recreate.
const demoMarker = ".lockstep-demo"

// demoOptions are the inputs of `lockstep demo`.
type demoOptions struct {
	f *factory

	Dir      string
	Plain    bool
	Operator string
	Users    int
}

func newCmdDemo(f *factory, runF func(context.Context, *demoOptions) error) *cobra.Command {
	opts := &demoOptions{f: f, Users: demo.Users}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the built-in split-address migration on a fresh SQLite sample",
		Long: `Create a demo directory holding a SQLite database of 100,000 users and a
journal, then run the built-in "demo" protocol against it: estimate, backup
and restore drill, communicate, lock, expand, migrate (split address into
street_name, city and postcode), verify and clean up. Without a terminal, or
with --plain, it runs unattended with built-in answers.

Running it again recreates the directory.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDemo(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "lockstep-demo", "demo directory (recreated)")
	cmd.Flags().BoolVar(&opts.Plain, "plain", false, "line mode even on a terminal (no TUI)")
	cmd.Flags().StringVar(&opts.Operator, "operator", "", "who runs the demo (default $LOCKSTEP_OPERATOR, $USER)")
	cmd.Flags().IntVar(&opts.Users, "users", demo.Users, "number of users in the sample database")
	_ = cmd.Flags().MarkHidden("users")
	return cmd
}

// runDemo prepares the demo directory and runs the demo protocol.
func runDemo(ctx context.Context, opts *demoOptions) error {
	f := opts.f
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return fmt.Errorf("demo directory: %w", err)
	}
	if err := prepareDemoDir(dir); err != nil {
		return err
	}
	fmt.Fprintf(f.Out, "Demo directory: %s\n", dir)
	dbPath := filepath.Join(dir, "users.db")
	start := time.Now()
	if err := demo.CreateDB(ctx, dbPath, opts.Users); err != nil {
		return err
	}
	fmt.Fprintf(f.Out, "Created %s with %d users in %s\n", dbPath, opts.Users, time.Since(start).Round(time.Millisecond))
	answersPath := filepath.Join(dir, "answers.yaml")
	if err := os.WriteFile(answersPath, demo.Answers(), 0o644); err != nil {
		return fmt.Errorf("write demo answers: %w", err)
	}
	getenv, err := demoEnv(f, dir)
	if err != nil {
		return err
	}
	rb, err := protocolRunbook("demo")
	if rb, err = checkedRunbook(f, rb, err); err != nil {
		return err
	}
	answers, err := plain.ParseAnswers(answersPath, demo.Answers())
	if err != nil {
		return fmt.Errorf("built-in demo answers: %w", err)
	}
	operator, err := f.operator(opts.Operator)
	if err != nil {
		operator = "demo"
	}
	journalPath := filepath.Join(dir, "journal.db")
	j, err := journal.Open(journalPath)
	if err != nil {
		return err
	}
	defer j.Close()
	cfg := engine.Config{
		Runbook: rb, Env: "demo", Mode: engine.ModeLive, Operator: operator, Journal: j,
		Stores: openStore(getenv), Publisher: newPublisher(), Getenv: getenv, Stdout: f.Out, WorkDir: filepath.Join(dir, "work"),
		Steps: steps.Default(), LintRules: lintRules(),
	}
	err = runSession(ctx, f, sessionRequest{cfg: cfg, plain: opts.Plain, answers: answers,
		resumeArgs: journalArg(journalPath)})
	jq := shellQuote(journalPath)
	self := f.self()
	id := latestSessionID(j)
	fmt.Fprintf(f.Out, "\nReview it (the demo's journal is %s):\n  %s journal show %s --journal %s\n  %s journal verify --journal %s\n  %s journal --journal %s   # the journal browser\n  %s journal export %s --journal %s --format html -o demo-report.html   # a report for reviewers\n",
		jq, self, id, jq, self, jq, self, jq, self, id, jq)
	return err
}

// demoEnv points LOCKSTEP_DEMO_DB and LOCKSTEP_DEMO_DIR at the demo
// directory dir, in the process environment (shell steps inherit it) and
// in the returned getenv.
func demoEnv(f *factory, dir string) (func(string) string, error) {
	env := map[string]string{"LOCKSTEP_DEMO_DB": filepath.Join(dir, "users.db"), "LOCKSTEP_DEMO_DIR": dir}
	for k, v := range env {
		if err := os.Setenv(k, v); err != nil {
			return nil, fmt.Errorf("set %s: %w", k, err)
		}
	}
	return func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return f.Getenv(k)
	}, nil
}

// demoJournalDir returns the demo directory holding the journal at path,
// or "" when path is not a demo journal.
func demoJournalDir(path string) string {
	dir := filepath.Dir(path)
	if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
		return ""
	}
	return dir
}

// prepareDemoDir creates dir, or empties it when a previous demo made it.
// It refuses a non-empty directory that is not a demo directory.
func prepareDemoDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("demo directory: %w", err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
			return usageError(fmt.Errorf("%s exists and was not made by lockstep demo: choose another --dir", dir))
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("clean demo directory: %w", err)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create demo directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, demoMarker), []byte("made by lockstep demo; deleted when it runs again\n"), 0o644); err != nil {
		return fmt.Errorf("create demo directory: %w", err)
	}
	return nil
}
