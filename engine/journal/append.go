package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// Append stores ev durably and returns it as stored: Seq (1-based, dense
// per session), Time (now when zero; UTC, truncated to microseconds),
// PrevHash and Hash assigned. Operator and Kind are required and Data, when
// present, must be valid JSON. Appending EvSessionResume reopens an ended
// session (clears its end time and outcome).
func (j *Journal) Append(ctx context.Context, ev engine.Event) (engine.Event, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return engine.Event{}, fmt.Errorf("append event: %w", err)
	}
	// Once begun, an append runs to its commit: a cancellation arriving
	// mid-transaction would roll it back behind our back (database/sql)
	// and leave the caller unsure whether the event exists.
	ctx = context.WithoutCancel(ctx)
	tx, err := j.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see dsn)
	if err != nil {
		return engine.Event{}, fmt.Errorf("append event: %w", err)
	}
	defer tx.Rollback()
	if err := validateEvent(ev); err != nil {
		return engine.Event{}, fmt.Errorf("append event: %w", err)
	}
	stored, err := j.appendTx(ctx, tx, ev)
	if err != nil {
		return engine.Event{}, fmt.Errorf("append event: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return engine.Event{}, fmt.Errorf("append event: commit: %w", err)
	}
	return stored, nil
}

// appendTx appends ev inside tx, which must hold the write lock. The
// caller has validated ev (validateEvent; a checkpoint's data is valid
// JSON by construction, and checking 30 KB of a page's intent again cost
// as much as hashing it).
func (j *Journal) appendTx(ctx context.Context, tx *sql.Tx, ev engine.Event) (engine.Event, error) {
	hd, err := readHeader(ctx, tx, ev.SessionID)
	if err != nil {
		return engine.Event{}, err
	}
	hs, err := j.hasherFor(hd.chain)
	if err != nil {
		return engine.Event{}, fmt.Errorf("session %q: %w", ev.SessionID, err)
	}
	ev.Seq = hd.headSeq + 1
	ev.PrevHash = hd.headHash
	if hd.headSeq == 0 {
		ev.PrevHash = hd.hash(hs)
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Time = normTime(ev.Time)
	text := string(ev.Data) // hashed and stored: one copy of a large intent
	ev.Hash = hs.eventText(ev, text)

	var data any // NULL when the event has no data
	if len(text) > 0 {
		data = text
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO events
		(session, seq, time, step, kind, operator, data, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.SessionID, ev.Seq, formatStoreTime(ev.Time), ev.Step, string(ev.Kind), ev.Operator,
		data, ev.PrevHash, ev.Hash); err != nil {
		return engine.Event{}, fmt.Errorf("insert event: %w", err)
	}
	// session.end records the end in the session row in the same
	// transaction, so no crash can leave a row that lags its chain.
	reopen := ev.Kind == engine.EvSessionResume
	endTime, outcome := "", endOutcome(ev)
	if outcome != engine.OutcomeRunning {
		endTime = formatStoreTime(ev.Time)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET head_seq = ?, head_hash = ?,
		ended = CASE WHEN ? THEN NULL WHEN ? != '' THEN ? ELSE ended END,
		outcome = CASE WHEN ? THEN '' WHEN ? != '' THEN ? ELSE outcome END
		WHERE id = ?`, ev.Seq, ev.Hash, reopen, endTime, endTime, reopen, string(outcome), string(outcome),
		ev.SessionID); err != nil {
		return engine.Event{}, fmt.Errorf("update session head: %w", err)
	}
	return ev, nil
}

// endOutcome is the outcome a session.end event records, or
// OutcomeRunning for any other event (or one without an outcome).
func endOutcome(ev engine.Event) engine.Outcome {
	if ev.Kind != engine.EvSessionEnd {
		return engine.OutcomeRunning
	}
	var d struct {
		Outcome engine.Outcome `json:"outcome"`
	}
	if json.Unmarshal(ev.Data, &d) != nil {
		return engine.OutcomeRunning
	}
	return d.Outcome
}

// validateEvent checks what Append requires of ev.
func validateEvent(ev engine.Event) error {
	if err := validateFields(ev); err != nil {
		return err
	}
	if len(ev.Data) > 0 && !json.Valid(ev.Data) {
		return fmt.Errorf("%w: data is not valid JSON", ErrInvalidEvent)
	}
	return nil
}

// validateFields is validateEvent without the check of the data, for
// events whose data the journal encoded itself.
func validateFields(ev engine.Event) error {
	switch {
	case ev.Operator == "":
		return ErrNoOperator
	case ev.SessionID == "":
		return fmt.Errorf("%w: no session id", ErrInvalidEvent)
	case ev.Kind == "":
		return fmt.Errorf("%w: no kind", ErrInvalidEvent)
	}
	return nil
}

// Events returns the session's events in seq order, or engine.ErrNotFound
// wrapped for an unknown session.
func (j *Journal) Events(ctx context.Context, sessionID string) ([]engine.Event, error) {
	if _, err := j.Session(ctx, sessionID); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	evs, err := readEvents(ctx, j.db, sessionID, nil)
	if err != nil {
		return nil, fmt.Errorf("read events of %q: %w", sessionID, err)
	}
	return evs, nil
}

// EventsOfKind returns sessionID's events of the given kinds, in order.
// A reader that wants a few kinds — the learnings lint prints are notes —
// reads and decodes only those rows, not every progress event of every
// migration in the journal.
func (j *Journal) EventsOfKind(ctx context.Context, sessionID string, kinds ...engine.EventKind) ([]engine.Event, error) {
	if _, err := j.Session(ctx, sessionID); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	evs, err := readEvents(ctx, j.db, sessionID, kinds)
	if err != nil {
		return nil, fmt.Errorf("read %v events of %q: %w", kinds, sessionID, err)
	}
	return evs, nil
}

// readEvents reads sessionID's events in order, only those of kinds
// when kinds is not empty.
func readEvents(ctx context.Context, db *sql.DB, sessionID string, kinds []engine.EventKind) ([]engine.Event, error) {
	q, args := `SELECT session, seq, time, step, kind, operator, data, prev_hash, hash
		FROM events WHERE session = ?`, []any{sessionID}
	if len(kinds) > 0 {
		q += " AND kind IN (?" + strings.Repeat(", ?", len(kinds)-1) + ")"
		for _, k := range kinds {
			args = append(args, string(k))
		}
	}
	rows, err := db.QueryContext(ctx, q+" ORDER BY seq", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.Event
	for rows.Next() {
		var (
			ev   engine.Event
			t    string
			kind string
			data sql.NullString
		)
		if err := rows.Scan(&ev.SessionID, &ev.Seq, &t, &ev.Step, &kind, &ev.Operator, &data,
			&ev.PrevHash, &ev.Hash); err != nil {
			return nil, err
		}
		ev.Kind = engine.EventKind(kind)
		if data.Valid && data.String != "" {
			ev.Data = []byte(data.String)
		}
		if ev.Time, err = parseStoreTime(t); err != nil {
			return nil, fmt.Errorf("event %d: time: %w", ev.Seq, err)
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}
