package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"github.com/lockstep-run/lockstep/engine"
)

var _ engine.Journal = (*Journal)(nil)

// Journal is a SQLite journal. It is safe for concurrent use; writes are
// serialised in-process by a mutex and across processes by BEGIN IMMEDIATE
// transactions.
type Journal struct {
	db       *sql.DB
	path     string
	readOnly bool
	key      []byte     // HMAC key of keyed sessions (WithKey); nil: none
	tmpDir   string     // private copy read instead of path (see openCopy); removed by Close
	mu       sync.Mutex // serialises write transactions

	ck checkpointQueue // checkpoints waiting for the next group commit

	claimMu sync.Mutex
	claims  map[string]*claim // sessions this Journal holds (see ClaimSession)
}

// Open opens (creating it when missing) the journal at path for reading
// and writing; "" means DefaultPath(). A new journal's parent directory is
// created with mode 0700 and its file with mode 0600; an existing journal
// with looser permissions is tightened (and its -wal and -shm files with
// it), but only once it is known to be a lockstep journal. A file that is
// not one fails with ErrNotJournal and is left as it was. The schema is
// migrated to the version this binary knows; a journal with a newer schema
// fails with ErrSchemaTooNew.
//
// Open also repairs the session rows a crash left behind their chain (see
// repairEnds).
func Open(path string, opts ...Option) (*Journal, error) {
	if path == "" {
		path = DefaultPath()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	created, err := ensureFile(abs)
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	if !created {
		// Looked at read-only first: the connection pragmas (WAL) would
		// change another program's database before migrate refused it.
		if err := peekSchema(abs); err != nil {
			return nil, fmt.Errorf("open journal %s: %w", path, notJournal(err))
		}
	}
	db, err := sql.Open("sqlite3", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	if err := migrate(context.Background(), db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open journal %s: %w", path, notJournal(err))
	}
	if !created {
		if err := tighten(abs); err != nil {
			db.Close()
			return nil, fmt.Errorf("open journal %s: %w", path, err)
		}
	}
	j := &Journal{db: db, path: abs}
	for _, o := range opts {
		o(j)
	}
	if err := j.repairEnds(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	return j, nil
}

// Option configures Open and OpenReadOnly.
type Option func(*Journal)

// WithKey makes the sessions the journal creates keyed: their chain is
// HMAC-SHA256 under key (LOCKSTEP_JOURNAL_KEY), so only a holder of the
// key can rewrite it undetected; keyed sessions can be verified and
// written only with the same key. An empty key is no key.
func WithKey(key []byte) Option {
	return func(j *Journal) {
		if len(key) > 0 {
			j.key = key
		}
	}
}

// OpenReadOnly opens the existing journal at path for reading only ("" means
// DefaultPath()): it creates nothing, changes no permission, migrates
// nothing and needs no write access to the file or its directory. A missing
// file fails with ErrNoJournal, a file that is not a journal with
// ErrNotJournal, and a schema other than this binary's with ErrSchemaTooNew
// or ErrSchemaTooOld. Writes through it fail (claims with ErrReadOnly).
func OpenReadOnly(path string, opts ...Option) (*Journal, error) {
	if path == "" {
		path = DefaultPath()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	if err := checkExisting(abs); err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	db, err := openRO(abs, false)
	if isReadOnlyErr(err) && !exists(abs+"-wal") && !exists(abs+"-shm") {
		// No -shm to share and no right to create one (a directory the
		// reader cannot write). With no -wal file either, everything is
		// in the database file: read it as immutable, without the WAL
		// index. A session starting meanwhile writes to a new -wal that
		// this reader does not see, as if it had read just before.
		db, err = openRO(abs, true)
	}
	var tmp string
	switch {
	case errors.Is(err, ErrSchemaTooOld):
		// Written by an older lockstep: read an upgraded private copy,
		// leaving the file as it is until a session upgrades it.
		db, tmp, err = openCopy(abs, true)
	case err != nil && exists(abs+"-wal") && !exists(abs+"-shm"):
		// A -wal with no -shm (copied, or its -shm removed) where the
		// reader cannot create one: SQLite cannot read the -wal in
		// place, and immutable would miss the events in it. Read a
		// private copy of both instead.
		db, tmp, err = openCopy(abs, false)
	}
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, notJournal(err))
	}
	j := &Journal{db: db, path: abs, readOnly: true, tmpDir: tmp}
	for _, o := range opts {
		o(j)
	}
	return j, nil
}

// peekSchema checks, read-only, that an existing file is empty, a new
// database, or a journal whose schema this binary can migrate.
func peekSchema(abs string) error {
	fi, err := os.Stat(abs)
	if err != nil {
		return fmt.Errorf("stat journal file: %w", err)
	}
	if fi.Size() == 0 {
		return nil
	}
	db, err := sql.Open("sqlite3", roDSN(abs, false))
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	var v, tables int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		if isReadOnlyErr(err) {
			return nil // no -shm yet and no right to create it: Open will say
		}
		return fmt.Errorf("read schema version: %w", err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&tables); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	switch {
	case v > len(migrations):
		return fmt.Errorf("%w: file has schema version %d, this lockstep knows up to %d: upgrade lockstep",
			ErrSchemaTooNew, v, len(migrations))
	case v == 0 && tables > 0:
		return fmt.Errorf("%w: the database has tables but no lockstep schema version", ErrNotJournal)
	}
	return nil
}

// openRO opens abs read-only and checks its schema.
func openRO(abs string, immutable bool) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", roDSN(abs, immutable))
	if err != nil {
		return nil, err
	}
	if err := checkSchema(context.Background(), db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// isReadOnlyErr reports SQLite's SQLITE_READONLY family: here, a -shm
// file that cannot be created.
func isReadOnlyErr(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrReadonly
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// Path returns the absolute path of the journal file.
func (j *Journal) Path() string { return j.path }

// Close gives back the sessions this Journal holds and closes the database.
func (j *Journal) Close() error {
	j.releaseAll()
	err := j.db.Close()
	if j.tmpDir != "" {
		os.RemoveAll(j.tmpDir)
	}
	if err != nil {
		return fmt.Errorf("close journal: %w", err)
	}
	return nil
}

// DefaultPath is $LOCKSTEP_JOURNAL, else $XDG_STATE_HOME/lockstep/journal.db
// (when XDG_STATE_HOME is absolute, as the XDG spec requires), else
// ~/.local/state/lockstep/journal.db.
func DefaultPath() string {
	if p := os.Getenv("LOCKSTEP_JOURNAL"); p != "" {
		return p
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "lockstep", "journal.db")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".lockstep", "journal.db")
	}
	return filepath.Join(home, ".local", "state", "lockstep", "journal.db")
}

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// ensureFile creates the parent directory (0700) and the file (0600)
// before SQLite sees it, and reports whether it created the file. An
// existing file must be empty or a SQLite database (ErrNotJournal).
func ensureFile(path string) (created bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("create journal directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return true, f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return false, fmt.Errorf("create journal file: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return false, fmt.Errorf("%w: %s is a directory (name a file in it: --journal %s)",
			ErrNotJournal, path, filepath.Join(path, "journal.db"))
	}
	return false, checkMagic(path, true)
}

// checkExisting checks that path is an existing SQLite database file.
func checkExisting(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w (check --journal or $LOCKSTEP_JOURNAL)", ErrNoJournal)
	}
	if err != nil {
		return fmt.Errorf("stat journal file: %w", err)
	}
	if fi.IsDir() {
		return fmt.Errorf("%w: %s is a directory (name a file in it: --journal %s)",
			ErrNotJournal, path, filepath.Join(path, "journal.db"))
	}
	return checkMagic(path, false)
}

// checkMagic reads the first bytes of path: a SQLite database, or (when
// emptyOK) an empty file, passes; anything else is ErrNotJournal.
func checkMagic(path string, emptyOK bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read journal file: %w", err)
	}
	defer f.Close()
	buf := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, buf)
	switch {
	case n == 0 && emptyOK:
		return nil
	case n == 0:
		return fmt.Errorf("%w: the file is empty", ErrNotJournal)
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("read journal file: %w", err)
	case string(buf[:n]) != sqliteMagic:
		return fmt.Errorf("%w: the file is not a SQLite database", ErrNotJournal)
	}
	return nil
}

// tighten sets the journal and its -wal and -shm files to mode 0600 when
// they are looser; SQLite gives new -wal and -shm files the database's mode.
func tighten(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("stat journal file: %w", err)
		}
		if fi.Mode().Perm() != 0o600 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("chmod journal file: %w", err)
			}
		}
	}
	return nil
}

// notJournal translates SQLite's "file is not a database" into
// ErrNotJournal.
func notJournal(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrNotADB {
		return fmt.Errorf("%w: %w", ErrNotJournal, err)
	}
	return err
}

// dsn is the go-sqlite3 connection string: a file: URI (so any path is
// escaped) with the pragmas applied to every pooled connection.
// _txlock=immediate makes every BeginTx a BEGIN IMMEDIATE.
func dsn(abs string) string {
	u := url.URL{Scheme: "file", Path: abs}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "5000")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")
	// Each connection keeps the statements it ran prepared: a migrate
	// page's checkpoint runs the same five (operator, upsert, header,
	// insert, head) every time, and preparing them cost a fifth as much
	// as the commit.
	q.Set("_stmt_cache_size", "32")
	return u.String() + "?" + q.Encode()
}

// roDSN is the read-only connection string: mode=ro, so SQLite neither
// creates nor writes the file; no journal-mode pragma (that would write).
// immutable=1 also skips locking and the WAL index (see OpenReadOnly).
func roDSN(abs string, immutable bool) string {
	u := url.URL{Scheme: "file", Path: abs}
	q := url.Values{}
	q.Set("mode", "ro")
	if immutable {
		q.Set("immutable", "1")
	}
	q.Set("_busy_timeout", "5000")
	q.Set("_foreign_keys", "on")
	return u.String() + "?" + q.Encode()
}
