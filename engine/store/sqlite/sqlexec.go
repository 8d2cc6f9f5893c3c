package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/mattn/go-sqlite3"

	"github.com/lockstep-run/lockstep/engine"
)

// MaxResultRows caps the rows ExecSQL returns per query.
const MaxResultRows = 100

// ExecSQL runs statements in one transaction and commits only when commit
// is true (a dry run rolls back). Queries (SELECT, WITH, PRAGMA, VALUES,
// EXPLAIN, and statements with RETURNING) return their columns and up to
// MaxResultRows rows as text.
func (s *Store) ExecSQL(ctx context.Context, statements []string, commit bool) ([]engine.SQLResult, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	results, err := execSQL(ctx, s.db, statements, commit)
	if err != nil {
		return results, err
	}
	// The statements may have altered the table: forget what we knew.
	s.mu.Lock()
	s.schema = nil
	s.mu.Unlock()
	return results, nil
}

// ErrTransactionControl refuses a statement that would end or nest the
// transaction a sql step runs in.
var ErrTransactionControl = errors.New("a sql step runs all its statements in one transaction that lockstep commits (a dry run rolls it back): remove BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT and RELEASE from them")

// execSQL is ExecSQL on db, for Store and Database alike; callers
// serialise their calls.
//
// A COMMIT among the statements would commit what came before it, even in
// a dry run, and leave the rest outside any transaction. SQLite's
// authorizer refuses transaction control when a statement is prepared,
// before it runs (a string holding several statements prepares each just
// before running it), so nothing is committed but by lockstep.
func execSQL(ctx context.Context, db *sql.DB, statements []string, commit bool) ([]engine.SQLResult, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("exec sql: %w", translate(err))
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("exec sql: %w", translate(err))
	}
	var denied atomic.Bool
	guard := func(on bool) {
		_ = conn.Raw(func(dc any) error {
			if c, ok := dc.(*sqlite3.SQLiteConn); ok {
				if !on {
					c.RegisterAuthorizer(nil)
					return nil
				}
				c.RegisterAuthorizer(func(action int, _, _, _ string) int {
					if action == sqlite3.SQLITE_TRANSACTION || action == sqlite3.SQLITE_SAVEPOINT {
						denied.Store(true)
						return sqlite3.SQLITE_DENY
					}
					return sqlite3.SQLITE_OK
				})
			}
			return nil
		})
	}
	guard(true)
	results, err := execStatements(ctx, tx, statements, &denied)
	guard(false) // before COMMIT or ROLLBACK, which the authorizer would refuse
	if err != nil || !commit {
		_ = tx.Rollback()
		return results, err
	}
	if err := tx.Commit(); err != nil {
		return results, fmt.Errorf("exec sql: commit: %w", translate(err))
	}
	return results, nil
}

func execStatements(ctx context.Context, tx *sql.Tx, statements []string, denied *atomic.Bool) ([]engine.SQLResult, error) {
	var err error
	results := make([]engine.SQLResult, 0, len(statements))
	for i, st := range statements {
		r := engine.SQLResult{Statement: st}
		if isQuery(st) {
			r.Columns, r.Rows, err = queryText(ctx, tx, st)
			r.RowsAffected = int64(len(r.Rows))
		} else {
			var res sql.Result
			res, err = tx.ExecContext(ctx, st)
			if err == nil {
				r.RowsAffected, _ = res.RowsAffected()
			}
		}
		if err != nil && denied.Load() {
			err = ErrTransactionControl
		}
		if err != nil {
			return results, fmt.Errorf("exec sql statement %d (%s): %w", i+1, firstLine(st), translate(err))
		}
		results = append(results, r)
	}
	return results, nil
}

// isQuery reports whether a statement returns rows.
func isQuery(st string) bool {
	f := strings.Fields(strings.ToUpper(stripComments(st)))
	if len(f) == 0 {
		return false
	}
	switch f[0] {
	case "SELECT", "WITH", "PRAGMA", "VALUES", "EXPLAIN":
		return true
	}
	for _, w := range f {
		if w == "RETURNING" {
			return true
		}
	}
	return false
}

// stripComments removes leading "-- …" lines and "/* … */" blocks.
func stripComments(st string) string {
	for {
		st = strings.TrimSpace(st)
		switch {
		case strings.HasPrefix(st, "--"):
			if i := strings.IndexByte(st, '\n'); i >= 0 {
				st = st[i+1:]
				continue
			}
			return ""
		case strings.HasPrefix(st, "/*"):
			if i := strings.Index(st, "*/"); i >= 0 {
				st = st[i+2:]
				continue
			}
			return ""
		}
		return st
	}
}

func queryText(ctx context.Context, q querier, st string) ([]string, [][]string, error) {
	rows, err := q.QueryContext(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out [][]string
	for rows.Next() {
		if len(out) == MaxResultRows {
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = textOf(v)
		}
		out = append(out, row)
	}
	return cols, out, rows.Err()
}

// textOf renders a column value: NULL, numbers, text, X'…' for blobs.
func textOf(v any) string {
	switch x := readValue(v).(type) {
	case nil:
		return "NULL"
	case engine.Number:
		return string(x)
	case string:
		return x
	case []byte:
		return "X'" + strings.ToUpper(hex.EncodeToString(x)) + "'"
	case bool:
		return strconv.FormatBool(x)
	default:
		return fmt.Sprint(x)
	}
}

func firstLine(st string) string {
	st = strings.TrimSpace(st)
	if i := strings.IndexByte(st, '\n'); i >= 0 {
		st = st[:i] + " …"
	}
	if len(st) > 80 {
		st = st[:77] + "…"
	}
	return st
}
