package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// SaveCheckpoint upserts the cursor of one scan segment of a step and, in
// the same transaction, appends an EvCheckpoint event whose data is
// {"segment": n, "cursor": base64, …data} — data's fields merged in when
// it encodes to a JSON object (segment and cursor win), else kept under
// "data". The event's operator is the operator of the session's latest
// event (the one who resumed it, if anyone did), else the session's.
func (j *Journal) SaveCheckpoint(ctx context.Context, sessionID, step string, segment int, cursor []byte, data any) error {
	payload, err := checkpointData(segment, cursor, data)
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	// As in Append: once begun, the checkpoint and its event commit
	// together; a page whose writes are done is worth recording.
	ctx = context.WithoutCancel(ctx)
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	defer tx.Rollback()
	var operator string
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(
		(SELECT operator FROM events WHERE session = s.id ORDER BY seq DESC LIMIT 1), s.operator)
		FROM sessions s WHERE s.id = ?`, sessionID).Scan(&operator)
	if err != nil {
		return fmt.Errorf("save checkpoint: session %q: %w", sessionID, notFound(err))
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (session, step, segment, cursor, updated)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (session, step, segment) DO UPDATE SET cursor = excluded.cursor, updated = excluded.updated`,
		sessionID, step, segment, cursor, formatStoreTime(time.Now())); err != nil {
		return fmt.Errorf("save checkpoint: upsert: %w", err)
	}
	ev := engine.Event{SessionID: sessionID, Step: step, Kind: engine.EvCheckpoint, Operator: operator, Data: payload}
	if _, err := appendTx(ctx, tx, ev); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save checkpoint: commit: %w", err)
	}
	return nil
}

func checkpointData(segment int, cursor []byte, data any) (json.RawMessage, error) {
	m := map[string]any{}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return nil, fmt.Errorf("encode data: %w", err)
		}
		if json.Unmarshal(b, &m) != nil || m == nil {
			m = map[string]any{"data": json.RawMessage(b)}
		}
	}
	m["segment"], m["cursor"] = segment, cursor // []byte encodes as base64
	return json.Marshal(m)
}

// Checkpoints returns the latest cursor of each segment of the step; an
// empty map when there are none.
func (j *Journal) Checkpoints(ctx context.Context, sessionID, step string) (map[int][]byte, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT segment, cursor FROM checkpoints
		WHERE session = ? AND step = ?`, sessionID, step)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	defer rows.Close()
	out := map[int][]byte{}
	for rows.Next() {
		var seg int
		var cur []byte
		if err := rows.Scan(&seg, &cur); err != nil {
			return nil, fmt.Errorf("read checkpoints: %w", err)
		}
		out[seg] = cur
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	return out, nil
}
