package steps

import (
	"bytes"
	"context"
	"encoding/json"
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
	if req.Adopt, err = askedBefore(ctx, sc, req); err != nil {
		return nil, fmt.Errorf("restore %s: %w", sc.Step.ID, err)
	}
	if err := recordAsked(ctx, sc, req); err != nil {
		return nil, fmt.Errorf("restore %s: journal the request before making it: %w", sc.Step.ID, err)
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

// nativeAsked is the checkpoint a native restore saves before it asks
// the store for the restore: which restore went out, so that an attempt
// after an interruption knows the target table it may find is its own.
type nativeAsked struct {
	Target      string    `json:"target"`
	BackupARN   string    `json:"backup_arn,omitempty"`
	PointInTime time.Time `json:"point_in_time,omitzero"`
	Latest      bool      `json:"latest,omitempty"`
}

func askedOf(req engine.NativeRestoreRequest) ([]byte, error) {
	return json.Marshal(nativeAsked{Target: req.Target, BackupARN: req.BackupARN, PointInTime: req.PointInTime, Latest: req.Latest})
}

// recordAsked journals req as asked for, durably, before it is made.
func recordAsked(ctx context.Context, sc *engine.StepContext, req engine.NativeRestoreRequest) error {
	if sc.Journal == nil {
		return nil
	}
	cur, err := askedOf(req)
	if err != nil {
		return err
	}
	return sc.Journal.SaveCheckpoint(ctx, sc.Session.ID, sc.Step.ID, 0, cur, json.RawMessage(cur))
}

// askedBefore says whether an earlier attempt of this step journaled the
// same request: only then may an existing target table be taken for the
// restore's own (the store also checks that it is a restore of the same
// source).
func askedBefore(ctx context.Context, sc *engine.StepContext, req engine.NativeRestoreRequest) (bool, error) {
	if sc.Journal == nil || (sc.Attempt <= 1 && !sc.Resumed) {
		return false, nil
	}
	cps, err := sc.Journal.Checkpoints(ctx, sc.Session.ID, sc.Step.ID)
	if err != nil {
		return false, fmt.Errorf("read the earlier attempt's request: %w", err)
	}
	want, err := askedOf(req)
	if err != nil {
		return false, err
	}
	got, ok := cps[0]
	return ok && bytes.Equal(got, want), nil
}
