package journal

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// SaveCheckpoint upserts the cursor of one scan segment of a step and, in
// the same transaction, appends an EvCheckpoint event whose data is
// {"segment": n, "cursor": base64, …data} — data's fields merged in when
// it encodes to a JSON object (segment and cursor win), else kept under
// "data". The event's operator is the operator of the session's latest
// event (the one who resumed it, if anyone did), else the session's.
//
// Checkpoints saved concurrently (one per migrate segment) are committed
// together: while one transaction commits, the next callers queue, and
// the first of them then commits the whole queue in one transaction — one
// fsync for several pages. Each caller returns once its own checkpoint is
// durable (or failed).
func (j *Journal) SaveCheckpoint(ctx context.Context, sessionID, step string, segment int, cursor []byte, data any) error {
	return j.saveCheckpoint(ctx, sessionID, step, segment, cursor, data, false)
}

// saveCheckpoint queues one checkpoint for the group commit; a probe's
// is undone before its transaction commits (ProbeCheckpoint).
func (j *Journal) saveCheckpoint(ctx context.Context, sessionID, step string, segment int, cursor []byte, data any, probe bool) error {
	payload, err := checkpointData(segment, cursor, data)
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	// As in Append: once queued, the checkpoint and its event commit
	// together whatever happens to ctx; a page whose writes are done is
	// worth recording.
	req := &checkpointReq{session: sessionID, step: step, segment: segment, cursor: cursor,
		payload: payload, probe: probe, done: make(chan checkpointResult, 1)}
	if j.ck.enqueue(req) {
		j.commitQueued()
	}
	for {
		r := <-req.done
		if !r.lead {
			return r.err
		}
		j.commitQueued()
	}
}

// checkpointReq is one SaveCheckpoint call waiting for its commit.
type checkpointReq struct {
	session, step string
	segment       int
	cursor        []byte
	payload       json.RawMessage
	probe         bool // undone before the commit (ProbeCheckpoint)
	done          chan checkpointResult
}

// checkpointResult answers a queued request: its commit's outcome, or
// lead: commit the queue now.
type checkpointResult struct {
	err  error
	lead bool
}

// checkpointQueue is the group commit's state.
type checkpointQueue struct {
	mu      sync.Mutex
	pending []*checkpointReq
	busy    bool // a caller is committing
}

// enqueue adds r and reports whether its caller must commit the queue.
func (q *checkpointQueue) enqueue(r *checkpointReq) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, r)
	if q.busy {
		return false
	}
	q.busy = true
	return true
}

// commitQueued commits every queued checkpoint in one transaction,
// answers their callers, and hands the next commit to the first caller
// that queued meanwhile.
func (j *Journal) commitQueued() {
	j.ck.mu.Lock()
	batch := j.ck.pending
	j.ck.pending = nil
	j.ck.mu.Unlock()
	if err := j.saveCheckpoints(batch); err == nil || len(batch) == 1 {
		for _, r := range batch {
			r.done <- checkpointResult{err: err}
		}
	} else {
		// One bad request must not fail the others: commit each alone.
		for _, r := range batch {
			r.done <- checkpointResult{err: j.saveCheckpoints([]*checkpointReq{r})}
		}
	}
	j.ck.mu.Lock()
	if len(j.ck.pending) > 0 {
		j.ck.pending[0].done <- checkpointResult{lead: true}
	} else {
		j.ck.busy = false
	}
	j.ck.mu.Unlock()
}

// saveCheckpoints upserts each checkpoint and appends its event, in
// order, in one transaction.
func (j *Journal) saveCheckpoints(batch []*checkpointReq) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	ctx := context.Background()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	defer tx.Rollback()
	operators := map[string]string{}
	for _, r := range batch {
		if err := j.saveCheckpointTx(ctx, tx, r, operators); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save checkpoint: commit: %w", err)
	}
	return nil
}

// saveCheckpointTx upserts r's checkpoint and appends its event in tx;
// operators caches each session's current operator. A probe's writes
// run in a savepoint rolled back at once: the transaction's commit then
// writes and syncs the pages they dirtied, restored, and keeps nothing.
func (j *Journal) saveCheckpointTx(ctx context.Context, tx *sql.Tx, r *checkpointReq, operators map[string]string) error {
	if !r.probe {
		return j.writeCheckpointTx(ctx, tx, r, operators)
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT lockstep_probe"); err != nil {
		return fmt.Errorf("probe checkpoint: %w", err)
	}
	if err := j.writeCheckpointTx(ctx, tx, r, map[string]string{}); err != nil {
		return fmt.Errorf("probe %w", err)
	}
	for _, q := range []string{"ROLLBACK TO lockstep_probe", "RELEASE lockstep_probe"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("probe checkpoint: %w", err)
		}
	}
	return nil
}

// writeCheckpointTx is saveCheckpointTx's upsert and event.
func (j *Journal) writeCheckpointTx(ctx context.Context, tx *sql.Tx, r *checkpointReq, operators map[string]string) error {
	operator, ok := operators[r.session]
	if !ok {
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(
			(SELECT operator FROM events WHERE session = s.id ORDER BY seq DESC LIMIT 1), s.operator)
			FROM sessions s WHERE s.id = ?`, r.session).Scan(&operator)
		if err != nil {
			return fmt.Errorf("save checkpoint: session %q: %w", r.session, notFound(err))
		}
		operators[r.session] = operator
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (session, step, segment, cursor, updated)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (session, step, segment) DO UPDATE SET cursor = excluded.cursor, updated = excluded.updated`,
		r.session, r.step, r.segment, r.cursor, formatStoreTime(time.Now())); err != nil {
		return fmt.Errorf("save checkpoint: upsert: %w", err)
	}
	ev := engine.Event{SessionID: r.session, Step: r.step, Kind: engine.EvCheckpoint, Operator: operator, Data: r.payload}
	if err := validateFields(ev); err != nil { // r.payload is JSON: checkpointData encoded it
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if _, err := j.appendTx(ctx, tx, ev); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// checkpointData encodes a checkpoint event's data in one pass:
// {"segment": n, "cursor": base64, …data's members} when data encodes to
// an object, {"segment", "cursor", "data": data} when it does not. data's
// members are spliced in as encoded (a migrate page's intent holds a
// hash of each of its keys: decoding and encoding it again cost more
// than the rest of the checkpoint); only data that holds a "segment" or
// "cursor" key (they win over data's) goes through a map.
func checkpointData(segment int, cursor []byte, data any) (json.RawMessage, error) {
	head, err := json.Marshal(struct {
		Segment int    `json:"segment"`
		Cursor  []byte `json:"cursor"`
	}{segment, cursor})
	if err != nil {
		return nil, fmt.Errorf("encode cursor: %w", err)
	}
	if data == nil {
		return head, nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode data: %w", err)
	}
	members, err := dataMembers(b)
	if err != nil {
		return nil, fmt.Errorf("encode data: %w", err)
	}
	if len(members) == 0 {
		return head, nil
	}
	out := make([]byte, 0, len(head)+1+len(members))
	out = append(append(append(out, head[:len(head)-1]...), ','), members...)
	return append(out, '}'), nil
}

// dataMembers returns the members that data's encoding b adds beside
// segment and cursor, without the braces: b's own when b is an object
// (less segment and cursor), else b as "data".
func dataMembers(b []byte) ([]byte, error) {
	if b[0] != '{' { // json.Marshal's output is compact
		return append([]byte(`"data":`), b...), nil
	}
	if !bytes.Contains(b, []byte(`"segment":`)) && !bytes.Contains(b, []byte(`"cursor":`)) {
		return b[1 : len(b)-1], nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	delete(m, "segment")
	delete(m, "cursor")
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return b[1 : len(b)-1], nil
}
