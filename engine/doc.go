// Package engine is lockstep's core: the session state machine, the
// StepContext executors run with, the events they emit, item values, the
// session's leases and the ports (Journal, Store, Prompter, Publisher,
// Clock) through which it reaches the outside world.
//
// It may import the standard library, runbook and expr-lang — never one of
// its subpackages, Bubble Tea, Lip Gloss, the AWS SDK or a SQLite driver.
// The step kinds' executors (engine/steps, engine/migrate) come in through
// Config.Steps; concrete journals, stores and publishers live in
// subpackages that implement its ports; only cmd wires them in.
//
// A front end drives a session like this:
//
//	s, err := engine.Start(ctx, cfg)          // or engine.Resume(ctx, cfg, id)
//	go func() { for … { s.Control(cmd) } }()  // pause, continue, abort, rollback, note, rate
//	outcome, err := s.Run(ctx)                // cancel ctx to quit resumably
//
// Events reach the front end through Config.Observer after they are
// journaled; questions arrive through Config.Prompter; State returns a
// snapshot at any time. Outcomes map to exit codes: completed 0; failed
// and aborted 1 (2 when err is a *MissingAnswerError); stopped 3.
//
// Rules the run loop follows:
//   - phases and steps run in order; a completed (done or skipped) step
//     never runs again;
//   - a phase with requires: runs only when each required phase has every
//     step done or skipped by the runbook itself (false when:, dry-run,
//     unmet requirement) — an operator skip does not count;
//   - a step whose when: is false, whose requires: are not done, or whose
//     kind does not run in dry-run (backup, restore-drill, lock, unlock,
//     wait) ends as skipped with the reason, without step.start;
//   - step.start is journaled before the executor runs, step.end after;
//     a quit (ctx cancelled, ErrQuit) while a step runs journals step.end
//     {status: interrupted}; a crash leaves step.start alone; both replay
//     as StepInterrupted;
//   - on resume an interrupted migrate step continues from its checkpoints,
//     an idempotent step or a manual, decision, approval, estimate, verify
//     or wait step re-runs, and any other step asks PromptInterrupted.
package engine
