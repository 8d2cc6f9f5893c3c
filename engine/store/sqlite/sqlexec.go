package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

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

// execSQL is ExecSQL on db, for Store and Database alike; callers
// serialise their calls.
func execSQL(ctx context.Context, db *sql.DB, statements []string, commit bool) ([]engine.SQLResult, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("exec sql: %w", translate(err))
	}
	defer tx.Rollback()
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
		if err != nil {
			return results, fmt.Errorf("exec sql statement %d (%s): %w", i+1, firstLine(st), translate(err))
		}
		results = append(results, r)
	}
	if commit {
		if err := tx.Commit(); err != nil {
			return results, fmt.Errorf("exec sql: commit: %w", translate(err))
		}
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
