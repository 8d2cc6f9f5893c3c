package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// CreateScratch creates the empty table name in the same database file,
// with the store's columns, constraints and key (its CREATE TABLE
// statement under the new name), and returns a store on it.
func (s *Store) CreateScratch(ctx context.Context, name string) (engine.Store, error) {
	if err := s.checkScratchName(name); err != nil {
		return nil, fmt.Errorf("create scratch table: %w", err)
	}
	var ddl string
	err := s.db.QueryRowContext(ctx, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", s.table).Scan(&ddl)
	if err != nil {
		return nil, fmt.Errorf("create scratch table %s: read schema of %s: %w", name, s.table, err)
	}
	create := "CREATE TABLE " + quote(name)
	if i := columnDefsStart(ddl); i >= 0 {
		create += " " + ddl[i:]
	} else { // CREATE TABLE … AS SELECT: copy the columns only
		create += " AS SELECT * FROM " + quote(s.table) + " WHERE 0"
	}
	s.writeMu.Lock()
	_, err = s.db.ExecContext(ctx, create)
	s.writeMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("create scratch table %s: %w", name, translate(err))
	}
	sc, err := s.currentSchema(ctx)
	if err != nil {
		return nil, fmt.Errorf("create scratch table %s: %w", name, err)
	}
	scratch, err := Open(&runbook.StoreSpec{Kind: "sqlite", Path: s.path, Table: name, Key: sc.key, VersionAttribute: s.versionAttr})
	if err != nil {
		return nil, fmt.Errorf("create scratch table %s: %w", name, err)
	}
	return scratch, nil
}

var _ engine.WriteRollbacker = (*Store)(nil)

// RollsBackWrites implements engine.WriteRollbacker: every write runs in
// inTx (Update too, under engine.WithRolledBackWrites), which then runs
// it in a savepoint and rolls back to it (undoProbe). The estimate's
// probe times a migrate step's own pages so: same connection, statements
// and page size, on the live table, nothing kept.
func (*Store) RollsBackWrites() {}

// probeSavepoint is the savepoint a probed write transaction runs in.
const probeSavepoint = "lockstep_probe"

// undoProbe undoes a probed transaction's writes: it rolls back to the
// savepoint inTx opened, and releases it. The transaction then commits:
// SQLite still writes the pages the statements dirtied, restored to what
// they held, to the WAL, so the probe pays what a page's commit costs (a
// plain ROLLBACK skipped it, and timed pages 1.4-1.6x faster than
// migrate's), and the table is as it was.
func (s *Store) undoProbe(ctx context.Context, w *writer) error {
	if _, err := w.conn.ExecContext(ctx, "ROLLBACK TO "+probeSavepoint); err != nil {
		return fmt.Errorf("undo probe: %w", translate(err))
	}
	if _, err := w.conn.ExecContext(ctx, "RELEASE "+probeSavepoint); err != nil {
		return fmt.Errorf("undo probe: %w", translate(err))
	}
	return nil
}

// DropScratch drops the table name; it refuses the store's own table and
// the lease table.
func (s *Store) DropScratch(ctx context.Context, name string) error {
	if err := s.checkScratchName(name); err != nil {
		return fmt.Errorf("drop scratch table: %w", err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+quote(name)); err != nil {
		return fmt.Errorf("drop scratch table %s: %w", name, translate(err))
	}
	return nil
}

func (s *Store) checkScratchName(name string) error {
	switch {
	case name == "":
		return errors.New("empty table name")
	case strings.EqualFold(name, s.table):
		return fmt.Errorf("%q is the migration's own table", name)
	case strings.EqualFold(name, leaseTable), strings.HasPrefix(strings.ToLower(name), "sqlite_"):
		return fmt.Errorf("%q is reserved", name)
	}
	return nil
}

// columnDefsStart returns the index of the "(" opening the column
// definitions of a CREATE TABLE statement, skipping quoted names; -1 when
// there is none.
func columnDefsStart(ddl string) int {
	var close byte
	for i := 0; i < len(ddl); i++ {
		c := ddl[i]
		switch {
		case close != 0:
			if c == close {
				close = 0
			}
		case c == '"' || c == '\'' || c == '`':
			close = c
		case c == '[':
			close = ']'
		case c == '(':
			return i
		case strings.HasPrefix(strings.ToUpper(ddl[i:]), " AS "):
			return -1
		}
	}
	return -1
}
