// Package migrate runs the migrate and estimate step kinds (Kinds, which
// engine/steps.Default adds to the built-in table): the planner that
// selects, transforms and guards each item, the segments' two-stage
// pipeline, the write-ahead checkpoints with their intents, the pushdown of
// a page into one UPDATE on a SQL store, a rollback's origins, the estimate
// and its write probe. It also holds what the other data steps share with
// migrate: scans (ScanAll, ScanAllConsistent), item expressions
// (NewItemEnv) and the restore step's MigrationPlan; engine/fleet runs one
// segment of a step at a time (Executor.RunSegment).
//
// It reaches the session through *engine.StepContext and the stores through
// engine's ports. Of this module it imports engine, runbook and
// engine/throttle only; engine never imports it.
package migrate
