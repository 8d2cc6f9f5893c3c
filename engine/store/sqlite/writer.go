package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/lockstep-run/lockstep/engine"
)

// writer is the store's one write connection: writes run on it with
// statements prepared once and reused, and batches in explicit
// BEGIN IMMEDIATE … COMMIT transactions, without database/sql's per-call
// pool and transaction bookkeeping. Use it only under Store.writeMu.
type writer struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
	// raw holds statements prepared on the driver connection itself, for
	// execRows; they are used (and closed) only inside conn.Raw.
	raw map[string]driver.Stmt
}

// maxStmts bounds the prepared statement cache.
const maxStmts = 256

// writeConn returns the write connection, opening it on first use.
// Callers hold s.writeMu.
func (s *Store) writeConn(ctx context.Context) (*writer, error) {
	if s.w != nil {
		return s.w, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, translate(err)
	}
	s.w = &writer{conn: conn, stmts: map[string]*sql.Stmt{}, raw: map[string]driver.Stmt{}}
	return s.w, nil
}

// closeWriter drops the write connection (after it failed, or on Close).
// Callers hold s.writeMu.
func (s *Store) closeWriter() {
	if s.w == nil {
		return
	}
	for _, st := range s.w.stmts {
		st.Close()
	}
	s.w.closeRaw()
	s.w.conn.Close()
	s.w = nil
}

// ExecContext runs q through a cached prepared statement.
func (w *writer) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := w.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// prepared returns the cached prepared statement for q.
func (w *writer) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := w.stmts[q]; ok {
		return st, nil
	}
	if len(w.stmts) >= maxStmts {
		for k, old := range w.stmts {
			old.Close()
			delete(w.stmts, k)
		}
	}
	st, err := w.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	w.stmts[q] = st
	return st, nil
}

// QueryContext runs a query on the write connection.
func (w *writer) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return w.conn.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a one-row query on the write connection.
func (w *writer) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return w.conn.QueryRowContext(ctx, q, args...)
}

// inTx runs fn between BEGIN IMMEDIATE and COMMIT on the write connection,
// rolling back when fn or the commit fails. It first checks the lease
// fences ctx carries (see checkFences): a lease lost fails the whole
// transaction before fn runs. Under engine.WithRolledBackWrites, fn runs
// in a savepoint that is rolled back before the commit (undoProbe).
// Callers hold s.writeMu.
func (s *Store) inTx(ctx context.Context, fn func(w *writer) error) error {
	w, err := s.writeConn(ctx)
	if err != nil {
		return err
	}
	if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		s.closeWriter()
		return fmt.Errorf("begin: %w", translate(err))
	}
	if err := s.checkFences(ctx, w); err != nil {
		s.rollback(w)
		return err
	}
	probe := engine.RolledBackWrites(ctx) // the estimate's probe (scratch.go)
	if probe {
		if _, err := w.conn.ExecContext(ctx, "SAVEPOINT "+probeSavepoint); err != nil {
			s.rollback(w)
			return fmt.Errorf("savepoint: %w", translate(err))
		}
	}
	if err := fn(w); err != nil {
		s.rollback(w)
		return err
	}
	if probe {
		if err := s.undoProbe(ctx, w); err != nil {
			s.rollback(w)
			return err
		}
	}
	if _, err := w.conn.ExecContext(ctx, "COMMIT"); err != nil {
		s.rollback(w)
		return fmt.Errorf("commit: %w", translate(err))
	}
	return nil
}

func (s *Store) rollback(w *writer) {
	if _, err := w.conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		s.closeWriter() // unknown state: start afresh
	}
}

// execRows runs the statements of rs that have no error yet, in order, on
// the driver connection directly: database/sql's per-call bookkeeping and
// the driver's goroutine per cancellable statement cost more than SQLite's
// own work for a one-row UPDATE. Cancellation is checked between rows.
// It returns the indexes of statements that changed no row. Callers hold
// s.writeMu and run inside inTx.
func (w *writer) execRows(ctx context.Context, rs []rendered) (unchanged []int, err error) {
	err = w.conn.Raw(func(dc any) error {
		c, err := preparer(dc)
		if err != nil {
			return err
		}
		var args []driver.NamedValue
		var st driver.StmtExecContext
		q := ""
		for i := range rs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if rs[i].err != nil {
				continue
			}
			if st == nil || rs[i].q != q { // equal rows share q's bytes: a pointer compare
				if st, err = w.rawStmt(c, rs[i].q); err != nil {
					return err
				}
				q = rs[i].q
			}
			if args, err = namedValues(args[:0], rs[i].args); err != nil {
				return err
			}
			res, err := st.ExecContext(context.Background(), args)
			if err != nil {
				return translate(err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return translate(err)
			} else if n == 0 {
				unchanged = append(unchanged, i)
			}
		}
		return nil
	})
	return unchanged, err
}

// preparer is the driver connection sql.Conn.Raw exposes, as a statement
// preparer.
func preparer(dc any) (driver.ConnPrepareContext, error) {
	c, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("sqlite driver connection %T cannot prepare statements", dc)
	}
	return c, nil
}

// rawStmt returns the driver statement for q, preparing it on first use.
func (w *writer) rawStmt(c driver.ConnPrepareContext, q string) (driver.StmtExecContext, error) {
	st, err := w.rawPrepared(c, q)
	if err != nil {
		return nil, err
	}
	x, ok := st.(driver.StmtExecContext)
	if !ok {
		return nil, fmt.Errorf("sqlite driver statement %T cannot execute with a context", st)
	}
	return x, nil
}

// rawPrepared returns the cached driver statement for q, preparing it on
// first use. Call it inside conn.Raw.
func (w *writer) rawPrepared(c driver.ConnPrepareContext, q string) (driver.Stmt, error) {
	if st, ok := w.raw[q]; ok {
		return st, nil
	}
	if len(w.raw) >= maxStmts {
		w.closeRawLocked()
	}
	st, err := c.PrepareContext(context.Background(), q)
	if err != nil {
		return nil, translate(err)
	}
	w.raw[q] = st
	return st, nil
}

// closeRaw closes the driver statements (inside conn.Raw, as they must be).
func (w *writer) closeRaw() {
	if len(w.raw) == 0 {
		return
	}
	_ = w.conn.Raw(func(any) error {
		w.closeRawLocked()
		return nil
	})
}

func (w *writer) closeRawLocked() {
	for q, st := range w.raw {
		st.Close()
		delete(w.raw, q)
	}
}

// namedValues appends args as positional driver values, converting what
// is not already a driver.Value the way database/sql would.
func namedValues(out []driver.NamedValue, args []any) ([]driver.NamedValue, error) {
	for i, a := range args {
		if !driver.IsValue(a) {
			v, err := driver.DefaultParameterConverter.ConvertValue(a)
			if err != nil {
				return nil, fmt.Errorf("argument %d: %w", i+1, err)
			}
			a = v
		}
		out = append(out, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	return out, nil
}
