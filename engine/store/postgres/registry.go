package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
)

var _ engine.Registrar = (*Store)(nil)

// registryDDL is the environment's registry (engine.RegistryRecord) in
// the store's schema: one row per session, its start and latest end.
// Times are unix nanoseconds, ended 0 while running.
const registryDDL = `CREATE TABLE IF NOT EXISTS %s (
	env           text   NOT NULL,
	session       text   NOT NULL,
	runbook       text   NOT NULL,
	version       bigint NOT NULL,
	sha256        text   NOT NULL,
	mode          text   NOT NULL,
	outcome       text   NOT NULL,
	operator      text   NOT NULL,
	host          text   NOT NULL,
	started       bigint NOT NULL,
	ended         bigint NOT NULL,
	migrated      bigint NOT NULL,
	head          text   NOT NULL,
	events        bigint NOT NULL,
	items_per_sec double precision NOT NULL,
	avg_item_b    bigint NOT NULL,
	journal       text   NOT NULL,
	PRIMARY KEY (env, session)
)`

const registryCols = `env, session, runbook, version, sha256, mode, outcome, operator, host,
	started, ended, migrated, head, events, items_per_sec, avg_item_b, journal`

const registryValues = `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`

func (s *Store) registryTable() string { return quote(s.schemaName) + ".lockstep_registry" }

func registryArgs(r engine.RegistryRecord) []any {
	return []any{r.Env, r.SessionID, r.Runbook, int64(r.Version), r.SHA256, string(r.Mode), string(r.Outcome), r.Operator, r.Host,
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

// registryTx runs fn in a transaction that holds the registry's advisory
// lock, the table created first when missing.
func (s *Store) registryTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('lockstep_registry'))"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(registryDDL, s.registryTable())); err != nil {
			return err
		}
		return fn(tx)
	})
}

// RecordStart inserts r as running, or marks the session's existing row
// running again (a resume), in lockstep_registry (created on first use).
func (s *Store) RecordStart(ctx context.Context, r engine.RegistryRecord) error {
	r.Outcome = engine.OutcomeRunning
	err := s.registryTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "INSERT INTO "+s.registryTable()+" ("+registryCols+") "+registryValues+
			" ON CONFLICT (env, session) DO NOTHING", registryArgs(r)...)
		if err != nil || tag.RowsAffected() == 1 {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE "+s.registryTable()+" SET outcome = $1 WHERE env = $2 AND session = $3",
			string(engine.OutcomeRunning), r.Env, r.SessionID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record start of session %s: %w", r.SessionID, translate(err))
	}
	return nil
}

// RecordEnd records r's end: once per end, a stale one ignored, the same
// events count with another head refused (engine.ErrAnchorConflict).
func (s *Store) RecordEnd(ctx context.Context, r engine.RegistryRecord) error {
	err := s.registryTx(ctx, func(tx pgx.Tx) error {
		var (
			head   string
			events int64
		)
		err := tx.QueryRow(ctx, "SELECT head, events FROM "+s.registryTable()+" WHERE env = $1 AND session = $2",
			r.Env, r.SessionID).Scan(&head, &events)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			_, err = tx.Exec(ctx, "INSERT INTO "+s.registryTable()+" ("+registryCols+") "+registryValues, registryArgs(r)...)
			return err
		case err != nil:
			return err
		case events == r.Events && head != r.Head:
			return fmt.Errorf("%w: session %s event %d is recorded with head %.16s…", engine.ErrAnchorConflict, r.SessionID, events, head)
		case events > r.Events:
			return nil // a stale end
		}
		_, err = tx.Exec(ctx, "UPDATE "+s.registryTable()+` SET outcome = $1, ended = $2, migrated = $3, head = $4, events = $5,
			items_per_sec = $6, avg_item_b = $7 WHERE env = $8 AND session = $9 AND events <= $5`,
			string(r.Outcome), nanosOrZero(r.Ended), r.Migrated, r.Head, r.Events, r.ItemsPerSec, r.AvgItemB, r.Env, r.SessionID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record end of session %s: %w", r.SessionID, translate(err))
	}
	return nil
}

// Registry returns the records of env, newest first; none, and nothing
// written, when the table does not exist.
func (s *Store) Registry(ctx context.Context, env string) ([]engine.RegistryRecord, error) {
	out, err := s.readRegistry(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("read the registry of %s: %w", env, translate(err))
	}
	engine.SortRegistry(out)
	return out, nil
}

func (s *Store) readRegistry(ctx context.Context, env string) ([]engine.RegistryRecord, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", s.registryTable()).Scan(&exists); err != nil || !exists {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, "SELECT "+registryCols+" FROM "+s.registryTable()+" WHERE env = $1", env)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.RegistryRecord
	for rows.Next() {
		var (
			r                       engine.RegistryRecord
			mode, outcome           string
			version, started, ended int64
		)
		if err := rows.Scan(&r.Env, &r.SessionID, &r.Runbook, &version, &r.SHA256, &mode, &outcome, &r.Operator, &r.Host,
			&started, &ended, &r.Migrated, &r.Head, &r.Events, &r.ItemsPerSec, &r.AvgItemB, &r.Journal); err != nil {
			return nil, err
		}
		r.Version, r.Mode, r.Outcome = int(version), engine.Mode(mode), engine.Outcome(outcome)
		r.Started, r.Ended = timeOrZero(started), timeOrZero(ended)
		out = append(out, r)
	}
	return out, rows.Err()
}
