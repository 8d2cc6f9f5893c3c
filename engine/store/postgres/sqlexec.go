package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// DefaultLockTimeout bounds how long a sql step's statement waits for a
// lock when the step does not say: an ALTER TABLE queued behind a long
// transaction would otherwise block every query of the table behind it.
const DefaultLockTimeout = 5 * time.Second

// MaxResultRows is how many rows of a query's result a sql step keeps.
const MaxResultRows = 100

// ErrTransactionControl is returned for a statement that controls the
// transaction lockstep runs the step in.
var ErrTransactionControl = errors.New("a sql step runs all its statements in one transaction that lockstep commits (a dry run rolls it back): remove BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT and RELEASE from them")

// ExecSQL implements engine.SQLExecer with the defaults of a sql step: one
// transaction, lock_timeout 5s, the server's statement_timeout.
func (s *Store) ExecSQL(ctx context.Context, statements []string, commit bool) ([]engine.SQLResult, error) {
	return s.ExecSQLSpec(ctx, &runbook.SQLSpec{Statements: statements}, commit)
}

var _ engine.SQLSpecExecer = (*Store)(nil)

// ExecSQLSpec runs a sql step's statements with its settings: in one
// transaction with SET LOCAL lock_timeout (spec.LockTimeout, default 5s)
// and statement_timeout (spec.StatementTimeout, when set), committed only
// when commit is true (a dry run runs them, then rolls back). A step
// with `transaction: false` runs its single statement on its own (CREATE
// INDEX CONCURRENTLY cannot run in a transaction); a dry run skips it and
// says so in its result, since it could not be rolled back.
func (s *Store) ExecSQLSpec(ctx context.Context, spec *runbook.SQLSpec, commit bool) ([]engine.SQLResult, error) {
	defer s.forget() // the statements may change the table
	lock := spec.LockTimeout
	if lock <= 0 {
		lock = DefaultLockTimeout
	}
	for i, st := range spec.Statements {
		if controlsTransaction(st) {
			return nil, fmt.Errorf("exec sql statement %d (%s): %w", i+1, firstLine(st), ErrTransactionControl)
		}
	}
	if spec.NoTransaction {
		return s.execAlone(ctx, spec, lock, commit)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("exec sql: %w", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, timeouts("SET LOCAL", lock, spec.StatementTimeout)); err != nil {
		return nil, fmt.Errorf("exec sql: set timeouts: %w", err)
	}
	results := make([]engine.SQLResult, 0, len(spec.Statements))
	for i, st := range spec.Statements {
		r, err := runStatement(ctx, tx, st)
		if err != nil {
			return results, fmt.Errorf("exec sql statement %d (%s): %w", i+1, firstLine(st), explain(err, lock, spec.StatementTimeout))
		}
		results = append(results, r)
	}
	if !commit {
		return results, nil // rolled back by the deferred Rollback
	}
	if err := tx.Commit(ctx); err != nil {
		return results, fmt.Errorf("exec sql: commit: %w", err)
	}
	return results, nil
}

// execAlone runs the single statement of a `transaction: false` step on
// one connection with session-level timeouts, reset afterwards.
func (s *Store) execAlone(ctx context.Context, spec *runbook.SQLSpec, lock time.Duration, commit bool) ([]engine.SQLResult, error) {
	if len(spec.Statements) != 1 {
		return nil, fmt.Errorf("exec sql: a step with `transaction: false` runs exactly one statement, not %d", len(spec.Statements))
	}
	st := spec.Statements[0]
	if !commit {
		return []engine.SQLResult{{Statement: st, Columns: []string{"note"},
			Rows: [][]string{{"not run: a statement outside a transaction cannot be rolled back, so a dry run skips it"}}}}, nil
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("exec sql: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, timeouts("SET", lock, spec.StatementTimeout)); err != nil {
		return nil, fmt.Errorf("exec sql: set timeouts: %w", err)
	}
	defer conn.Exec(context.Background(), "RESET lock_timeout; RESET statement_timeout")
	r, err := runStatement(ctx, conn, st)
	if err != nil {
		return nil, fmt.Errorf("exec sql (%s): %w", firstLine(st), explain(err, lock, spec.StatementTimeout))
	}
	return []engine.SQLResult{r}, nil
}

func timeouts(set string, lock, stmt time.Duration) string {
	q := fmt.Sprintf("%s lock_timeout = %d", set, lock.Milliseconds())
	if stmt > 0 {
		q += fmt.Sprintf("; %s statement_timeout = %d", set, stmt.Milliseconds())
	}
	return q
}

// runStatement runs one statement (simple protocol: DDL, several
// statements in one string, no parameters) and keeps up to MaxResultRows
// rows of what it returns, as text.
func runStatement(ctx context.Context, q querier, st string) (engine.SQLResult, error) {
	r := engine.SQLResult{Statement: st}
	rows, err := q.Query(ctx, st, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	for _, f := range rows.FieldDescriptions() {
		r.Columns = append(r.Columns, f.Name)
	}
	n := int64(0)
	for rows.Next() {
		n++
		if len(r.Rows) >= MaxResultRows {
			continue
		}
		vals, err := rows.Values()
		if err != nil {
			return r, err
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = fmt.Sprint(v)
			}
		}
		r.Rows = append(r.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	r.RowsAffected = rows.CommandTag().RowsAffected()
	if len(r.Columns) > 0 {
		r.RowsAffected = n
	}
	return r, nil
}

// explain adds what to do to the errors a sql step commonly meets.
func explain(err error, lock, stmt time.Duration) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "55P03":
		return fmt.Errorf("lock_timeout (%s) expired waiting for a lock: another transaction holds the table; nothing was changed — retry off-peak or raise `lock_timeout:`: %w", lock, err)
	case "57014":
		if stmt > 0 {
			return fmt.Errorf("statement_timeout (%s) expired: %w", stmt, err)
		}
	case "25001":
		return fmt.Errorf("this statement cannot run in a transaction: put it alone in a step with `transaction: false`: %w", err)
	}
	return err
}

func controlsTransaction(st string) bool {
	f := strings.Fields(strings.ToUpper(stripComments(st)))
	if len(f) == 0 {
		return false
	}
	switch strings.TrimSuffix(f[0], ";") {
	case "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "ABORT":
		return true
	case "START":
		return len(f) > 1 && strings.HasPrefix(f[1], "TRANSACTION")
	}
	return false
}

func stripComments(st string) string {
	for {
		st = strings.TrimSpace(st)
		switch {
		case strings.HasPrefix(st, "--"):
			i := strings.IndexByte(st, '\n')
			if i < 0 {
				return ""
			}
			st = st[i+1:]
		case strings.HasPrefix(st, "/*"):
			i := strings.Index(st, "*/")
			if i < 0 {
				return ""
			}
			st = st[i+2:]
		default:
			return st
		}
	}
}

func firstLine(st string) string {
	st = stripComments(st)
	if i := strings.IndexByte(st, '\n'); i >= 0 {
		st = st[:i] + " …"
	}
	if len(st) > 80 {
		st = st[:77] + "…"
	}
	return st
}
