package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

var _ engine.Registrar = (*Store)(nil)

// registryDDL is the environment's registry (engine.RegistryRecord) in
// the store's database file: one row per session, its start and its
// latest end. Times are unix nanoseconds, ended 0 while running.
const registryDDL = `CREATE TABLE IF NOT EXISTS lockstep_registry (
	env           TEXT NOT NULL,
	session       TEXT NOT NULL,
	runbook       TEXT NOT NULL,
	version       INTEGER NOT NULL,
	sha256        TEXT NOT NULL,
	mode          TEXT NOT NULL,
	outcome       TEXT NOT NULL,
	operator      TEXT NOT NULL,
	host          TEXT NOT NULL,
	started       INTEGER NOT NULL,
	ended         INTEGER NOT NULL,
	migrated      INTEGER NOT NULL,
	head          TEXT NOT NULL,
	events        INTEGER NOT NULL,
	items_per_sec REAL NOT NULL,
	avg_item_b    INTEGER NOT NULL,
	journal       TEXT NOT NULL,
	PRIMARY KEY (env, session)
)`

const registryCols = `env, session, runbook, version, sha256, mode, outcome, operator, host,
	started, ended, migrated, head, events, items_per_sec, avg_item_b, journal`

func registryArgs(r engine.RegistryRecord) []any {
	return []any{r.Env, r.SessionID, r.Runbook, r.Version, r.SHA256, string(r.Mode), string(r.Outcome), r.Operator, r.Host,
		nanosOrZero(r.Started), nanosOrZero(r.Ended), r.Migrated, r.Head, r.Events, r.ItemsPerSec, r.AvgItemB, r.Journal}
}

func nanosOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeOrZero(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// RecordStart inserts r as running, or marks the session's existing row
// running again (a resume), in lockstep_registry (created on first use).
func (s *Store) RecordStart(ctx context.Context, r engine.RegistryRecord) error {
	err := s.ownTableTx(ctx, registryDDL, func(tx *sql.Tx) error {
		r.Outcome = engine.OutcomeRunning
		res, err := tx.ExecContext(ctx, `INSERT INTO lockstep_registry (`+registryCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (env, session) DO NOTHING`, registryArgs(r)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE lockstep_registry SET outcome = ? WHERE env = ? AND session = ?`,
			string(engine.OutcomeRunning), r.Env, r.SessionID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record start of session %s: %w", r.SessionID, err)
	}
	return nil
}

// RecordEnd records r's end: once per end, a stale one ignored, the same
// events count with another head refused (engine.ErrAnchorConflict).
func (s *Store) RecordEnd(ctx context.Context, r engine.RegistryRecord) error {
	err := s.ownTableTx(ctx, registryDDL, func(tx *sql.Tx) error {
		var (
			head   string
			events int64
		)
		err := tx.QueryRowContext(ctx, `SELECT head, events FROM lockstep_registry WHERE env = ? AND session = ?`,
			r.Env, r.SessionID).Scan(&head, &events)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO lockstep_registry (`+registryCols+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, registryArgs(r)...)
			return err
		case err != nil:
			return err
		case events == r.Events && head != r.Head:
			return fmt.Errorf("%w: session %s event %d is recorded with head %.16s…", engine.ErrAnchorConflict, r.SessionID, events, head)
		case events > r.Events:
			return nil // a stale end
		}
		_, err = tx.ExecContext(ctx, `UPDATE lockstep_registry SET outcome = ?, ended = ?, migrated = ?, head = ?, events = ?,
			items_per_sec = ?, avg_item_b = ? WHERE env = ? AND session = ? AND events <= ?`,
			string(r.Outcome), nanosOrZero(r.Ended), r.Migrated, r.Head, r.Events, r.ItemsPerSec, r.AvgItemB,
			r.Env, r.SessionID, r.Events)
		return err
	})
	if err != nil {
		return fmt.Errorf("record end of session %s: %w", r.SessionID, err)
	}
	return nil
}

// Registry returns the records of env, newest first; none, and nothing
// written, when the table does not exist.
func (s *Store) Registry(ctx context.Context, env string) ([]engine.RegistryRecord, error) {
	out, err := s.readRegistry(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("read the registry of %s: %w", env, err)
	}
	engine.SortRegistry(out)
	return out, nil
}

func (s *Store) readRegistry(ctx context.Context, env string) ([]engine.RegistryRecord, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master
		WHERE type = 'table' AND name = 'lockstep_registry'`).Scan(&n); err != nil || n == 0 {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+registryCols+` FROM lockstep_registry WHERE env = ?`, env)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.RegistryRecord
	for rows.Next() {
		var (
			r              engine.RegistryRecord
			mode, outcome  string
			started, ended int64
		)
		if err := rows.Scan(&r.Env, &r.SessionID, &r.Runbook, &r.Version, &r.SHA256, &mode, &outcome, &r.Operator, &r.Host,
			&started, &ended, &r.Migrated, &r.Head, &r.Events, &r.ItemsPerSec, &r.AvgItemB, &r.Journal); err != nil {
			return nil, err
		}
		r.Mode, r.Outcome = engine.Mode(mode), engine.Outcome(outcome)
		r.Started, r.Ended = timeOrZero(started), timeOrZero(ended)
		out = append(out, r)
	}
	return out, rows.Err()
}
