// Package postgres is the PostgreSQL store: one table with a primary key
// in a PostgreSQL database, whose rows are lockstep items. It implements
// engine.Store and the optional engine.Counter, engine.MigrateTuner,
// engine.BatchUpdater, engine.SQLExecer, engine.ScratchCreator,
// engine.Leaser, engine.LeaseTaker, engine.FlagHolder and
// engine.Registrar, through a pgx connection pool.
//
// It may import the standard library, engine, runbook and pgx — never a
// UI package.
//
// Values (see values.go): numeric, integer and floating point columns
// read as engine.Number, text-like ones as string, boolean as bool, bytea
// as []byte, date and timestamp columns as RFC 3339 strings in UTC, json
// and jsonb as maps, lists and scalars, arrays as lists, NULL as nil.
// Writes cast each value to its column's type on the server.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// Errors of the PostgreSQL store.
var (
	// ErrNoColumn is returned when a write names a column the table lacks.
	ErrNoColumn = errors.New("no such column")
	// ErrNoTable is returned when the store's table does not exist.
	ErrNoTable = errors.New("no such table")
	// ErrNoKey is returned when the table has no primary key and the
	// runbook names none.
	ErrNoKey = errors.New("no primary key")
	// ErrUnsupportedType is returned for a column whose type lockstep
	// cannot map to item values (geometric, range, composite types).
	ErrUnsupportedType = errors.New("unsupported column type")
)

var (
	_ engine.Store          = (*Store)(nil)
	_ engine.Counter        = (*Store)(nil)
	_ engine.MigrateTuner   = (*Store)(nil)
	_ engine.BatchUpdater   = (*Store)(nil)
	_ engine.SQLExecer      = (*Store)(nil)
	_ engine.ScratchCreator = (*Store)(nil)
	_ engine.Leaser         = (*Store)(nil)
	_ engine.LeaseTaker     = (*Store)(nil)
)

// DefaultPageSize is the number of rows a Scan page holds when the
// request does not say.
const DefaultPageSize = 500

// Store is a PostgreSQL table seen as a lockstep store. It is safe for
// concurrent use.
type Store struct {
	pool        *pgxpool.Pool
	dsn         string // redacted form, for messages
	rawDSN      string // as given: never in a message
	schemaName  string
	table       string
	versionAttr string
	specKey     []string
	ownPool     bool // Close closes the pool (scratch stores share it)

	mu     sync.Mutex // guards sc
	sc     *schema
	closed bool

	// afterPageEnd, set by tests only, runs between a predicted page's
	// read of its last row and its UPDATE (a concurrent writer there).
	afterPageEnd func(context.Context)
}

// Open connects to spec.DSN (whose ${VAR} references are already
// expanded) and opens spec.Table in spec.Schema (public by default). The
// key is spec.Key, or the table's primary key. The table may not exist
// yet (a sql step can create it); until it does, data operations fail
// with ErrNoTable. Errors never hold the DSN's password.
func Open(ctx context.Context, spec *runbook.StoreSpec) (*Store, error) {
	if spec == nil || spec.DSN == "" {
		return nil, errors.New("open postgres store: dsn is required")
	}
	red := RedactDSN(spec.DSN)
	cfg, err := pgxpool.ParseConfig(spec.DSN)
	if err != nil {
		return nil, fmt.Errorf("open postgres store %s: %w", red, redactErr(err, spec.DSN))
	}
	// Times are read and written in UTC whatever the server's default.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	cfg.ConnConfig.RuntimeParams["application_name"] = "lockstep"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres store %s: %w", red, redactErr(err, spec.DSN))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store %s: %w", red, redactErr(err, spec.DSN))
	}
	s := &Store{pool: pool, dsn: red, rawDSN: spec.DSN, schemaName: spec.Schema, table: spec.Table,
		versionAttr: spec.VersionAttribute, specKey: spec.Key, ownPool: true}
	if s.schemaName == "" {
		s.schemaName = "public"
	}
	if s.versionAttr == "" {
		s.versionAttr = "v"
	}
	if s.table != "" {
		if _, err := s.loadSchema(ctx); err != nil && !errors.Is(err, ErrNoTable) {
			pool.Close()
			return nil, fmt.Errorf("open postgres store %s: %w", red, err)
		}
	}
	return s, nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed && s.ownPool {
		s.pool.Close()
	}
	s.closed = true
	return nil
}

// Table is the store's table name.
func (s *Store) Table() string { return s.table }

// qualified is the schema-qualified, quoted table name.
func (s *Store) qualified() string { return quote(s.schemaName) + "." + quote(s.table) }

// MigrateDefaults implements engine.MigrateTuner: PostgreSQL writes from
// many connections at once, so four segments of 1,000-row pages (one
// short transaction each).
func (s *Store) MigrateDefaults() engine.MigrateDefaults {
	return engine.MigrateDefaults{Segments: 4, BatchSize: 1000}
}

// Describe returns the key, the planner's row estimate
// (pg_class.reltuples, exact when the table was never analyzed: then it
// counts) and the table's size with indexes and TOAST
// (pg_total_relation_size).
func (s *Store) Describe(ctx context.Context) (engine.TableInfo, error) {
	sc, err := s.loadSchema(ctx)
	if err != nil {
		return engine.TableInfo{}, fmt.Errorf("describe %s: %w", s.table, err)
	}
	info := engine.TableInfo{Table: s.table, Key: append([]string(nil), sc.key...), Backend: "postgres"}
	var tuples float64
	err = s.pool.QueryRow(ctx, `SELECT c.reltuples::float8, pg_total_relation_size(c.oid)
		FROM pg_class c WHERE c.oid = $1::regclass`, s.qualified()).Scan(&tuples, &info.SizeBytes)
	if err != nil {
		return engine.TableInfo{}, fmt.Errorf("describe %s: %w", s.table, translate(err))
	}
	if tuples < 0 { // never vacuumed or analyzed: count
		return s.count(ctx, info)
	}
	info.ItemCount, info.Approximate = int64(tuples), true
	return info, nil
}

// DescribeCount implements engine.Counter: the key and an exact count
// (migrate's progress needs a total it will reach).
func (s *Store) DescribeCount(ctx context.Context) (engine.TableInfo, error) {
	sc, err := s.loadSchema(ctx)
	if err != nil {
		return engine.TableInfo{}, fmt.Errorf("describe %s: %w", s.table, err)
	}
	return s.count(ctx, engine.TableInfo{Table: s.table, Key: append([]string(nil), sc.key...), Backend: "postgres"})
}

// count returns the exact number of rows (SELECT count(*)), counted by
// this connection alone: parallel workers are a resource of the server
// a migration runs against, and starting them cost more than the scan
// on the bench's 333,333-row table (a count of 54-78 ms with two
// workers, 15-20 ms without, at load 3).
func (s *Store) count(ctx context.Context, info engine.TableInfo) (engine.TableInfo, error) {
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL max_parallel_workers_per_gather = 0"); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT count(*) FROM "+s.qualified()).Scan(&info.ItemCount)
	})
	if err != nil {
		return engine.TableInfo{}, fmt.Errorf("count %s: %w", s.table, translate(err))
	}
	info.Approximate = false
	return info, nil
}

// quote quotes an SQL identifier.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
