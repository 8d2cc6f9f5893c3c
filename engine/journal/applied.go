package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// RecordApplied records that a migration reached (or failed to reach) a
// version in an environment. Name, Env and Status are required; Time
// defaults to now; an empty SessionID is stored as NULL, any other must
// name an existing session.
func (j *Journal) RecordApplied(ctx context.Context, a engine.Applied) error {
	if a.Name == "" || a.Env == "" || a.Status == "" {
		return fmt.Errorf("record applied: name, env and status are required")
	}
	if a.Time.IsZero() {
		a.Time = time.Now()
	}
	var session any
	if a.SessionID != "" {
		session = a.SessionID
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.db.ExecContext(ctx, `INSERT INTO applied
		(name, version, env, runbook_sha256, session, mode, status, time)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Name, a.Version, a.Env, a.RunbookSHA256, session, string(a.Mode), a.Status,
		formatStoreTime(a.Time)); err != nil {
		return fmt.Errorf("record applied %s v%d in %s: %w", a.Name, a.Version, a.Env, err)
	}
	return nil
}

// AppliedMigrations returns the applied records of env and name, newest
// first; an empty env or name matches all. Each record must be vouched
// for by its session's verified chain (see vouchApplied); otherwise it
// fails with ErrUnvouched naming the record and `lockstep journal verify`.
func (j *Journal) AppliedMigrations(ctx context.Context, env, name string) ([]engine.Applied, error) {
	var out []engine.Applied
	err := j.snapshot(ctx, func(q dbq) error {
		var err error
		if out, err = appliedRows(ctx, q, env, name, ""); err != nil {
			return err
		}
		v := vouchCache{}
		for _, a := range out {
			reason, err := j.vouchApplied(ctx, q, a, v)
			if err != nil {
				return err
			}
			if reason != "" {
				return fmt.Errorf("%w: %s: %s: run `%s`",
					ErrUnvouched, describeApplied(a), reason, strings.TrimSpace("lockstep journal verify "+a.SessionID))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	return out, nil
}

// appliedRows reads the applied rows of env, name and session ("" matches
// all), newest first.
func appliedRows(ctx context.Context, q dbq, env, name, session string) ([]engine.Applied, error) {
	var (
		where []string
		args  []any
	)
	if env != "" {
		where, args = append(where, "env = ?"), append(args, env)
	}
	if name != "" {
		where, args = append(where, "name = ?"), append(args, name)
	}
	if session != "" {
		where, args = append(where, "session = ?"), append(args, session)
	}
	query := `SELECT name, version, env, runbook_sha256, COALESCE(session, ''), mode, status, time FROM applied`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := q.QueryContext(ctx, query+" ORDER BY time DESC, rowid DESC", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.Applied
	for rows.Next() {
		var (
			a       engine.Applied
			mode, t string
		)
		if err := rows.Scan(&a.Name, &a.Version, &a.Env, &a.RunbookSHA256, &a.SessionID, &mode, &a.Status, &t); err != nil {
			return nil, err
		}
		a.Mode = engine.Mode(mode)
		if a.Time, err = parseStoreTime(t); err != nil {
			return nil, fmt.Errorf("time: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// notFound maps sql.ErrNoRows to engine.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return engine.ErrNotFound
	}
	return err
}
