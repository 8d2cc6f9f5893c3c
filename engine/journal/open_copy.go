package journal

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// openCopy copies the journal and its -wal into a new private directory
// (0700) and opens the copy read-only, or (upgrade) migrates the copy to
// this binary's schema first; the caller removes the directory.
func openCopy(abs string, upgrade bool) (*sql.DB, string, error) {
	dir, err := os.MkdirTemp("", "lockstep-journal-*")
	if err != nil {
		return nil, "", fmt.Errorf("copy journal to read it: %w", err)
	}
	cp := filepath.Join(dir, "journal.db")
	for _, ext := range []string{"", "-wal"} {
		if ext != "" && !exists(abs+ext) {
			continue
		}
		if err := copyFile(abs+ext, cp+ext); err != nil {
			os.RemoveAll(dir)
			return nil, "", fmt.Errorf("copy journal to read it: %w", err)
		}
	}
	if upgrade {
		if err := migrateFile(cp); err != nil {
			os.RemoveAll(dir)
			return nil, "", err
		}
	}
	db, err := openRO(cp, false)
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	return db, dir, nil
}

// migrateFile brings the journal at path to this binary's schema.
func migrateFile(path string) error {
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		return err
	}
	defer db.Close()
	return migrate(context.Background(), db)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
