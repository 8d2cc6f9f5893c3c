package journal

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; PRAGMA user_version records how many
// have been. Never edit one that has shipped: append a new one.
var migrations = []string{
	// 1: sessions, events, checkpoints, applied.
	`CREATE TABLE sessions (
		id             TEXT PRIMARY KEY,
		runbook        TEXT NOT NULL,
		runbook_path   TEXT NOT NULL,
		runbook_sha256 TEXT NOT NULL,
		runbook_source BLOB,
		title          TEXT NOT NULL,
		env            TEXT NOT NULL,
		mode           TEXT NOT NULL,
		operator       TEXT NOT NULL,
		started        TEXT NOT NULL,
		ended          TEXT,
		outcome        TEXT NOT NULL DEFAULT '',
		head_seq       INTEGER NOT NULL DEFAULT 0,
		head_hash      TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX sessions_started ON sessions(started);
	CREATE TABLE events (
		session   TEXT NOT NULL REFERENCES sessions(id),
		seq       INTEGER NOT NULL,
		time      TEXT NOT NULL,
		step      TEXT NOT NULL DEFAULT '',
		kind      TEXT NOT NULL,
		operator  TEXT NOT NULL,
		data      TEXT,
		prev_hash TEXT NOT NULL,
		hash      TEXT NOT NULL,
		UNIQUE(session, seq)
	);
	CREATE TABLE checkpoints (
		session TEXT NOT NULL REFERENCES sessions(id),
		step    TEXT NOT NULL,
		segment INTEGER NOT NULL,
		cursor  BLOB,
		updated TEXT NOT NULL,
		PRIMARY KEY (session, step, segment)
	);
	CREATE TABLE applied (
		name           TEXT NOT NULL,
		version        INTEGER NOT NULL,
		env            TEXT NOT NULL,
		runbook_sha256 TEXT NOT NULL,
		session        TEXT REFERENCES sessions(id),
		mode           TEXT NOT NULL,
		status         TEXT NOT NULL,
		time           TEXT NOT NULL
	);
	CREATE INDEX applied_env_name ON applied(env, name, time);`,
	// 2: the session chain (see chain.go). ordinal is the creation order
	// (existing sessions numbered by start time); chain names the hash
	// scheme; prev_* link a session's header to its predecessor's head.
	`ALTER TABLE sessions ADD COLUMN ordinal INTEGER;
	ALTER TABLE sessions ADD COLUMN chain TEXT NOT NULL DEFAULT 'v1';
	ALTER TABLE sessions ADD COLUMN prev_session TEXT NOT NULL DEFAULT '';
	ALTER TABLE sessions ADD COLUMN prev_seq INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE sessions ADD COLUMN prev_head TEXT NOT NULL DEFAULT '';
	UPDATE sessions SET ordinal = (SELECT COUNT(*) FROM sessions s2
		WHERE s2.started < sessions.started OR (s2.started = sessions.started AND s2.id <= sessions.id));
	CREATE UNIQUE INDEX sessions_ordinal ON sessions(ordinal);`,
}

// SchemaVersion is the journal schema version this binary writes.
func SchemaVersion() int { return len(migrations) }

// migrate brings the schema up to SchemaVersion inside one BEGIN IMMEDIATE
// transaction, so two processes opening a new journal do not race.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("%w: file has schema version %d, this lockstep knows up to %d: upgrade lockstep",
			ErrSchemaTooNew, v, len(migrations))
	}
	if v == 0 {
		// A new journal is an empty database; one with tables but no
		// schema version belongs to another program: leave it alone.
		var tables int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&tables); err != nil {
			return fmt.Errorf("read schema: %w", err)
		}
		if tables > 0 {
			return fmt.Errorf("%w: the database has tables but no lockstep schema version", ErrNotJournal)
		}
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			return fmt.Errorf("set schema version %d: %w", i+1, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit schema migration: %w", err)
	}
	return nil
}

// checkSchema checks, without writing, that db holds a journal of exactly
// the schema this binary writes.
func checkSchema(ctx context.Context, db *sql.DB) error {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case v > len(migrations):
		return fmt.Errorf("%w: file has schema version %d, this lockstep knows up to %d: upgrade lockstep",
			ErrSchemaTooNew, v, len(migrations))
	case v == 0:
		return fmt.Errorf("%w: the database has no lockstep schema", ErrNotJournal)
	case v < len(migrations):
		return fmt.Errorf("%w: file has schema version %d, this lockstep writes %d: run a session with it (lockstep run) to upgrade the journal",
			ErrSchemaTooOld, v, len(migrations))
	}
	return nil
}
