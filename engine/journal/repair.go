package journal

import (
	"context"
	"fmt"

	"github.com/lockstep-run/lockstep/engine"
)

// repairEnds brings up to date the session rows that lag their chain: a
// session whose last event is the session.end that ended it, but whose
// row still shows it running. Older lockstep versions appended
// session.end and recorded the end in the row in two transactions, so a
// crash between the two left such a row; the chain is the truth, so the
// row is set from the session.end event — only after the session's chain
// is verified. Sessions whose chain does not hold are left for `lockstep
// journal verify` to report.
func (j *Journal) repairEnds(ctx context.Context) error {
	ids, err := j.laggingEnds(ctx)
	if err != nil {
		return fmt.Errorf("repair session ends: %w", err)
	}
	for _, id := range ids {
		hd, f, err := j.sessionFacts(ctx, j.db, id)
		if err != nil {
			continue // not vouched for, or keyed without the key: verify says why
		}
		if !repairable(engine.SessionInfo{}, hd, f) {
			continue
		}
		if err := j.repairEnd(ctx, hd, f); err != nil {
			return fmt.Errorf("repair session %s: %w", id, err)
		}
	}
	return nil
}

// laggingEnds returns the sessions shown running whose last event is a
// session.end.
func (j *Journal) laggingEnds(ctx context.Context) ([]string, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT s.id FROM sessions s
		JOIN events e ON e.session = s.id AND e.seq = s.head_seq
		WHERE e.kind = ? AND s.outcome = ''`, string(engine.EvSessionEnd))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// repairEnd records the session's end from its chain, unless another
// process wrote to the session meanwhile.
func (j *Journal) repairEnd(ctx context.Context, hd header, f rowFacts) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	_, err := j.db.ExecContext(ctx, `UPDATE sessions SET outcome = ?, ended = ?
		WHERE id = ? AND outcome = '' AND head_seq = ? AND head_hash = ?`,
		string(f.outcome), formatStoreTime(f.endTime), hd.info.ID, hd.headSeq, hd.headHash)
	return err
}
