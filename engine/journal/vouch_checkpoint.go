package journal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/lockstep-run/lockstep/engine"
)

// The checkpoints table is a fast index of the cursors the chain already
// holds: SaveCheckpoint writes each row in the same transaction as an
// EvCheckpoint event carrying the same cursor. Nothing hashes the row, so
// resume trusts a row only when the verified chain's latest checkpoint
// event for that step and segment says the same.

// ckKey names one scan segment of a step.
type ckKey struct {
	step    string
	segment int
}

// ckFact is the latest checkpoint event of a segment.
type ckFact struct {
	seq    int64
	cursor []byte
}

func (f *rowFacts) addCheckpoint(ev engine.Event) {
	var d struct {
		Segment *int   `json:"segment"`
		Cursor  []byte `json:"cursor"`
	}
	if json.Unmarshal(ev.Data, &d) != nil || d.Segment == nil {
		return
	}
	if f.cursors == nil {
		f.cursors = map[ckKey]ckFact{}
	}
	f.cursors[ckKey{ev.Step, *d.Segment}] = ckFact{ev.Seq, d.Cursor}
}

// ckRow is one row of the checkpoints table.
type ckRow struct {
	key    ckKey
	cursor []byte
}

func checkpointRows(ctx context.Context, q dbq, sessionID, step string) ([]ckRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT step, segment, cursor FROM checkpoints
		WHERE session = ? AND (? = '' OR step = ?) ORDER BY step, segment`, sessionID, step, step)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ckRow
	for rows.Next() {
		var r ckRow
		if err := rows.Scan(&r.key.step, &r.key.segment, &r.cursor); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// compareCheckpoints returns what differs between the rows and the
// chain's checkpoint events (of step, or of every step when ""), or "".
func compareCheckpoints(rows []ckRow, f rowFacts, step string) string {
	seen := map[ckKey]bool{}
	for _, r := range rows {
		seen[r.key] = true
		fact, ok := f.cursors[r.key]
		switch {
		case !ok:
			return fmt.Sprintf("checkpoint row of step %q segment %d has no checkpoint event (row forged)", r.key.step, r.key.segment)
		case !bytes.Equal(fact.cursor, r.cursor):
			return fmt.Sprintf("checkpoint row of step %q segment %d does not match its checkpoint event (seq %d) (row edited)",
				r.key.step, r.key.segment, fact.seq)
		}
	}
	var missing []ckKey
	for k := range f.cursors {
		if (step == "" || k.step == step) && !seen[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		sort.Slice(missing, func(a, b int) bool {
			return f.cursors[missing[a]].seq < f.cursors[missing[b]].seq
		})
		k := missing[0]
		return fmt.Sprintf("checkpoint event (seq %d) of step %q segment %d has no checkpoint row (row deleted)",
			f.cursors[k].seq, k.step, k.segment)
	}
	return ""
}

// checkCheckpointRows compares every checkpoint row of the session with
// its chain (Verify).
func checkCheckpointRows(ctx context.Context, q dbq, sessionID string, f rowFacts) (string, error) {
	rows, err := checkpointRows(ctx, q, sessionID, "")
	if err != nil {
		return "", fmt.Errorf("read checkpoints: %w", err)
	}
	return compareCheckpoints(rows, f, ""), nil
}

// Checkpoints returns the latest cursor of each segment of the step; an
// empty map when there are none. Each row must be vouched for by the
// session's verified chain (its latest EvCheckpoint event for the
// segment); otherwise it fails with ErrUnvouched, naming the row and
// `lockstep journal verify`, rather than resume from a cursor nobody
// can vouch for.
func (j *Journal) Checkpoints(ctx context.Context, sessionID, step string) (map[int][]byte, error) {
	var (
		rows []ckRow
		f    rowFacts
	)
	err := j.snapshot(ctx, func(q dbq) error {
		var err error
		if rows, err = checkpointRows(ctx, q, sessionID, step); err != nil {
			return err
		}
		_, f, err = j.sessionFacts(ctx, q, sessionID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	if reason := compareCheckpoints(rows, f, step); reason != "" {
		return nil, fmt.Errorf("read checkpoints: %w: session %s: %s: run `lockstep journal verify %s`",
			ErrUnvouched, sessionID, reason, sessionID)
	}
	out := map[int][]byte{}
	for _, r := range rows {
		out[r.key.segment] = r.cursor
	}
	return out, nil
}

// sessionFacts walks the session's chain and returns its header and what
// its events say; a chain that does not hold is ErrUnvouched.
func (j *Journal) sessionFacts(ctx context.Context, q dbq, sessionID string) (header, rowFacts, error) {
	hd, err := readHeader(ctx, q, sessionID)
	if err != nil {
		return header{}, rowFacts{}, err
	}
	hs, err := j.hasherFor(hd.chain)
	if err != nil {
		return header{}, rowFacts{}, fmt.Errorf("session %s: %w", sessionID, err)
	}
	w, err := walkChain(ctx, q, hd, hs)
	if err != nil {
		return header{}, rowFacts{}, fmt.Errorf("session %s: %w", sessionID, err)
	}
	if w.reason != "" {
		return header{}, rowFacts{}, fmt.Errorf("%w: session %s's hash chain does not hold (event seq %d: %s): run `lockstep journal verify %s`",
			ErrUnvouched, sessionID, w.badSeq, w.reason, sessionID)
	}
	return hd, w.facts, nil
}
