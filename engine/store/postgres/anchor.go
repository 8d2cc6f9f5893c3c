package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
)

var _ engine.Anchorer = (*Store)(nil)

// anchorDDL is the table of journal anchors (engine.Anchor) in the
// store's schema: one row per session end.
const anchorDDL = `CREATE TABLE IF NOT EXISTS %s (
	runbook text   NOT NULL,
	env     text   NOT NULL,
	session text   NOT NULL,
	events  bigint NOT NULL,
	head    text   NOT NULL,
	time    bigint NOT NULL, -- unix nanoseconds
	PRIMARY KEY (runbook, env, session, events)
)`

func (s *Store) anchorTable() string { return quote(s.schemaName) + ".lockstep_anchors" }

// RecordAnchor stores a in lockstep_anchors (created on first use). The
// same anchor again is a no-op; the same session and events count with
// another head fails with engine.ErrAnchorConflict.
func (s *Store) RecordAnchor(ctx context.Context, a engine.Anchor) error {
	if a.Time.IsZero() {
		a.Time = time.Now()
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('lockstep_anchors'))"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(anchorDDL, s.anchorTable())); err != nil {
			return err
		}
		var head string
		err := tx.QueryRow(ctx, "SELECT head FROM "+s.anchorTable()+" WHERE runbook = $1 AND env = $2 AND session = $3 AND events = $4",
			a.Runbook, a.Env, a.SessionID, a.Events).Scan(&head)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			_, err = tx.Exec(ctx, "INSERT INTO "+s.anchorTable()+" (runbook, env, session, events, head, time) VALUES ($1, $2, $3, $4, $5, $6)",
				a.Runbook, a.Env, a.SessionID, a.Events, a.Head, a.Time.UnixNano())
			return err
		case err != nil:
			return err
		case head != a.Head:
			return fmt.Errorf("%w: session %s event %d is anchored with head %.16s…", engine.ErrAnchorConflict, a.SessionID, a.Events, head)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record anchor of session %s: %w", a.SessionID, translate(err))
	}
	return nil
}

// Anchors returns the anchors of runbook in env; none, and nothing
// written, when the table does not exist.
func (s *Store) Anchors(ctx context.Context, runbook, env string) ([]engine.Anchor, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", s.anchorTable()).Scan(&exists); err != nil || !exists {
		return nil, translate(err)
	}
	rows, err := s.pool.Query(ctx, "SELECT session, events, head, time FROM "+s.anchorTable()+
		" WHERE runbook = $1 AND env = $2 ORDER BY time, session, events", runbook, env)
	if err != nil {
		return nil, fmt.Errorf("read anchors of %s in %s: %w", runbook, env, translate(err))
	}
	defer rows.Close()
	var out []engine.Anchor
	for rows.Next() {
		a := engine.Anchor{Runbook: runbook, Env: env}
		var ns int64
		if err := rows.Scan(&a.SessionID, &a.Events, &a.Head, &ns); err != nil {
			return nil, fmt.Errorf("read anchors of %s in %s: %w", runbook, env, err)
		}
		a.Time = time.Unix(0, ns).UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read anchors of %s in %s: %w", runbook, env, err)
	}
	return out, nil
}
