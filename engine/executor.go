package engine

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/lockstep-run/lockstep/runbook"
)

// Executor runs one kind of step. Execute returns the step's result (any
// JSON-encodable value, journaled with step.end and visible to later steps
// as steps.<id> in expressions and templates) or an error. It must emit its
// journal events through sc.Emit *before* acting on what they record.
type Executor interface {
	Execute(ctx context.Context, sc *StepContext) (result any, err error)
}

// ExecutorFunc adapts a function to Executor.
type ExecutorFunc func(ctx context.Context, sc *StepContext) (any, error)

// Execute calls f.
func (f ExecutorFunc) Execute(ctx context.Context, sc *StepContext) (any, error) { return f(ctx, sc) }

// StepContext is everything an executor may use. The session builds one per
// step attempt.
type StepContext struct {
	Step     *runbook.Step
	Runbook  *runbook.Runbook
	Env      *runbook.Environment
	Session  SessionInfo
	Mode     Mode
	Operator string
	Attempt  int  // 1 for the first run
	Resumed  bool // the step was interrupted and is being continued
	// Rollback is set when Step is the rollback: of Of.
	Rollback bool
	Of       *runbook.Step

	Journal Journal // for checkpoints (SaveCheckpoint / Checkpoints)
	Clock   Clock
	// Rehearsal is, in a protected environment, the newest completed
	// rehearsal of this runbook's SHA-256 an environment's registry
	// holds, wherever it ran (zero when none): estimates use its
	// throughput.
	Rehearsal RegistryRecord

	// Emit journals ev (Session, Step, Operator filled in) and then shows it.
	Emit func(ev Event) error
	// Progress shows a transient event (not journaled), e.g. live progress.
	Progress func(ev Event)
	// Ask asks the operator; a session-level Prompter behind it.
	Ask func(ctx context.Context, p Prompt) (Answer, error)
	// Store opens (once, then caches) the environment's store.
	Store func(ctx context.Context) (Store, error)
	// OpenStore opens another store (sql `path:`, maintenance table).
	OpenStore func(ctx context.Context, spec *runbook.StoreSpec) (Store, error)
	// Redact removes secret values from s.
	Redact func(s string) string
	// ExprEnv is the expression environment without `item`:
	// vars, env (environment name, mode, …), steps (results by step id).
	ExprEnv func() map[string]any
	// Results holds the results of earlier completed steps by id.
	Results map[string]json.RawMessage
	// Control reports operator commands for long-running executors:
	// Paused / Aborted are polled at safe points (batch boundaries).
	Control Control
	// WorkDir holds backups and exports.
	WorkDir string
	// Getenv reads the process environment (${VAR}).
	Getenv func(string) string
	// Stdout is where notify's stdout channel writes (Config.Stdout).
	Stdout io.Writer
	// Publisher sends notify's sns channel (Config.Publisher); may be nil.
	Publisher Publisher
	// Leases are the session's held migration leases: lock steps add to
	// them, data steps check them before writing, unlock releases them.
	Leases *Leases
}

// Control is the live view of operator commands a long-running executor
// polls at safe points.
type Control interface {
	// Checkpoint blocks while paused; it returns ErrAborted after an abort
	// and ErrPaused when the operator paused and then quit.
	Checkpoint(ctx context.Context) error
	// Rate returns the current max write rate override (0: use the environment's).
	Rate() int
}

// Executor errors.
var (
	// ErrAborted: the operator aborted; the session ends as aborted.
	ErrAborted = errors.New("aborted by operator")
	// ErrPaused: the step stopped resumably (pause then quit, or an error
	// budget exhausted); the session ends as stopped.
	ErrPaused = errors.New("paused")
)
