package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

var _ engine.Anchorer = (*Store)(nil)

// anchorDDL is the table of journal anchors (engine.Anchor) in the
// store's database file: one row per session end.
const anchorDDL = `CREATE TABLE IF NOT EXISTS lockstep_anchors (
	runbook TEXT NOT NULL,
	env     TEXT NOT NULL,
	session TEXT NOT NULL,
	events  INTEGER NOT NULL,
	head    TEXT NOT NULL,
	time    INTEGER NOT NULL, -- unix nanoseconds
	PRIMARY KEY (runbook, env, session, events)
)`

// RecordAnchor stores a in lockstep_anchors (created on first use). The
// same anchor again is a no-op; the same session and events count with
// another head fails with engine.ErrAnchorConflict.
func (s *Store) RecordAnchor(ctx context.Context, a engine.Anchor) error {
	if a.Time.IsZero() {
		a.Time = time.Now()
	}
	err := s.ownTableTx(ctx, anchorDDL, func(tx *sql.Tx) error {
		var head string
		err := tx.QueryRowContext(ctx, `SELECT head FROM lockstep_anchors
			WHERE runbook = ? AND env = ? AND session = ? AND events = ?`, a.Runbook, a.Env, a.SessionID, a.Events).Scan(&head)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO lockstep_anchors (runbook, env, session, events, head, time)
				VALUES (?, ?, ?, ?, ?, ?)`, a.Runbook, a.Env, a.SessionID, a.Events, a.Head, a.Time.UnixNano())
			return err
		case err != nil:
			return err
		case head != a.Head:
			return fmt.Errorf("%w: session %s event %d is anchored with head %.16s…", engine.ErrAnchorConflict, a.SessionID, a.Events, head)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record anchor of session %s: %w", a.SessionID, err)
	}
	return nil
}

// Anchors returns the anchors of runbook in env; none, and nothing
// written, when the table does not exist.
func (s *Store) Anchors(ctx context.Context, runbook, env string) ([]engine.Anchor, error) {
	out, err := s.readAnchors(ctx, runbook, env)
	if err != nil {
		return nil, fmt.Errorf("read anchors of %s in %s: %w", runbook, env, err)
	}
	return out, nil
}

func (s *Store) readAnchors(ctx context.Context, runbook, env string) ([]engine.Anchor, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master
		WHERE type = 'table' AND name = 'lockstep_anchors'`).Scan(&n); err != nil || n == 0 {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT session, events, head, time FROM lockstep_anchors
		WHERE runbook = ? AND env = ? ORDER BY time, session, events`, runbook, env)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.Anchor
	for rows.Next() {
		a := engine.Anchor{Runbook: runbook, Env: env}
		var ns int64
		if err := rows.Scan(&a.SessionID, &a.Events, &a.Head, &ns); err != nil {
			return nil, err
		}
		a.Time = time.Unix(0, ns).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}
