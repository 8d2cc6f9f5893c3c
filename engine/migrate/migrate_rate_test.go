package migrate_test

import (
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestMigrateProgressCarriesRateAndLimit: the progress a migrate step
// journals carries both the measured write rate and the limit.
func TestMigrateProgressCarriesRateAndLimit(t *testing.T) {
	t.Parallel()
	r := rig.NewSQLite(t, rig.DataRunbook(t, 2, "    max_write_rate: 100000", rig.CounterSteps), 400)
	if _, err := r.Run(r.StepContext("bump")); err != nil {
		t.Fatal(err)
	}
	evs := r.EventsOf(engine.EvProgress)
	if len(evs) == 0 {
		t.Fatal("no progress journaled")
	}
	var p struct {
		WriteRate  *float64 `json:"write_rate"`
		WriteLimit float64  `json:"write_limit"`
	}
	if err := evs[len(evs)-1].Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.WriteRate == nil || *p.WriteRate <= 0 || p.WriteLimit != 100000 {
		t.Errorf("progress write_rate = %v, write_limit = %v; want a measured rate > 0 and the limit 100000", p.WriteRate, p.WriteLimit)
	}
}
