package journal

import "errors"

// Errors returned by the journal. Unknown sessions are reported with
// engine.ErrNotFound (wrapped), so callers need not import this package to
// test for them.
var (
	// ErrSchemaTooNew: the journal file was written by a newer lockstep
	// whose schema this binary does not know.
	ErrSchemaTooNew = errors.New("journal schema is newer than this lockstep")
	// ErrNoOperator: an event or session without an operator.
	ErrNoOperator = errors.New("operator is required")
	// ErrInvalidEvent: an event without a session or kind, or whose data
	// is not valid JSON.
	ErrInvalidEvent = errors.New("invalid event")
	// ErrSourceMismatch: a session whose runbook source does not hash to
	// its runbook SHA-256.
	ErrSourceMismatch = errors.New("runbook source does not match its sha256")
)
