package journal

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"github.com/lockstep-run/lockstep/engine"
)

var _ engine.Journal = (*Journal)(nil)

// Journal is a SQLite journal. It is safe for concurrent use; writes are
// serialised in-process by a mutex and across processes by BEGIN IMMEDIATE
// transactions.
type Journal struct {
	db   *sql.DB
	path string
	mu   sync.Mutex // serialises write transactions

	ck checkpointQueue // checkpoints waiting for the next group commit
}

// Open opens (creating it when missing) the journal at path; "" means
// DefaultPath(). The parent directory is created with mode 0700 and the
// file with mode 0600 (an existing file with looser permissions is
// tightened); SQLite gives the -wal and -shm files the database's mode.
// The schema is migrated to the version this binary knows; a journal with
// a newer schema fails with ErrSchemaTooNew.
func Open(path string) (*Journal, error) {
	if path == "" {
		path = DefaultPath()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	if err := ensureFile(abs); err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	db, err := sql.Open("sqlite3", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	if err := migrate(context.Background(), db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	return &Journal{db: db, path: abs}, nil
}

// Path returns the absolute path of the journal file.
func (j *Journal) Path() string { return j.path }

// Close closes the database.
func (j *Journal) Close() error {
	if err := j.db.Close(); err != nil {
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

// ensureFile creates the parent directory (0700) and the file (0600)
// before SQLite sees it, and tightens an existing file's mode to 0600.
func ensureFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create journal directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create journal file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat journal file: %w", err)
	}
	if fi.Mode().Perm() != 0o600 {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("chmod journal file: %w", err)
		}
	}
	return nil
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
	return u.String() + "?" + q.Encode()
}
