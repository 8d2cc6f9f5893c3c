package steps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// SQLStepResult is the result of a sql step.
type SQLStepResult struct {
	Committed bool               `json:"committed"`
	Results   []engine.SQLResult `json:"results"`
}

// runSQL runs the statements in one transaction on the step's target (see
// sqlTarget). A dry-run runs the statements and rolls back.
func runSQL(ctx context.Context, sc *engine.StepContext) (any, error) {
	spec := sc.Step.SQL
	if spec == nil || len(spec.Statements) == 0 {
		return nil, fmt.Errorf("sql %s: %w: no statements", sc.Step.ID, engine.ErrConfig)
	}
	ex, done, err := sqlTarget(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("sql %s at %s: %w", sc.Step.ID, sc.Step.Pos, err)
	}
	defer done()
	commit := sc.Mode != engine.ModeDryRun
	var results []engine.SQLResult
	switch sx, ok := ex.(engine.SQLSpecExecer); {
	case ok:
		results, err = sx.ExecSQLSpec(ctx, spec, commit)
	case spec.NoTransaction || spec.LockTimeout > 0 || spec.StatementTimeout > 0:
		return nil, fmt.Errorf("sql %s at %s: transaction, lock_timeout and statement_timeout apply to PostgreSQL stores; this store (%T) runs every sql step in one transaction: remove them", sc.Step.ID, sc.Step.Pos, ex)
	default:
		results, err = ex.ExecSQL(ctx, spec.Statements, commit)
	}
	if err != nil {
		return nil, fmt.Errorf("sql %s at %s: %w", sc.Step.ID, sc.Step.Pos, err)
	}
	return SQLStepResult{Committed: commit, Results: results}, nil
}

// sqlTarget resolves where a sql step runs, and returns what to call when
// the step is over.
//
// Without `path:`, it is the environment's store, which must speak SQL.
// With `path:`, it is the SQLite database at that path: the environment's
// store when it is that very file (so its write lock and cached schema
// stay right), else the database opened for this step only, through the
// StoreOpener with a sqlite spec that names no table (a SQL-only
// database, whatever the environment's store), and closed after it.
func sqlTarget(ctx context.Context, sc *engine.StepContext) (engine.SQLExecer, func(), error) {
	path := sc.Step.SQL.Path
	if path == "" || isEnvSQLiteFile(sc, path) {
		st, err := sc.Store(ctx)
		if err != nil {
			return nil, nil, err
		}
		ex, ok := st.(engine.SQLExecer)
		if !ok {
			return nil, nil, fmt.Errorf("%w (%T): run it where the store is sqlite or postgres, or give it with: {path: FILE.db}", engine.ErrNotSQL, st)
		}
		return ex, func() {}, nil
	}
	st, err := sc.OpenStore(ctx, &runbook.StoreSpec{Pos: sc.Step.Pos, Kind: runbook.StoreSQLite, Path: path, Dir: sc.Runbook.Dir})
	if err != nil {
		return nil, nil, err
	}
	ex, ok := st.(engine.SQLExecer)
	if !ok {
		_ = st.Close()
		return nil, nil, fmt.Errorf("%s: %w (%T)", path, engine.ErrNotSQL, st)
	}
	return ex, func() { _ = st.Close() }, nil
}

// isEnvSQLiteFile reports whether path (before ${VAR} expansion) names the
// database file of the environment's sqlite store.
func isEnvSQLiteFile(sc *engine.StepContext, path string) bool {
	if sc.Env == nil || sc.Env.Store == nil || sc.Getenv == nil {
		return false
	}
	es := sc.Env.Store
	if es.Kind != runbook.StoreSQLite {
		return false
	}
	a, err := sc.Runbook.ExpandPath(path, sc.Getenv)
	if err != nil {
		return false
	}
	b, err := es.Expanded(sc.Getenv)
	if err != nil {
		return false
	}
	return sameFile(a, b.Path)
}

// sameFile reports whether two paths name the same file: the same
// absolute path, or the same existing file through links.
func sameFile(a, b string) bool {
	if aa, err := filepath.Abs(a); err == nil {
		if ab, err := filepath.Abs(b); err == nil && aa == ab {
			return true
		}
	}
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}
