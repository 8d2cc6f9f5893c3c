package integration_test

import (
	"reflect"
	"testing"

	"github.com/lockstep-run/lockstep/engine/migrate"
)

// TestEstimateProbesTheMigrateStepOnDynamo checks that on DynamoDB the
// estimate runs the migrate step's own writes at its segments and page
// size, each with migrate's guard and a version no item has: dynalite
// refuses every one, and the table is untouched.
func TestEstimateProbesTheMigrateStepOnDynamo(t *testing.T) {
	t.Parallel()
	steps := `      - {id: size, kind: estimate, with: {sample: 100}}
      - id: bump
        kind: migrate
        with:
          set: {count: "item.count + 1"}
          batch_size: 25
          segments: 2
`
	r := newDynamoRig(t, 2, "", steps, 300, nil)
	before := r.All()
	res, err := r.Run(r.StepContext("size"))
	if err != nil {
		t.Fatalf("estimate: %v", err)
	}
	e := res.(migrate.EstimateResult)
	p := e.Probe
	if p == nil {
		t.Fatalf("estimate %+v: no probe", e)
	}
	if p.Step != "bump" || p.Path != migrate.ProbeRefused || p.Segments != 2 || p.BatchSize != 25 || p.Writes <= 0 {
		t.Errorf("probe = %+v, want step bump refused, 2 segments of 25", p)
	}
	if e.RateSource != migrate.RateMeasured || e.Rate != p.Rate {
		t.Errorf("rate %v from %s, want the probe's %v", e.Rate, e.RateSource, p.Rate)
	}
	if after := r.All(); !reflect.DeepEqual(after, before) {
		t.Errorf("the probe changed the table")
	}
}
