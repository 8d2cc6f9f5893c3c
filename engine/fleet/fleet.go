// Package fleet is the control-table protocol of a migrate step run by a
// fleet of worker processes: the fleet record the session writes, one
// row per scan segment, and the claims with fencing through which
// workers share the segments (the pattern of the Kinesis Client
// Library's lease table). It is store-agnostic: a store implements
// Control (engine/store/dynamo's FleetTable). It imports engine and
// runbook only.
package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// Segment states.
const (
	StateOpen    = "open"    // nobody works on it; Cursor says where it resumes
	StateClaimed = "claimed" // a worker holds it (it may have died: see Observer)
	StateDone    = "done"    // scanned to its end; Counts are final
	StateFailed  = "failed"  // stopped by a permanent error (Error)
)

// Errors of the protocol.
var (
	// ErrClaimLost: the segment's claim counter moved on (another worker
	// took it over) or its state changed; the caller must stop writing.
	ErrClaimLost = errors.New("segment claim lost")
	// ErrNotFound: no fleet record with this id.
	ErrNotFound = errors.New("fleet not found")
	// ErrExists: a fleet record with this id exists already.
	ErrExists = errors.New("fleet exists")
	// ErrRunbookChanged: the runbook in the fleet record does not match
	// its SHA-256.
	ErrRunbookChanged = errors.New("fleet runbook does not match its SHA-256")
	// ErrIncomplete: the control table lacks segment rows of the fleet
	// (a record written before all its rows, by an older lockstep).
	ErrIncomplete = errors.New("fleet segment rows missing")
	// ErrWorkersGone: every worker the session launched stopped for good
	// with segments not done.
	ErrWorkersGone = errors.New("fleet workers gone")
)

// Record is the fleet record: what every worker needs to run the step,
// and the operator's controls.
type Record struct {
	ID      string `json:"id"`
	Runbook []byte `json:"-"`      // the runbook file's content
	SHA256  string `json:"sha256"` // of Runbook
	Path    string `json:"path"`   // the runbook's path in the session (for messages and relative paths)
	Step    string `json:"step"`
	Env     string `json:"env"`
	Session string `json:"session"`
	Mode    string `json:"mode"`
	// ExprEnv is the session's expression environment (vars, env,
	// results of earlier steps) as JSON: the workers' expressions see
	// what the session's would.
	ExprEnv  []byte        `json:"-"`
	Segments int           `json:"segments"`
	Workers  int           `json:"workers"`
	Lease    time.Duration `json:"lease"`
	Created  time.Time     `json:"created"`
	Flags
}

// Flags are the operator's controls, acting on the whole fleet.
type Flags struct {
	Rate      int  `json:"rate"` // items/s for the whole fleet; 0: the environment's max_write_rate
	Paused    bool `json:"paused"`
	Cancelled bool `json:"cancelled"`
}

// Share is one worker's part of a fleet-wide rate: rate split evenly
// over the workers (at least 1 item/s; 0 stays unlimited).
func Share(rate, workers int) int {
	if rate <= 0 {
		return 0
	}
	return max(1, rate/max(1, workers))
}

// SHA256 returns the hex SHA-256 of a runbook's content.
func SHA256(content []byte) string {
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:])
}

// Check returns ErrRunbookChanged unless the record's runbook matches
// its SHA-256.
func (r Record) Check() error {
	if SHA256(r.Runbook) != r.SHA256 {
		return ErrRunbookChanged
	}
	return nil
}

// Segment is one scan segment's row.
type Segment struct {
	N       int    `json:"n"`
	State   string `json:"state"`
	Claim   int64  `json:"claim"` // bumped by every claim: the fencing token
	Beat    int64  `json:"beat"`  // bumped by every renewal and checkpoint
	Owner   string `json:"owner,omitempty"`
	Cursor  []byte `json:"cursor,omitempty"`
	Data    []byte `json:"data,omitempty"` // migrate.SegmentRun.Saved
	Counts  engine.MigrateCounts
	Error   string    `json:"error,omitempty"`
	Updated time.Time `json:"updated"` // the owner's wall clock at its last write (shown only)
}

// Checkpoint is what a worker saves into its segment row.
type Checkpoint struct {
	N      int
	Claim  int64
	Cursor []byte
	Data   json.RawMessage
	Counts engine.MigrateCounts
	At     time.Time
}

// Control is the control table, implemented by a store. Every write to
// a segment row after a claim is conditioned on the claim counter.
type Control interface {
	// Create writes the segment rows (StateOpen), then the record;
	// ErrExists when the record is there. The record comes last: one
	// exists only with all its rows, so a Create stopped midway (the
	// session died) is completed by the next, the resumed session's.
	Create(ctx context.Context, r Record) error
	// Record reads the fleet record; ErrNotFound when there is none.
	Record(ctx context.Context, id string) (Record, error)
	// SetFlags replaces the record's operator controls.
	SetFlags(ctx context.Context, id string, f Flags) error
	// Segments reads every segment row, in order (strongly consistent).
	Segments(ctx context.Context, id string) ([]Segment, error)
	// Claim takes seen's segment for owner if its row is still exactly
	// as seen (claim counter and beat) and neither done nor failed: the
	// claim counter and beat go up by one. ErrClaimLost otherwise.
	Claim(ctx context.Context, id string, seen Segment, owner string, at time.Time) (Segment, error)
	// Renew bumps the beat of a segment still held under claim.
	Renew(ctx context.Context, id string, n int, claim int64, at time.Time) error
	// Save checkpoints a segment still held under c.Claim.
	Save(ctx context.Context, id string, c Checkpoint) error
	// Finish sets the final state (StateDone, StateFailed, or StateOpen
	// to give the segment back) of a segment still held under c.Claim,
	// with its last checkpoint and errText.
	Finish(ctx context.Context, id string, c Checkpoint, state, errText string) error
}
