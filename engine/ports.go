package engine

import (
	"context"
	"errors"
	"time"
)

// Mode is how a session treats writes.
type Mode string

// The three modes.
const (
	ModeLive      Mode = "live"
	ModeRehearsal Mode = "rehearsal"
	ModeDryRun    Mode = "dry-run"
)

// Outcome is how a session ended.
type Outcome string

// Session outcomes; "" while running.
const (
	OutcomeRunning    Outcome = ""
	OutcomeCompleted  Outcome = "completed"
	OutcomeFailed     Outcome = "failed"
	OutcomeAborted    Outcome = "aborted"
	OutcomeStopped    Outcome = "stopped" // paused, quit or interrupted: resumable
	OutcomeRolledBack Outcome = "rolled-back"
)

// SessionInfo describes a session row of the journal.
type SessionInfo struct {
	ID            string    `json:"id"`
	Runbook       string    `json:"runbook"`      // runbook name
	RunbookPath   string    `json:"runbook_path"` // file it was read from
	RunbookSHA256 string    `json:"runbook_sha256"`
	RunbookSource []byte    `json:"-"` // kept so resume runs exactly what was started
	Title         string    `json:"title"`
	Env           string    `json:"env"`
	Mode          Mode      `json:"mode"`
	Operator      string    `json:"operator"`
	Started       time.Time `json:"started"`
	Ended         time.Time `json:"ended,omitzero"`
	Outcome       Outcome   `json:"outcome"`
	Events        int64     `json:"events"`
	Head          string    `json:"-"` // hash of the last event (kept out of the documented JSON outputs)
}

// SessionFilter narrows ListSessions; empty fields match everything.
type SessionFilter struct {
	Env     string
	Runbook string
	Mode    Mode
	Outcome Outcome
	Limit   int
}

// Applied records a migration applied to an environment.
type Applied struct {
	Name          string    `json:"name"`
	Version       int       `json:"version"`
	Env           string    `json:"env"`
	RunbookSHA256 string    `json:"runbook_sha256"`
	SessionID     string    `json:"session"`
	Mode          Mode      `json:"mode"`
	Status        string    `json:"status"` // completed | rolled-back | failed
	Time          time.Time `json:"time"`
}

// VerifyResult is the outcome of checking a session's hash chain.
type VerifyResult struct {
	SessionID string `json:"session"`
	Events    int64  `json:"events"`
	OK        bool   `json:"ok"`
	BadSeq    int64  `json:"bad_seq,omitempty"` // first event whose hash or link does not match
	Reason    string `json:"reason,omitempty"`
	// Repairable: not tampering — the session row lags a chain that
	// explains it (a crash between session.end and the row update); the
	// next write to the journal repairs it.
	Repairable bool `json:"repairable,omitempty"`
	// NeedsKey: the session is keyed (HMAC) and could not be checked
	// without its key.
	NeedsKey bool `json:"needs_key,omitempty"`
}

// Journal is the append-only, hash-chained record of sessions. Append must
// have durably committed the event when it returns: the engine acts only
// after that.
type Journal interface {
	CreateSession(ctx context.Context, info SessionInfo) (SessionInfo, error)
	Session(ctx context.Context, id string) (SessionInfo, error)
	// LatestSession returns the most recent session (any outcome) when id is "".
	LatestSession(ctx context.Context, filter SessionFilter) (SessionInfo, error)
	ListSessions(ctx context.Context, filter SessionFilter) ([]SessionInfo, error)
	// Append assigns Seq, Time (if zero), PrevHash and Hash, commits, and
	// returns the stored event.
	Append(ctx context.Context, ev Event) (Event, error)
	Events(ctx context.Context, sessionID string) ([]Event, error)
	// EndSession records the end in the session row (appending
	// EvSessionEnd must already have, atomically) and releases the claim.
	EndSession(ctx context.Context, id string, outcome Outcome) error
	Verify(ctx context.Context, sessionID string) (VerifyResult, error)
	// SaveCheckpoint stores the resumable cursor of one scan segment of a
	// step (and appends an EvCheckpoint event in the same transaction).
	SaveCheckpoint(ctx context.Context, sessionID, step string, segment int, cursor []byte, data any) error
	// Checkpoints returns the step's cursors, each vouched for by the
	// session's hash chain: a row the chain does not vouch for is an
	// error, never a cursor to resume from.
	Checkpoints(ctx context.Context, sessionID, step string) (map[int][]byte, error)
	RecordApplied(ctx context.Context, a Applied) error
	// AppliedMigrations returns applied records, newest first, each
	// vouched for by its session's hash chain (else an error naming it).
	AppliedMigrations(ctx context.Context, env, name string) ([]Applied, error)
	// ClaimSession takes the session for this process, so that no other
	// process resumes it while it runs. The claim lasts until EndSession or
	// ReleaseSession for the id, or Close — or until the process dies,
	// however it dies (kill -9 included): the operating system drops it.
	// A session another live process holds is refused with a
	// *SessionHeldError (errors.Is ErrSessionHeld) naming the holder.
	// Claiming a session this Journal already holds succeeds.
	ClaimSession(ctx context.Context, id string, owner SessionOwner) error
	// ReleaseSession gives a claim back; a no-op when not held.
	ReleaseSession(ctx context.Context, id string) error
	// SessionHolder reports who holds the session when a live process
	// does (ok false when none does).
	SessionHolder(ctx context.Context, id string) (owner SessionOwner, ok bool, err error)
	Close() error
}

// Clock is the engine's source of time: every wall-clock read and every
// wait the engine does on its own account (wait steps, lease heartbeats,
// takeover waits, backoffs) goes through it, so a test can move time
// instead of sleeping. Durations measured for performance figures
// (items/s, elapsed_ms) and the pacing of writes against a real store stay
// on the process's monotonic clock: they measure the real world.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives the time once d has passed
	// on this clock (at once when d <= 0). The channel is buffered and
	// needs no stopping: an abandoned one is garbage collected.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Sleep waits d on c (nil: the system clock), or until ctx is done (its
// error then).
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if c == nil {
		c = SystemClock{}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(d):
		return nil
	}
}

// Errors shared by the ports.
var (
	// ErrNotFound is returned by a Journal for an unknown session.
	ErrNotFound = errors.New("not found")
	// ErrNoAnswer is returned by a Prompter that cannot obtain an answer
	// (plain mode without one in the answers file). Wrapped in *MissingAnswerError.
	ErrNoAnswer = errors.New("no answer")
	// ErrQuit is returned by a Prompter when the operator quits: the session
	// stops resumably.
	ErrQuit = errors.New("quit")
)
