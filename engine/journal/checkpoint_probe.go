package journal

import (
	"context"
	"fmt"

	"github.com/lockstep-run/lockstep/engine"
)

var _ engine.CheckpointProber = (*Journal)(nil)

// ProbeCheckpoint implements engine.CheckpointProber: it does what
// SaveCheckpoint does — the upsert and the checkpoint event, in a
// synchronous=FULL transaction — inside a savepoint it rolls back before
// committing, so the commit writes and syncs the pages it dirtied,
// restored, and the journal keeps nothing: no checkpoint, no event, the
// hash chain as it was. The estimate's write probe pays each page's
// checkpoint so.
func (j *Journal) ProbeCheckpoint(ctx context.Context, sessionID, step string, segment int, cursor []byte, data any) error {
	payload, err := checkpointData(segment, cursor, data)
	if err != nil {
		return fmt.Errorf("probe checkpoint: %w", err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("probe checkpoint: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SAVEPOINT lockstep_probe"); err != nil {
		return fmt.Errorf("probe checkpoint: %w", err)
	}
	r := &checkpointReq{session: sessionID, step: step, segment: segment, cursor: cursor, payload: payload}
	if err := j.saveCheckpointTx(ctx, tx, r, map[string]string{}); err != nil {
		return fmt.Errorf("probe %w", err)
	}
	for _, q := range []string{"ROLLBACK TO lockstep_probe", "RELEASE lockstep_probe"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("probe checkpoint: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("probe checkpoint: commit: %w", err)
	}
	return nil
}
