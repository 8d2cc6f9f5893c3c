package journal

import "errors"

// Errors returned by the journal. Unknown sessions are reported with
// engine.ErrNotFound (wrapped), so callers need not import this package to
// test for them; a session another process runs is refused with
// *engine.SessionHeldError.
var (
	// ErrSchemaTooNew: the journal file was written by a newer lockstep
	// whose schema this binary does not know.
	ErrSchemaTooNew = errors.New("journal schema is newer than this lockstep")
	// ErrSchemaTooOld: a read-only open found a schema older than this
	// binary's; a writing command (lockstep run) upgrades it.
	ErrSchemaTooOld = errors.New("journal schema is older than this lockstep")
	// ErrNotJournal: the file exists but is not a lockstep journal (not
	// SQLite at all, or another program's SQLite database).
	ErrNotJournal = errors.New("not a lockstep journal")
	// ErrNoJournal: OpenReadOnly found no file at the path.
	ErrNoJournal = errors.New("no journal file")
	// ErrReadOnly: a write to a journal opened with OpenReadOnly.
	ErrReadOnly = errors.New("journal is open read-only")
	// ErrNoOperator: an event or session without an operator.
	ErrNoOperator = errors.New("operator is required")
	// ErrInvalidEvent: an event without a session or kind, or whose data
	// is not valid JSON.
	ErrInvalidEvent = errors.New("invalid event")
	// ErrSourceMismatch: a session whose runbook source does not hash to
	// its runbook SHA-256.
	ErrSourceMismatch = errors.New("runbook source does not match its sha256")
	// ErrKeyRequired: a keyed session (HMAC chain) read or written without
	// LOCKSTEP_JOURNAL_KEY, or with another key.
	ErrKeyRequired = errors.New("journal key required")
	// ErrUnvouched: a checkpoint or applied row the hash chain does not
	// vouch for (edited, forged, or its session's chain is broken).
	ErrUnvouched = errors.New("journal row not vouched for by the hash chain")
)
