package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/lockstep-run/lockstep/engine"
)

var (
	_ engine.SQLExecer = (*Database)(nil)
	_ engine.Store     = (*Database)(nil)
)

// Database is a SQLite database file opened for sql steps only: it names
// no table, so it runs statements (engine.SQLExecer) and nothing else.
// It implements engine.Store only so that a StoreOpener can return it;
// its data operations fail with ErrNoTable.
//
// A Database that created its file and never committed (a dry run, or a
// failed step) removes the file again on Close, so that it leaves nothing
// behind.
type Database struct {
	db      *sql.DB
	path    string
	created bool // the file did not exist before OpenSQL

	mu        sync.Mutex // one ExecSQL at a time; guards committed and closed
	committed bool
	closed    bool
}

// OpenSQL opens the SQLite database file at path (${VAR} references
// already expanded) for sql steps, with the settings of Open: WAL, busy
// timeout, immediate write transactions. The file is created when
// missing; its directory must exist.
func OpenSQL(path string) (*Database, error) {
	created, err := checkDBPath(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	db, err := openDB(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	return &Database{db: db, path: path, created: created}, nil
}

// checkDBPath checks that path can name a database file: a plain path
// (no URI parameters) whose directory exists and that is not itself a
// directory. created reports that the file does not exist yet.
func checkDBPath(path string) (created bool, err error) {
	if path == "" {
		return false, errors.New("path is required")
	}
	if strings.ContainsAny(path, "?#") {
		return false, errors.New("path must not contain '?' or '#' (a plain file path: URI parameters are not supported)")
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, missingDirError(dir)
	case err != nil:
		return false, err
	case !fi.IsDir():
		return false, fmt.Errorf("%s is not a directory", dir)
	}
	fi, err = os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return true, nil
	case err != nil:
		return false, err
	case fi.IsDir():
		return false, errors.New("is a directory, not a database file")
	}
	return false, nil
}

// missingDirError is a database path whose directory does not exist; it
// is an fs.ErrNotExist.
type missingDirError string

func (e missingDirError) Error() string {
	return "directory " + string(e) + " does not exist (create it first)"
}

func (e missingDirError) Is(target error) bool { return target == os.ErrNotExist }

// Path is the database file.
func (d *Database) Path() string { return d.path }

// ExecSQL runs statements in one transaction and commits only when commit
// is true (a dry run rolls back), like Store.ExecSQL.
func (d *Database) ExecSQL(ctx context.Context, statements []string, commit bool) ([]engine.SQLResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, fmt.Errorf("exec sql on %s: database is closed", d.path)
	}
	results, err := execSQL(ctx, d.db, statements, commit)
	if err == nil && commit {
		d.committed = true
	}
	return results, err
}

// Close closes the database; it may be called more than once. When OpenSQL
// created the file and nothing was committed since, it removes the file.
func (d *Database) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	remove := d.created && !d.committed && d.isEmpty()
	err := d.db.Close()
	if remove && err == nil {
		removeDBFiles(d.path)
	}
	return err
}

// isEmpty reports whether the database holds no schema object and no
// user_version, i.e. nobody else wrote to the file meanwhile.
func (d *Database) isEmpty() bool {
	var objects, version int
	err := d.db.QueryRow("SELECT (SELECT count(*) FROM sqlite_master), (SELECT user_version FROM pragma_user_version)").Scan(&objects, &version)
	return err == nil && objects == 0 && version == 0
}

// removeDBFiles removes a database file and its WAL companions.
func removeDBFiles(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		_ = os.Remove(p)
	}
}

// noTable is the error of the data operations.
func (d *Database) noTable(op string) error {
	return fmt.Errorf("%s: sqlite database %s is opened for sql steps only: %w (data steps need an environment store with table: and key:)", op, d.path, ErrNoTable)
}

// Describe fails with ErrNoTable: the database names no table.
func (d *Database) Describe(context.Context) (engine.TableInfo, error) {
	return engine.TableInfo{}, d.noTable("describe")
}

// Scan fails with ErrNoTable: the database names no table.
func (d *Database) Scan(context.Context, engine.ScanRequest) (engine.Page, error) {
	return engine.Page{}, d.noTable("scan")
}

// Get fails with ErrNoTable: the database names no table.
func (d *Database) Get(context.Context, engine.Item) (engine.Item, bool, error) {
	return nil, false, d.noTable("get")
}

// Update fails with ErrNoTable: the database names no table.
func (d *Database) Update(context.Context, engine.Update) error { return d.noTable("update") }

// Put fails with ErrNoTable: the database names no table.
func (d *Database) Put(context.Context, []engine.Item) error { return d.noTable("put") }
