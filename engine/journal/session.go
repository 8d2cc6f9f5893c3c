package journal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/lockstep-run/lockstep/engine"
)

// idLayout is the time part of a session id: sortable and readable.
const idLayout = "20060102T150405"

// newSessionID returns "<UTC start, second precision>-<4 random hex digits>",
// e.g. 20261123T193702-4f2a.
func newSessionID(started time.Time) string {
	var b [2]byte
	rand.Read(b[:])
	return started.UTC().Format(idLayout) + "-" + hex.EncodeToString(b[:])
}

// CreateSession stores a new session and returns it with ID (generated
// when empty), Started (now when zero, truncated to microseconds) and
// RunbookSHA256 (computed from RunbookSource when empty) filled in.
// Operator is required; a source that does not hash to RunbookSHA256 is
// refused with ErrSourceMismatch.
func (j *Journal) CreateSession(ctx context.Context, info engine.SessionInfo) (engine.SessionInfo, error) {
	if info.Operator == "" {
		return engine.SessionInfo{}, fmt.Errorf("create session: %w", ErrNoOperator)
	}
	if len(info.RunbookSource) > 0 {
		sum := sha256.Sum256(info.RunbookSource)
		got := hex.EncodeToString(sum[:])
		if info.RunbookSHA256 == "" {
			info.RunbookSHA256 = got
		} else if !strings.EqualFold(info.RunbookSHA256, got) {
			return engine.SessionInfo{}, fmt.Errorf("create session: %w", ErrSourceMismatch)
		}
	}
	if info.Started.IsZero() {
		info.Started = time.Now()
	}
	info.Started = normTime(info.Started)
	info.Ended, info.Outcome, info.Events = time.Time{}, engine.OutcomeRunning, 0
	generated := info.ID == ""
	j.mu.Lock()
	defer j.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if generated {
			info.ID = newSessionID(info.Started)
		}
		err := j.insertSession(ctx, info)
		if err == nil {
			return info, nil
		}
		var se sqlite3.Error
		if !generated || attempt >= 8 || !errors.As(err, &se) || se.ExtendedCode != sqlite3.ErrConstraintPrimaryKey {
			return engine.SessionInfo{}, fmt.Errorf("create session: %w", err)
		}
	}
}

// insertSession stores s as the newest session, linked to the one before
// it (see chain.go), in one transaction.
func (j *Journal) insertSession(ctx context.Context, s engine.SessionInfo) error {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	prev, ordinal, err := predecessor(ctx, tx)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions
		(id, runbook, runbook_path, runbook_sha256, runbook_source, title, env, mode, operator, started,
		 ordinal, chain, prev_session, prev_seq, prev_head)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.Runbook, s.RunbookPath, s.RunbookSHA256, s.RunbookSource, s.Title,
		s.Env, string(s.Mode), s.Operator, formatStoreTime(s.Started),
		ordinal, j.chainFor(), prev.session, prev.seq, prev.hash); err != nil {
		return err
	}
	return tx.Commit()
}

// sessionColumns are read by scanSession, in order; events is the count.
// listColumns leave the runbook source out.
const (
	sessionColumns = `id, runbook, runbook_path, runbook_sha256, runbook_source, title, env, mode,
	operator, started, ended, outcome,
	(SELECT COUNT(*) FROM events e WHERE e.session = sessions.id), head_hash`
	listColumns = `id, runbook, runbook_path, runbook_sha256, NULL, title, env, mode,
	operator, started, ended, outcome,
	(SELECT COUNT(*) FROM events e WHERE e.session = sessions.id), head_hash`
)

type rowScanner interface{ Scan(dest ...any) error }

func scanSession(r rowScanner) (engine.SessionInfo, error) {
	var (
		s             engine.SessionInfo
		mode, outcome string
		started       string
		ended         sql.NullString
		source        []byte
	)
	err := r.Scan(&s.ID, &s.Runbook, &s.RunbookPath, &s.RunbookSHA256, &source, &s.Title,
		&s.Env, &mode, &s.Operator, &started, &ended, &outcome, &s.Events, &s.Head)
	if err != nil {
		return engine.SessionInfo{}, err
	}
	s.Mode, s.Outcome, s.RunbookSource = engine.Mode(mode), engine.Outcome(outcome), source
	if s.Started, err = parseStoreTime(started); err != nil {
		return engine.SessionInfo{}, fmt.Errorf("session %s: started: %w", s.ID, err)
	}
	if ended.Valid {
		if s.Ended, err = parseStoreTime(ended.String); err != nil {
			return engine.SessionInfo{}, fmt.Errorf("session %s: ended: %w", s.ID, err)
		}
	}
	return s, nil
}

// Session returns the session with the given id, with its event count.
func (j *Journal) Session(ctx context.Context, id string) (engine.SessionInfo, error) {
	return readSession(ctx, j.db, id)
}

func readSession(ctx context.Context, q dbq, id string) (engine.SessionInfo, error) {
	row := q.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id)
	s, err := scanSession(row)
	if errors.Is(err, sql.ErrNoRows) {
		return engine.SessionInfo{}, fmt.Errorf("session %q: %w", id, engine.ErrNotFound)
	}
	if err != nil {
		return engine.SessionInfo{}, fmt.Errorf("read session %q: %w", id, err)
	}
	return s, nil
}

// LatestSession returns the newest session matching filter (Limit is
// ignored), with its runbook source, or engine.ErrNotFound wrapped when
// none does.
func (j *Journal) LatestSession(ctx context.Context, filter engine.SessionFilter) (engine.SessionInfo, error) {
	filter.Limit = 1
	list, err := j.ListSessions(ctx, filter)
	if err != nil {
		return engine.SessionInfo{}, err
	}
	if len(list) == 0 {
		return engine.SessionInfo{}, fmt.Errorf("latest session: %w", engine.ErrNotFound)
	}
	return j.Session(ctx, list[0].ID)
}

// ListSessions returns the sessions matching filter, newest first; empty
// filter fields match everything and Limit <= 0 means no limit. The
// runbook source is left out (Session has it).
func (j *Journal) ListSessions(ctx context.Context, filter engine.SessionFilter) ([]engine.SessionInfo, error) {
	var (
		where []string
		args  []any
	)
	for col, v := range map[string]string{"env": filter.Env, "runbook": filter.Runbook,
		"mode": string(filter.Mode), "outcome": string(filter.Outcome)} {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	q := `SELECT ` + listColumns + ` FROM sessions`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY started DESC, id DESC"
	if filter.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, filter.Limit)
	}
	rows, err := j.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []engine.SessionInfo
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// EndSession records when and how the session ended, and gives back the
// session's claim (see ClaimSession). It appends no event: the engine
// appends session.end itself first, and the end time recorded is that
// event's, so Verify can check it. A session that is resumed later (an
// EvSessionResume event) is reopened.
func (j *Journal) EndSession(ctx context.Context, id string, outcome engine.Outcome) error {
	defer j.ReleaseSession(ctx, id)
	if outcome == engine.OutcomeRunning {
		return fmt.Errorf("end session %q: outcome is required", id)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	res, err := j.db.ExecContext(ctx, `UPDATE sessions SET ended = COALESCE(
			(SELECT time FROM events WHERE session = ? AND seq = sessions.head_seq AND kind = ?), ?),
		outcome = ? WHERE id = ?`,
		id, string(engine.EvSessionEnd), formatStoreTime(time.Now()), string(outcome), id)
	if err != nil {
		return fmt.Errorf("end session %q: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("end session %q: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("end session %q: %w", id, engine.ErrNotFound)
	}
	return nil
}
