package engine

import "context"

// WriteRollbacker is implemented by the SQL stores, whose writes all run
// in transactions: under a context from WithRolledBackWrites, each write
// transaction runs its statements in a savepoint, rolls back to it and
// commits what is left — nothing — and reports what the statements did
// as if they had been kept. The estimate's write probe runs a migrate
// step's own pages that way: the same statements, page size and
// concurrency, and the commit's cost, nothing kept.
type WriteRollbacker interface {
	// RollsBackWrites marks a store that honours WithRolledBackWrites on
	// every path migrate writes through (Update, UpdateBatch,
	// PushdownPage).
	RollsBackWrites()
}

type rolledBackKey struct{}

// WithRolledBackWrites returns a context under which a WriteRollbacker
// rolls every write transaction back.
func WithRolledBackWrites(ctx context.Context) context.Context {
	return context.WithValue(ctx, rolledBackKey{}, true)
}

// RolledBackWrites reports whether writes under ctx must roll back.
func RolledBackWrites(ctx context.Context) bool {
	v, _ := ctx.Value(rolledBackKey{}).(bool)
	return v
}

// CheckpointProber is implemented by journals that can pay a migrate
// checkpoint's cost without keeping it: ProbeCheckpoint does what
// SaveCheckpoint does, durably committed, yet leaves no checkpoint and
// no event. The estimate's write probe checkpoints each page through it,
// as migrate does before writing one.
type CheckpointProber interface {
	ProbeCheckpoint(ctx context.Context, sessionID, step string, segment int, cursor []byte, data any) error
}
