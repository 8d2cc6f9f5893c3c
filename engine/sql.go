package engine

import (
	"context"
	"fmt"

	"github.com/lockstep-run/lockstep/runbook"
)

func init() { Register(runbook.KindSQL, ExecutorFunc(runSQL)) }

// SQLStepResult is the result of a sql step.
type SQLStepResult struct {
	Committed bool        `json:"committed"`
	Results   []SQLResult `json:"results"`
}

// runSQL runs the statements in one transaction on the environment's
// store, or on the SQLite database at `path:` when given. The store must
// implement SQLExecer. A dry-run runs the statements and rolls back.
func runSQL(ctx context.Context, sc *StepContext) (any, error) {
	spec := sc.Step.SQL
	if spec == nil || len(spec.Statements) == 0 {
		return nil, fmt.Errorf("sql %s: %w: no statements", sc.Step.ID, ErrConfig)
	}
	var st Store
	var err error
	if spec.Path != "" {
		target := &runbook.StoreSpec{Pos: sc.Step.Pos, Kind: "sqlite", Path: spec.Path}
		if es := sc.Env.Store; es != nil && es.Kind == "sqlite" {
			target.Table, target.Key = es.Table, es.Key
		}
		st, err = sc.OpenStore(ctx, target)
	} else {
		st, err = sc.Store(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("sql %s: %w", sc.Step.ID, err)
	}
	ex, ok := st.(SQLExecer)
	if !ok {
		return nil, fmt.Errorf("sql %s: %w (%T)", sc.Step.ID, ErrNotSQL, st)
	}
	commit := sc.Mode != ModeDryRun
	results, err := ex.ExecSQL(ctx, spec.Statements, commit)
	if err != nil {
		return nil, fmt.Errorf("sql %s: %w", sc.Step.ID, err)
	}
	return SQLStepResult{Committed: commit, Results: results}, nil
}
