package engine

import (
	"context"
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
}

// State is a session's state, rebuilt from its events (Replay) and kept up
// to date by the engine as it runs.
type State struct {
	Info    SessionInfo
	Steps   []*StepState // top-level steps in run order
	Paused  bool
	Outcome Outcome
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
// one that knows the concrete drivers.
type StoreOpener func(ctx context.Context, spec *runbook.StoreSpec) (Store, error)

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
	// Observer, when set, receives every event after it has been journaled,
	// plus transient ones (live progress) that are not. It must not block.
	Observer func(Event)
	// Stdout receives notify steps' stdout channel (default os.Stdout).
	Stdout io.Writer
	// WorkDir holds backups and exports (default: a directory next to the journal).
	WorkDir string
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

// ErrNotImplemented marks engine entry points not yet built.
var ErrNotImplemented = errors.New("not implemented")
