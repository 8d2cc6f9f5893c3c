package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

// planOptions are the inputs of `lockstep plan`.
type planOptions struct {
	f *factory

	Target string
	Env    string
	Mode   string
	Format string
}

func newCmdPlan(f *factory, runF func(context.Context, *planOptions) error) *cobra.Command {
	opts := &planOptions{f: f}
	cmd := &cobra.Command{
		Use:   "plan RUNBOOK|PROTOCOL --env ENV",
		Short: "Show what a run would do, in order, and what the mode changes per step",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Target = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runPlan(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Env, "env", "e", "", "environment (required)")
	cmd.Flags().StringVarP(&opts.Mode, "mode", "m", string(engine.ModeLive), "live, rehearsal or dry-run")
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output format: text or json")
	_ = cmd.MarkFlagRequired("env")
	return cmd
}

// runPlan prints the plan of a run. It touches no journal and no store.
func runPlan(opts *planOptions) error {
	mode, err := parseMode(opts.Mode)
	if err != nil {
		return err
	}
	if opts.Format != "text" && opts.Format != "json" {
		return usageError(fmt.Errorf("--format %q: use text or json", opts.Format))
	}
	rb, err := loadRunbook(opts.f, opts.Target)
	if err != nil {
		return err
	}
	env := rb.Env(opts.Env)
	if env == nil {
		return usageError(fmt.Errorf("runbook %s has no environment %q (it has %s)", rb.Path, opts.Env, envNames(rb)))
	}
	d := buildPlan(rb, env, mode)
	if opts.Format == "json" {
		return writeJSON(opts.f.Out, d)
	}
	writePlan(opts.f.Out, d)
	return nil
}

// planDoc is the plan of a run, as `plan --format json` prints it.
type planDoc struct {
	Runbook      string      `json:"runbook"`
	Title        string      `json:"title"`
	Version      int         `json:"version"`
	Strategy     string      `json:"strategy,omitempty"`
	Env          string      `json:"env"`
	Mode         engine.Mode `json:"mode"`
	Store        string      `json:"store,omitempty"`
	Protected    bool        `json:"protected"`
	Window       *planWindow `json:"window,omitempty"`
	MaxWriteRate int         `json:"max_write_rate,omitempty"`
	Phases       []planPhase `json:"phases"`
	Steps        int         `json:"steps"`
}

// planWindow is the environment's window and whether the run enforces it.
type planWindow struct {
	When     string `json:"when"`
	Enforced bool   `json:"enforced"`
}

// planPhase is one phase of the plan.
type planPhase struct {
	Name     string     `json:"name"`
	Requires []string   `json:"requires,omitempty"`
	Steps    []planStep `json:"steps"`
}

// planStep is one step of the plan: what it does in the mode.
type planStep struct {
	N      int        `json:"n"`
	ID     string     `json:"id"`
	Kind   string     `json:"kind"`
	Effect string     `json:"effect"`
	Notes  []string   `json:"notes,omitempty"`
	Fleet  *planFleet `json:"fleet,omitempty"`
}

// planFleet is a migrate step run by a fleet of workers (runbook.FleetOf).
type planFleet struct {
	Segments int    `json:"segments"`
	Workers  int    `json:"workers"`
	Launcher string `json:"launcher"`
	Lease    string `json:"lease"`
	Table    string `json:"control_table"`
	Image    string `json:"image,omitempty"`
	Queue    string `json:"queue,omitempty"`
	// Local: the mode runs the step in the session instead (dry-run).
	Local bool `json:"local,omitempty"`
}

// fleetOf is the plan of st's fleet in env and mode, nil without one.
func fleetOf(st *runbook.Step, env *runbook.Environment, mode engine.Mode) *planFleet {
	fs := runbook.FleetOf(st, env)
	if fs == nil {
		return nil
	}
	return &planFleet{Segments: fs.Segments, Workers: fs.Workers, Launcher: fs.Launcher, Lease: fs.Lease.String(),
		Table: fs.Table, Image: fs.Image, Queue: fs.Queue, Local: mode == engine.ModeDryRun}
}

// describe renders the fleet on one line.
func (f *planFleet) describe() string {
	s := fmt.Sprintf("fleet: %d segments, %d %s workers, lease %s, control table %s", f.Segments, f.Workers, f.Launcher, f.Lease, f.Table)
	if f.Image != "" {
		s += ", image " + f.Image
	}
	if f.Queue != "" {
		s += ", queue " + f.Queue
	}
	if f.Local {
		s += " (not in a dry-run: the session reads locally)"
	}
	return s
}

// buildPlan computes the plan of rb in env and mode.
func buildPlan(rb *runbook.Runbook, env *runbook.Environment, mode engine.Mode) planDoc {
	d := planDoc{Runbook: rb.Name, Title: rb.Title, Version: rb.Version, Strategy: rb.Strategy,
		Env: env.Name, Mode: mode, Protected: env.Protected, MaxWriteRate: env.MaxWriteRate}
	if env.Store != nil {
		d.Store = describeStore(env.Store)
	}
	if win := env.Window; win != nil {
		// Only a protected environment refuses to start outside it (not
		// in a dry-run); elsewhere wait steps and estimates use it.
		d.Window = &planWindow{When: strings.TrimSpace(strings.Join(win.Days, ",") + " " + win.From + "–" + win.To + " " + win.TZ),
			Enforced: env.Protected && mode != engine.ModeDryRun}
	}
	for _, ph := range rb.Phases {
		pp := planPhase{Name: ph.Name, Requires: ph.Requires, Steps: []planStep{}}
		for _, st := range ph.Steps {
			d.Steps++
			pp.Steps = append(pp.Steps, planStep{N: d.Steps, ID: st.ID, Kind: string(st.Kind), Effect: stepEffect(st, mode),
				Notes: append(stepNotes(st), migratePath(st, env, mode)...), Fleet: fleetOf(st, env, mode)})
		}
		d.Phases = append(d.Phases, pp)
	}
	return d
}

// writePlan renders the plan as text.
func writePlan(w io.Writer, d planDoc) {
	fmt.Fprintf(w, "%s — %s (version %d, %s)\n", d.Runbook, d.Title, d.Version, orNone(d.Strategy))
	fmt.Fprintf(w, "environment %s, mode %s\n", d.Env, d.Mode)
	if d.Store != "" {
		fmt.Fprintf(w, "  store: %s\n", d.Store)
	}
	if d.Protected {
		fmt.Fprintf(w, "  protected: asks to type %q before anything runs; --yes is refused\n", d.Env)
	}
	if d.Window != nil {
		use := "used by wait steps and estimates"
		if d.Window.Enforced {
			use = "enforced: the session refuses to start outside it"
		}
		fmt.Fprintf(w, "  window: %s (%s)\n", d.Window.When, use)
	}
	if d.MaxWriteRate > 0 {
		fmt.Fprintf(w, "  max write rate: %d items/s\n", d.MaxWriteRate)
	}
	for _, ph := range d.Phases {
		req := ""
		if len(ph.Requires) > 0 {
			req = " (requires " + strings.Join(ph.Requires, ", ") + ")"
		}
		fmt.Fprintf(w, "\n== %s%s ==\n", ph.Name, req)
		for _, st := range ph.Steps {
			fmt.Fprintf(w, "%2d. %s (%s): %s\n", st.N, st.ID, st.Kind, st.Effect)
			if st.Fleet != nil {
				fmt.Fprintf(w, "      %s\n", st.Fleet.describe())
			}
			for _, note := range st.Notes {
				fmt.Fprintf(w, "      %s\n", note)
			}
		}
	}
	fmt.Fprintf(w, "\n%d steps. Every step, output and decision is journaled.\n", d.Steps)
}

// stepEffect says what a step does in mode.
func stepEffect(st *runbook.Step, mode engine.Mode) string {
	dry := mode == engine.ModeDryRun
	skippedDry := "skipped in dry-run"
	switch st.Kind {
	case runbook.KindManual:
		if len(st.Checklist) > 0 {
			return fmt.Sprintf("shows the text and asks to tick %d checklist item(s)", len(st.Checklist))
		}
		return "shows the text and asks to acknowledge"
	case runbook.KindShell:
		cmd := ""
		if sh := st.Shell; sh != nil {
			cmd = sh.Run
			if cmd == "" {
				cmd = strings.Join(sh.Argv, " ")
			}
		}
		if dry && (st.Shell == nil || st.Shell.DryRun != "run") {
			return fmt.Sprintf("would run `%s` (not run in dry-run)", clipText(cmd, 60))
		}
		return fmt.Sprintf("runs `%s`", clipText(cmd, 60))
	case runbook.KindSQL:
		n := 0
		if st.SQL != nil {
			n = len(st.SQL.Statements)
		}
		if dry {
			return fmt.Sprintf("runs %d statement(s) in one transaction, then rolls back", n)
		}
		return fmt.Sprintf("runs %d statement(s) in one transaction and commits", n)
	case runbook.KindDecision:
		return fmt.Sprintf("asks to choose one of [%s] with a rationale", strings.Join(st.Decision.Choices, ", "))
	case runbook.KindApproval:
		return fmt.Sprintf("asks a holder of the %s role to approve with a reason", st.Approval.Role)
	case runbook.KindNotify:
		if dry {
			return fmt.Sprintf("renders the %s message, does not send it", st.Notify.Channel)
		}
		return fmt.Sprintf("sends a message via %s", st.Notify.Channel)
	case runbook.KindEstimate:
		return "counts and sizes the migration set, samples throughput, estimates the duration (read-only)"
	case runbook.KindBackup:
		if dry {
			return skippedDry
		}
		return "takes a backup (native when the store has one, else a JSONL export with manifest)"
	case runbook.KindRestoreDrill:
		if dry {
			return skippedDry
		}
		return fmt.Sprintf("restores backup %q into a scratch table, compares count and checksum, drops it", st.RestoreDrill.From)
	case runbook.KindRestore:
		return restoreSummary(st.Restore, dry)
	case runbook.KindMigrate:
		if in := st.Migrate.Into; in != nil {
			if dry {
				return fmt.Sprintf("reads, shows sample copies (source key → new key) into %s and counts, writes nothing", in.Table)
			}
			return fmt.Sprintf("copies each item into %s under key (%s): guarded writes where the new table holds no newer item, collisions reported; reads its own table only", in.Table, strings.Join(in.KeyAttrs(), ", "))
		}
		if dry {
			return "reads and transforms, shows sample diffs and counts, writes nothing"
		}
		return "migrates: " + migrateSummary(st.Migrate)
	case runbook.KindVerify:
		if st.Verify != nil && st.Verify.Copy != "" {
			return fmt.Sprintf("checks the copy of %s: both tables' counts, each item under its new key (read-only)", st.Verify.Copy)
		}
		return "counts items still to migrate, asserts on a sample (read-only)"
	case runbook.KindLock:
		if dry {
			return skippedDry
		}
		return "takes the migration lease on this dataset and environment"
	case runbook.KindUnlock:
		if dry {
			return skippedDry
		}
		return "releases the migration lease"
	case runbook.KindWait:
		if dry {
			return skippedDry
		}
		if st.Wait != nil && st.Wait.Duration > 0 {
			return "waits " + st.Wait.Duration.String()
		}
		return "waits for the environment's window"
	}
	return "runs"
}

// migrateSummary lists what a migrate step writes.
func migrateSummary(m *runbook.MigrateSpec) string {
	if m == nil {
		return "guarded conditional writes"
	}
	var parts []string
	if len(m.Set) > 0 {
		attrs := make([]string, len(m.Set))
		for i, s := range m.Set {
			attrs[i] = s.Attr
		}
		parts = append(parts, "set "+strings.Join(attrs, ", "))
	}
	if len(m.Remove) > 0 {
		parts = append(parts, "remove "+strings.Join(m.Remove, ", "))
	}
	if len(m.Rename) > 0 {
		parts = append(parts, fmt.Sprintf("rename %d attribute(s)", len(m.Rename)))
	}
	if len(m.Transform) > 0 {
		parts = append(parts, "external transform "+m.Transform[0])
	}
	if m.Where != nil {
		parts = append(parts, "where "+m.Where.Source)
	}
	return strings.Join(parts, "; ") + " (guarded conditional writes, rate-limited, checkpointed)"
}

// migratePath says, for a migrate step on a SQL store, whether it runs
// pushed down into SQL or per row, and why (migrate.PushdownPath decides
// for the step as well).
func migratePath(st *runbook.Step, env *runbook.Environment, mode engine.Mode) []string {
	if st.Kind != runbook.KindMigrate || env == nil || env.Store == nil {
		return nil
	}
	var d sqlexpr.Dialect
	switch env.Store.Kind {
	case "sqlite":
		d = sqlexpr.SQLite
	case "postgres":
		d = sqlexpr.Postgres
	default:
		return nil
	}
	if mode == engine.ModeDryRun {
		return []string{"path: per row in dry-run (sample diffs)"}
	}
	vattr := env.Store.VersionAttribute
	if vattr == "" {
		vattr = "v"
	}
	if _, err := migrate.PushdownPath(st.Migrate, d, env.Store.Key, vattr, false); err != nil {
		return []string{"path: per row — " + strings.Replace(err.Error(), sqlexpr.ErrUntranslatable.Error()+": ", "", 1)}
	}
	return []string{"path: pushdown — one guarded UPDATE per key-range page"}
}

// stepNotes lists the step-level options that change how it runs.
func stepNotes(st *runbook.Step) []string {
	var out []string
	if st.Destructive {
		out = append(out, "destructive: asks for confirmation ({confirm: true})")
	}
	if st.When != nil {
		out = append(out, "only when "+st.When.Source)
	}
	if len(st.Requires) > 0 {
		out = append(out, "requires "+strings.Join(st.Requires, ", "))
	}
	if st.Timeout > 0 {
		out = append(out, "timeout "+st.Timeout.String())
	}
	if st.Kind == runbook.KindShell {
		if st.Idempotent {
			out = append(out, "idempotent: re-runs after a crash without asking")
		} else {
			out = append(out, "not idempotent: after a crash asks retry / done / skip")
		}
	}
	if st.Rollback != nil {
		out = append(out, fmt.Sprintf("rollback: %s (%s)", st.Rollback.ID, st.Rollback.Kind))
	}
	return out
}

// describeStore renders a store spec on one line.
func describeStore(s *runbook.StoreSpec) string {
	switch s.Kind {
	case "sqlite":
		return fmt.Sprintf("sqlite %s table %s", s.Path, s.Table)
	case "dynamodb":
		d := "dynamodb table " + s.Table
		if s.Region != "" {
			d += " in " + s.Region
		}
		if s.Endpoint != "" {
			d += " at " + s.Endpoint
		}
		return d
	}
	return s.Kind + " " + s.Table
}

func orNone(s string) string {
	if s == "" {
		return "no strategy"
	}
	return s
}

// clipText shortens s to n runes on one line.
func clipText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// restoreSummary describes a restore step for plan.
func restoreSummary(sp *runbook.RestoreSpec, dry bool) string {
	switch {
	case sp.Native && dry:
		return "shows which native backup or point in time it would restore into a new table"
	case sp.Native && sp.From != "":
		return fmt.Sprintf("restores the native backup of %q into a new table, prints the switch-over steps", sp.From)
	case sp.Native:
		return fmt.Sprintf("restores the table as of %s into a new table, prints the switch-over steps", sp.PointInTime)
	case dry:
		return fmt.Sprintf("compares backup %q with the live table: counts, conflicts and sample diffs, writes nothing", sp.From)
	}
	return fmt.Sprintf("restores backup %q over items still as the migration left them; asks about the others", sp.From)
}
