package engine

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/lockstep-run/lockstep/runbook"
)

// StepStatus is the state of one step in a session.
type StepStatus string

// Step states.
const (
	StepPending     StepStatus = "pending"
	StepRunning     StepStatus = "running"
	StepDone        StepStatus = "done"
	StepFailed      StepStatus = "failed"
	StepSkipped     StepStatus = "skipped" // by the operator (reason) or by a false `when:`
	StepInterrupted StepStatus = "interrupted"
	StepRolledBack  StepStatus = "rolled-back"
)

// StepState is what a front end shows for one step.
type StepState struct {
	Step     *runbook.Step
	Status   StepStatus
	Attempts int
	Started  int64 // unix ms of the last start, 0 if never
	Ended    int64 // unix ms of the end, 0 if not ended
	Reason   string
	Error    string
	// Result is the step's journaled result (step.end), nil if none.
	Result json.RawMessage
	// Checked is the checklist items journaled as ticked (check.tick), by
	// index, in the order ticked. Ticks of earlier attempts still count.
	Checked []int
	// OperatorSkip is set when the operator skipped the step with a reason
	// (as opposed to a false `when:`, a dry-run or an unmet requirement).
	OperatorSkip bool
	// Unmet is set when the runbook skipped the step because one of its
	// requirements (a step's or its phase's `requires:`) was not met.
	Unmet bool
}

// State is a session's state, rebuilt from its events (Replay) and kept up
// to date by the engine as it runs.
type State struct {
	Info    SessionInfo
	Steps   []*StepState // top-level steps in run order
	Paused  bool
	Outcome Outcome
	// Current is the id of the step being executed ("" between steps).
	Current string
	// RollingBack is set between rollback.start and rollback.end.
	RollingBack bool
}

// StepState returns the state of the step with the given id, or nil.
func (s *State) StepState(id string) *StepState {
	for _, st := range s.Steps {
		if st.Step.ID == id {
			return st
		}
	}
	return nil
}

// StoreOpener opens the data store an environment names. cmd supplies the
// one that knows the concrete drivers. A sqlite spec that names no table
// is a database opened for sql steps only (see runSQL): it must return a
// SQLExecer.
type StoreOpener func(ctx context.Context, spec *runbook.StoreSpec) (Store, error)

// Publisher sends a notify step's message to a pub/sub topic (the sns
// channel). cmd supplies the AWS one. Publish returns the broker's id of
// the accepted message, the ack the step records. subject is a one-line
// summary; the implementation adapts it to its broker's limits.
type Publisher interface {
	Publish(ctx context.Context, topic, subject, message string) (messageID string, err error)
}

// Config is everything a session needs. Journal and Prompter are required.
type Config struct {
	Runbook  *runbook.Runbook
	Env      string
	Mode     Mode
	Operator string
	Vars     map[string]string // --var overrides of the runbook's vars
	Yes      bool              // non-interactive consent; refused for protected environments
	Journal  Journal
	Prompter Prompter
	Stores   StoreOpener // nil: data steps fail with a clear error
	Clock    Clock       // nil: SystemClock
	Getenv   func(string) string
	// Environ lists the process environment as KEY=value (nil:
	// os.Environ); the values of its credential variables are redacted.
	Environ func() []string
	// Observer, when set, receives every event after it has been journaled,
	// plus transient ones (live progress) that are not. It must not block.
	Observer func(Event)
	// Stdout receives notify steps' stdout channel (default os.Stdout).
	Stdout io.Writer
	// Publisher sends notify steps' sns channel; nil: such steps fail
	// with ErrConfig.
	Publisher Publisher
	// WorkDir holds backups and exports (default: a directory next to the journal).
	WorkDir string
	// Steps are the step kinds the session can run, each with its
	// executor and traits. Required: engine/steps.Default() builds the
	// built-in table (engine cannot import it).
	Steps StepKinds
	// LintRules are the rules the session.start event's lint_ignored is
	// checked with: the front end's full table, so that a reasoned ignore
	// of a store-specific rule is journaled too (nil: runbook.DefaultRules()).
	LintRules *runbook.Rules
	// StepByStep asks before each automated step whether to run it or
	// skip it with a reason (run --step), like ansible-playbook --step.
	StepByStep bool
}

// Command is an operator request to a running session, delivered with
// Session.Control. The engine journals it before acting on it.
type Command struct {
	Kind CommandKind
	Text string // note text, abort reason, rollback reason
}

// CommandKind names a Command.
type CommandKind string

// Operator commands.
const (
	CmdPause    CommandKind = "pause"    // stop at the next safe point (batch boundary / between steps)
	CmdContinue CommandKind = "continue" // resume after a pause
	CmdAbort    CommandKind = "abort"    // finish in-flight writes, checkpoint, end as aborted
	CmdRollback CommandKind = "rollback" // run rollback: steps of completed steps in reverse
	CmdNote     CommandKind = "note"     // journal a note / learning
	CmdRate     CommandKind = "rate"     // change max write rate (Text holds items/s)
)

// Session errors. What reaches the operator names the cause and a hint.
var (
	// ErrNotImplemented marks engine entry points not yet built.
	ErrNotImplemented = errors.New("not implemented")
	// ErrConfig: a required Config field is missing or invalid.
	ErrConfig = errors.New("invalid session config")
	// ErrProtectedYes: --yes was given for a protected environment.
	ErrProtectedYes = errors.New("--yes is refused for a protected environment: type the environment name to confirm")
	// ErrEnvConfirm: the typed environment name did not match.
	ErrEnvConfirm = errors.New("environment confirmation does not match")
	// ErrOutsideWindow: a protected environment was started outside its window.
	ErrOutsideWindow = errors.New("outside the environment's change window")
	// ErrRunbookChanged: resume was given a runbook whose SHA-256 differs
	// from the one the session started with.
	ErrRunbookChanged = errors.New("runbook changed since the session started")
	// ErrSessionEnded: the session already ended for good (completed,
	// aborted or rolled back) and cannot be resumed.
	ErrSessionEnded = errors.New("session already ended")
	// ErrReasonRequired: a skip, mark-done, decision or approval came without a reason.
	ErrReasonRequired = errors.New("a reason is required")
	// ErrInvalidAnswer: an answer was not one of the allowed values.
	ErrInvalidAnswer = errors.New("invalid answer")
	// ErrNoExecutor: no executor is registered for a step kind.
	ErrNoExecutor = errors.New("no executor for step kind")
	// ErrNoStore: the environment has no store, or no StoreOpener was configured.
	ErrNoStore = errors.New("no data store")
	// ErrNotSQL: the store does not implement SQLExecer.
	ErrNotSQL = errors.New("store does not speak SQL")
	// ErrRunning: Run was called twice.
	ErrRunning = errors.New("session already running")
)
