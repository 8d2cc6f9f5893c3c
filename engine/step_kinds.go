package engine

import "github.com/lockstep-run/lockstep/runbook"

// StepKind is one kind of step: the executor that runs it and the traits
// the session reads to decide how to run, interrupt and resume it.
type StepKind struct {
	Executor Executor
	// DryRunSkipped kinds are not executed at all by a dry-run.
	DryRunSkipped bool
	// Data kinds poll Control.Checkpoint and finish their in-flight writes
	// on an abort instead of being cancelled.
	Data bool
	// RerunSafe kinds change nothing outside the journal (or only read),
	// so an interrupted one re-runs without asking, like an
	// `idempotent: true` step.
	RerunSafe bool
}

// StepKinds is the table of the step kinds a session can run, by kind.
// Config.Steps passes one in; engine/steps.Default builds the built-in one.
type StepKinds map[runbook.Kind]StepKind
