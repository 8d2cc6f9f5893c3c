// Package sqlite is the SQLite store: one table with a primary key in a
// SQLite database file, whose rows are lockstep items. It implements
// engine.Store and the optional engine.SQLExecer, engine.ScratchCreator,
// engine.Leaser and engine.BatchUpdater.
//
// It may import the standard library, engine, runbook and the SQLite
// driver (mattn/go-sqlite3) — never a UI package.
//
// Values: INTEGER and REAL columns read as engine.Number, TEXT as string,
// BLOB as []byte, NULL as nil (every column is an attribute of every
// item; a NULL column is an attribute with a nil value). Writes bind a
// Number as an INTEGER when it is integral and fits in 64 bits, as a REAL
// otherwise; a bool as 1 or 0; maps, lists and sets as JSON text.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// Errors of the SQLite store.
var (
	// ErrNoColumn is returned when a write names a column the table lacks.
	ErrNoColumn = errors.New("no such column")
	// ErrNoTable is returned when the store's table does not exist.
	ErrNoTable = errors.New("no such table")
	// ErrNoKey is returned when the table has no primary key and the
	// runbook names none.
	ErrNoKey = errors.New("no primary key")
	// ErrNoDatabase is returned by Open when the database file does not
	// exist (it is also an fs.ErrNotExist).
	ErrNoDatabase = errors.New("no such database file")
)

var (
	_ engine.Store          = (*Store)(nil)
	_ engine.SQLExecer      = (*Store)(nil)
	_ engine.ScratchCreator = (*Store)(nil)
	_ engine.Leaser         = (*Store)(nil)
	_ engine.BatchUpdater   = (*Store)(nil)
	_ engine.MigrateTuner   = (*Store)(nil)
	_ engine.Counter        = (*Store)(nil)
)

// DefaultPageSize is the number of rows a Scan page holds when the
// request does not say.
const DefaultPageSize = 500

// MigrateDefaults implements engine.MigrateTuner. Pages of 2,000 rows
// (one write transaction and one journal checkpoint each) keep the fixed
// cost of a commit small against the rows' (~10% faster than 1,000 once
// segments take blocks of keys; 4,000 gains nothing more), and hold the
// write lock for a few milliseconds at a time. Two segments: writes go
// through one connection anyway, and each segment already plans its next
// page while the previous one is written; more segments only add
// goroutines competing for the cores with that writer (on 2 cores, 2
// segments migrate ~25% faster than 4 and 8 segments ~15% slower).
func (s *Store) MigrateDefaults() engine.MigrateDefaults {
	return engine.MigrateDefaults{Segments: 2, BatchSize: 2000}
}

// Store is a SQLite table seen as a lockstep store. It is safe for
// concurrent use; writes are serialised inside the process and wait up to
// the busy timeout for other processes.
type Store struct {
	db          *sql.DB
	path        string
	table       string
	versionAttr string
	specKey     []string

	writeMu sync.Mutex // one write transaction at a time in this process
	w       *writer    // the write connection; guarded by writeMu
	batches batchCache // UpdateBatch's scratch spaces
	// scanInts is readRows' scratch space for Scan, which reads on the
	// write connection; guarded by writeMu.
	scanInts intText

	mu     sync.Mutex // guards schema
	schema *schema

	// journalMode is the file's journal mode before the store switched it
	// to WAL ("" when it was WAL already or is unknown); Close restores it.
	journalMode string
}

// Open opens the table spec.Table in the database file spec.Path (whose
// ${VAR} references are already expanded) in WAL mode with a busy
// timeout. The file must exist: a missing one is an error wrapping
// ErrNoDatabase, never a new empty database (a mistyped path, or a
// relative one read from another directory, would otherwise run a
// session against it). The key is spec.Key, or the table's primary key.
// The table may not exist yet (a sql step can create it); until it does,
// data operations fail with ErrNoTable.
func Open(spec *runbook.StoreSpec) (*Store, error) {
	return open(spec, false)
}

// OpenOrCreate is Open that creates the database file when it is
// missing (its directory must exist): for tests and tools that make a
// database, never for an environment's store.
func OpenOrCreate(spec *runbook.StoreSpec) (*Store, error) {
	return open(spec, true)
}

func open(spec *runbook.StoreSpec, create bool) (*Store, error) {
	if spec == nil || spec.Path == "" || spec.Table == "" {
		return nil, errors.New("open sqlite store: path and table are required")
	}
	var (
		db   *sql.DB
		mode string
		err  error
	)
	if create {
		db, err = openDB(spec.Path)
	} else {
		mode = journalMode(spec.Path)
		db, err = openExistingDB(spec)
	}
	var missing *noDatabaseError
	if errors.As(err, &missing) {
		return nil, err // names the path already
	}
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", spec.Path, err)
	}
	s := &Store{
		db:          db,
		path:        spec.Path,
		table:       spec.Table,
		versionAttr: spec.VersionAttribute,
		specKey:     spec.Key,
		journalMode: mode,
	}
	if s.versionAttr == "" {
		s.versionAttr = "v"
	}
	// A missing table is not fatal: a sql step of the runbook may create
	// it; data operations report ErrNoTable until then.
	if _, err := s.loadSchema(context.Background()); err != nil && !errors.Is(err, ErrNoTable) {
		db.Close()
		if errors.Is(err, ErrNoColumn) && spec.Pos.File != "" {
			err = fmt.Errorf("%w; fix `key:` at %s, or add the column", err, spec.Pos)
		}
		return nil, fmt.Errorf("open sqlite store %s: %w", spec.Path, err)
	}
	return s, nil
}

// openDB opens path with the lockstep driver: WAL, a 10 s busy timeout,
// immediate write transactions (no lock upgrade deadlocks). The file is
// created when missing.
func openDB(path string) (*sql.DB, error) { return openDSN(path, url.Values{}) }

// openExistingDB is openDB for a file that must exist: SQLite opens it
// read-write without creating it (mode=rw).
func openExistingDB(spec *runbook.StoreSpec) (*sql.DB, error) {
	fi, err := os.Stat(spec.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &noDatabaseError{path: spec.Path, pos: spec.Pos}
	case err != nil:
		return nil, err
	case fi.IsDir():
		return nil, errors.New("is a directory, not a database file; fix `path:`")
	}
	db, err := openDSN(spec.Path, url.Values{"mode": {"rw"}})
	if err != nil {
		if _, statErr := os.Stat(spec.Path); errors.Is(statErr, fs.ErrNotExist) {
			return nil, &noDatabaseError{path: spec.Path, pos: spec.Pos} // removed meanwhile
		}
		return nil, err
	}
	return db, nil
}

// noDatabaseError is a store whose database file does not exist; it is
// ErrNoDatabase and an fs.ErrNotExist.
type noDatabaseError struct {
	path string
	pos  runbook.Pos
}

func (e *noDatabaseError) Error() string {
	msg := "sqlite store: " + e.path + " does not exist; create it or fix `path:`"
	if e.pos.File != "" {
		msg += " at " + e.pos.String()
	}
	return msg
}

func (e *noDatabaseError) Is(target error) bool {
	return target == ErrNoDatabase || target == fs.ErrNotExist
}

// openDSN opens path with the lockstep driver and settings, plus q.
func openDSN(path string, q url.Values) (*sql.DB, error) {
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_txlock", "immediate")
	q.Set("_synchronous", "NORMAL")
	db := openSQLite("file:" + path + "?" + q.Encode())
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Path is the database file the store reads and writes.
func (s *Store) Path() string { return s.path }

// Table is the store's table name.
func (s *Store) Table() string { return s.table }

// Close closes the database, and gives the file back the journal mode it
// had before (the store runs in WAL, which is persistent): a target
// database is the application's, and e.g. a rollback journal on a network
// file system must stay one. When another process has it open the switch
// cannot happen; the file then stays in WAL, which SQLite handles.
func (s *Store) Close() error {
	s.writeMu.Lock()
	s.closeWriter()
	s.writeMu.Unlock()
	err := s.db.Close()
	if s.journalMode != "" {
		restoreJournalMode(s.path)
	}
	return err
}

// journalMode reads the journal mode of the existing database at path,
// "" when it is WAL already or cannot be read.
func journalMode(path string) string {
	db := openSQLite("file:" + path + "?mode=ro&_busy_timeout=2000")
	defer db.Close()
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || strings.EqualFold(mode, "wal") {
		return ""
	}
	return strings.ToLower(mode)
}

// restoreJournalMode takes path out of WAL (best effort). Only WAL is
// kept in the file; every other mode is a connection's, and a file out of
// WAL opens in the default rollback journal, so that is what it gets back.
func restoreJournalMode(path string) {
	db := openSQLite("file:" + path + "?mode=rw&_busy_timeout=0") // never wait: best effort
	defer db.Close()
	_, _ = db.Exec("PRAGMA journal_mode=DELETE")
}

// Describe returns the key, the exact row count and the table's size in
// bytes (the sum of its values' lengths).
func (s *Store) Describe(ctx context.Context) (engine.TableInfo, error) {
	return s.describe(ctx, true)
}

// DescribeCount implements engine.Counter: Describe without SizeBytes,
// which costs a read of every value.
func (s *Store) DescribeCount(ctx context.Context) (engine.TableInfo, error) {
	return s.describe(ctx, false)
}

func (s *Store) describe(ctx context.Context, sizes bool) (engine.TableInfo, error) {
	sc, err := s.loadSchema(ctx)
	if err != nil {
		return engine.TableInfo{}, fmt.Errorf("describe %s: %w", s.table, err)
	}
	size := "0"
	if sizes {
		lengths := make([]string, len(sc.cols))
		for i, c := range sc.cols {
			lengths[i] = "coalesce(length(CAST(" + quote(c.name) + " AS BLOB)),0)"
		}
		size = "coalesce(sum(" + strings.Join(lengths, "+") + "),0)"
	}
	q := "SELECT count(*), " + size + " FROM " + quote(s.table)
	info := engine.TableInfo{Table: s.table, Key: append([]string(nil), sc.key...), Backend: "sqlite"}
	if err := s.db.QueryRowContext(ctx, q).Scan(&info.ItemCount, &info.SizeBytes); err != nil {
		return engine.TableInfo{}, fmt.Errorf("describe %s: %w", s.table, err)
	}
	return info, nil
}

// quote quotes an SQL identifier.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
