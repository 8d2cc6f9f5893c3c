package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// writer is the store's one write connection: writes run on it with
// statements prepared once and reused, and batches in explicit
// BEGIN IMMEDIATE … COMMIT transactions, without database/sql's per-call
// pool and transaction bookkeeping. Use it only under Store.writeMu.
type writer struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
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
	s.w = &writer{conn: conn, stmts: map[string]*sql.Stmt{}}
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
// rolling back when fn or the commit fails. Callers hold s.writeMu.
func (s *Store) inTx(ctx context.Context, fn func(w *writer) error) error {
	w, err := s.writeConn(ctx)
	if err != nil {
		return err
	}
	if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		s.closeWriter()
		return fmt.Errorf("begin: %w", translate(err))
	}
	if err := fn(w); err != nil {
		s.rollback(w)
		return err
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
