package journal

import (
	"context"

	"github.com/lockstep-run/lockstep/engine"
)

var _ engine.CheckpointProber = (*Journal)(nil)

// ProbeCheckpoint implements engine.CheckpointProber: it goes through
// SaveCheckpoint's group commit — the upsert and the checkpoint event, in
// a synchronous=FULL transaction shared with the other segments' — but
// inside a savepoint rolled back before the commit (saveCheckpointTx), so
// the commit writes and syncs the pages it dirtied, restored, and the
// journal keeps nothing: no checkpoint, no event, the hash chain as it
// was. The estimate's write probe pays each page's checkpoint so.
func (j *Journal) ProbeCheckpoint(ctx context.Context, sessionID, step string, segment int, cursor []byte, data any) error {
	return j.saveCheckpoint(ctx, sessionID, step, segment, cursor, data, true)
}
