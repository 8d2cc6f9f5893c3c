// Package engine is lockstep's core: the session state machine, the step
// executors, the events they emit and the ports (Journal, Store, Prompter,
// Clock) through which it reaches the outside world.
//
// It may import the standard library, runbook, expr-lang and x/time/rate —
// never Bubble Tea, Lip Gloss, the AWS SDK or a SQLite driver. Concrete
// journals and stores live in subpackages that implement its ports; only
// cmd wires them in.
package engine
