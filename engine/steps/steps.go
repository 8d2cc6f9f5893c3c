// Package steps holds the executors of the built-in step kinds. The engine
// runs steps through the table Default returns, passed in as
// engine.Config.Steps; an executor reaches the session only through its
// *engine.StepContext.
package steps

import (
	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/runbook"
)

// Default returns a new table of the built-in step kinds, each with its
// executor and traits.
func Default() engine.StepKinds {
	kinds := migrate.Kinds()
	for kind, k := range map[runbook.Kind]engine.StepKind{
		runbook.KindManual:       {Executor: engine.ExecutorFunc(runManual), RerunSafe: true},
		runbook.KindShell:        {Executor: engine.ExecutorFunc(runShell)},
		runbook.KindSQL:          {Executor: engine.ExecutorFunc(runSQL)},
		runbook.KindDecision:     {Executor: engine.ExecutorFunc(runDecision), RerunSafe: true},
		runbook.KindApproval:     {Executor: engine.ExecutorFunc(runApproval), RerunSafe: true},
		runbook.KindNotify:       {Executor: engine.ExecutorFunc(runNotify)},
		runbook.KindBackup:       {Executor: engine.ExecutorFunc(runBackup), Data: true, DryRunSkipped: true},
		runbook.KindRestoreDrill: {Executor: engine.ExecutorFunc(runDrill), Data: true, DryRunSkipped: true},
		runbook.KindRestore:      {Executor: engine.ExecutorFunc(runRestore), Data: true},
		runbook.KindVerify:       {Executor: engine.ExecutorFunc(runVerify), Data: true, RerunSafe: true},
		runbook.KindWait:         {Executor: engine.ExecutorFunc(runWait), DryRunSkipped: true, RerunSafe: true},
		runbook.KindLock:         {Executor: engine.ExecutorFunc(runLock), DryRunSkipped: true},
		runbook.KindUnlock:       {Executor: engine.ExecutorFunc(runUnlock), DryRunSkipped: true},
	} {
		kinds[kind] = k
	}
	return kinds
}

// ExecutorFor returns the built-in executor for kind, or nil: for tests
// and tools that run one step outside a session.
func ExecutorFor(kind runbook.Kind) engine.Executor { return Default()[kind].Executor }
