package steps

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// NativeRestoreResult is the result of a restore step with native: true.
type NativeRestoreResult struct {
	Source      string   `json:"source"` // backup ARN, or "point-in-time"
	PointInTime string   `json:"point_in_time,omitempty"`
	Table       string   `json:"table"`        // the live table
	TargetTable string   `json:"target_table"` // the new table
	Status      string   `json:"status"`
	DryRun      bool     `json:"dry_run,omitempty"`
	SwitchOver  []string `json:"switch_over"`
	ElapsedMS   int64    `json:"elapsed_ms"`
}

// runNativeRestore restores the native backup of step from (or a point
// in time) into a new table, never over the live one, and prints the
// steps to switch over to it: which are the operator's (DNS, config,
// streams, alarms, IAM) and cannot be lockstep's.
func runNativeRestore(ctx context.Context, sc *engine.StepContext, spec *runbook.RestoreSpec) (any, error) {
	start := time.Now()
	st, err := sc.EnvStore(ctx)
	if err != nil {
		return nil, err
	}
	nr, ok := st.(engine.NativeRestorer)
	if !ok {
		return nil, fmt.Errorf("restore %s: the %s store has no native restore (native: true is for DynamoDB)", sc.Step.ID, sc.Env.Store.Kind)
	}
	info, err := st.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("restore %s: describe table: %w", sc.Step.ID, err)
	}
	req := engine.NativeRestoreRequest{Target: spec.TargetTable}
	if req.Target == "" {
		req.Target = safeName(info.Table + "-restored-" + sessionSuffix(sc.Session.ID))
	}
	res := NativeRestoreResult{Table: info.Table, TargetTable: req.Target, DryRun: sc.Mode == engine.ModeDryRun}
	if spec.From != "" {
		br, err := backupResult(sc, spec.From)
		if err != nil && br.Native == nil {
			return nil, fmt.Errorf("restore %s: %w", sc.Step.ID, err)
		}
		if br.Native == nil || br.Native.ARN == "" {
			return nil, fmt.Errorf("restore %s: backup step %q took no native backup (%s)", sc.Step.ID, spec.From, br.NativeError)
		}
		req.BackupARN, res.Source = br.Native.ARN, br.Native.ARN
	} else {
		res.Source, res.PointInTime = "point-in-time", spec.PointInTime
		req.PointInTime, req.Latest = pointInTime(spec.PointInTime)
	}
	res.SwitchOver = switchOver(info.Table, req.Target)
	if res.DryRun {
		res.Status = "not started (dry run)"
		return res, sc.EmitOutput(fmt.Sprintf("dry run: would restore %s into new table %s", res.Source, req.Target))
	}
	if err := sc.EmitOutput(fmt.Sprintf("restoring %s into new table %s (the live table %s is not touched)", res.Source, req.Target, info.Table)); err != nil {
		return nil, err
	}
	out, err := nr.RestoreToNewTable(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("restore %s: native restore into %s: %w", sc.Step.ID, req.Target, err)
	}
	res.Status = out.Status
	for _, line := range res.SwitchOver {
		if err := sc.EmitOutput(line); err != nil {
			return nil, err
		}
	}
	res.ElapsedMS = time.Since(start).Milliseconds()
	return res, nil
}

// pointInTime reads a point_in_time: "latest", or an RFC 3339 time.
func pointInTime(s string) (time.Time, bool) {
	if s == "latest" {
		return time.Time{}, true
	}
	t, _ := time.Parse(time.RFC3339, s) // validated by runbook
	return t, false
}

// switchOver lists what the operator does to move the application to
// the restored table.
func switchOver(live, restored string) []string {
	steps := []string{
		"switch over to " + restored + ":",
		"1. compare " + restored + " with " + live + " (item count, a sample of items) and check the writes made since the backup you would lose",
		"2. re-create what a restore does not copy: auto scaling, TTL, streams and their triggers, alarms, tags, IAM policies naming the table, PITR",
		"3. stop the application's writes to " + live + " (maintenance mode)",
		"4. point the application's configuration at " + restored + " and deploy",
		"5. keep " + live + " until the application is verified on " + restored + "; delete it only then",
	}
	return []string{strings.Join(steps, "\n")}
}
