package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/lockstep-run/lockstep/engine"
)

// ScratchSchema is the schema restore drills create their scratch tables
// in, apart from the application's tables.
const ScratchSchema = "lockstep_scratch"

// CreateScratch implements engine.ScratchCreator: an empty table named
// name in the schema lockstep_scratch, with the live table's columns,
// defaults, NOT NULL and check constraints and primary key (CREATE TABLE
// … (LIKE … INCLUDING ALL), which copies no foreign key and no data). The
// returned store shares this store's pool.
func (s *Store) CreateScratch(ctx context.Context, name string) (engine.Store, error) {
	if _, err := s.loadSchema(ctx); err != nil {
		return nil, fmt.Errorf("create scratch table %s: %w", name, err)
	}
	q := "CREATE SCHEMA IF NOT EXISTS " + quote(ScratchSchema) + "; CREATE TABLE " + quote(ScratchSchema) + "." + quote(name) +
		" (LIKE " + s.qualified() + " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)"
	if _, err := s.pool.Exec(ctx, q); err != nil {
		return nil, fmt.Errorf("create scratch table %s: %w", name, translate(err))
	}
	sc := &Store{pool: s.pool, dsn: s.dsn, schemaName: ScratchSchema, table: name, versionAttr: s.versionAttr, specKey: s.specKey}
	if _, err := sc.loadSchema(ctx); err != nil {
		return nil, fmt.Errorf("create scratch table %s: %w", name, err)
	}
	return sc, nil
}

var _ engine.WriteRollbacker = (*Store)(nil)

// RollsBackWrites implements engine.WriteRollbacker: migrate writes only
// through UpdateBatch (applyBatch), which under
// engine.WithRolledBackWrites runs the page in a savepoint, rolls back to
// it and commits: the transaction had written, so its commit still
// flushes its WAL as a page's commit does, and keeps nothing. Put
// commits: the probe puts nothing.
func (*Store) RollsBackWrites() {}

// probeSavepoint is the savepoint a probed page runs in.
const probeSavepoint = "lockstep_probe"

// DropScratch implements engine.ScratchCreator: it drops the scratch
// table name, refusing the store's own table's name and reserved ones.
func (s *Store) DropScratch(ctx context.Context, name string) error {
	// The scratch schema holds no live table, but a name that is one is a
	// mistake worth stopping: the caller meant something else.
	if name == "" || strings.EqualFold(name, s.table) || strings.EqualFold(name, leaseTable) {
		return fmt.Errorf("drop scratch table %q: refused: it is empty, the migration's own table or reserved", name)
	}
	if _, err := s.pool.Exec(ctx, "DROP TABLE IF EXISTS "+quote(ScratchSchema)+"."+quote(name)); err != nil {
		return fmt.Errorf("drop scratch table %s: %w", name, translate(err))
	}
	return nil
}

// probed runs fn in tx; under engine.WithRolledBackWrites (the
// estimate's write probe) in a savepoint rolled back once fn is done, so
// that the transaction commits nothing of what fn wrote.
func probed(ctx context.Context, tx pgx.Tx, fn func(pgx.Tx) error) error {
	if !engine.RolledBackWrites(ctx) {
		return fn(tx)
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT "+probeSavepoint); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT "+probeSavepoint); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	return nil
}
