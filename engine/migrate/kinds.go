package migrate

import (
	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// Kinds returns the step kinds this package runs, estimate and migrate,
// with their traits: engine/steps.Default adds them to the built-in
// table.
func Kinds() engine.StepKinds {
	return engine.StepKinds{
		runbook.KindEstimate: {Executor: engine.ExecutorFunc(runEstimate), Data: true, RerunSafe: true},
		runbook.KindMigrate:  {Executor: Executor{}, Data: true},
	}
}
