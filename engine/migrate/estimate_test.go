package migrate_test

import (
	"reflect"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

func TestEstimateSQLite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       string
		with      string
		wantSet   int64
		exact     bool
		rate      float64
		source    string
		recommend string
	}{
		{"sample extrapolates", "    max_write_rate: 1", `{where: "item.address != nil", sample: 200, margin: 20%}`, 800, false, 1, migrate.RateMaxWrite, "multi-step"},
		{"exact count", "    max_write_rate: 1", `{where: "item.address != nil", exact_count: true}`, 800, true, 1, migrate.RateMaxWrite, "multi-step"},
		// The limit stays well below what the write probe measures on a
		// loaded machine, so the limit is the lowest known rate.
		{"sample covers all", "    max_write_rate: 100\n    window: {days: [tue], from: \"22:00\", to: \"02:00\", tz: Europe/Paris}", `{sample: 5000}`, 1000, true, 100, migrate.RateMaxWrite, "big-bang"},
		{"no limit known: the write path is probed", "", `{sample: 100}`, 1000, false, 0, migrate.RateMeasured, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := "      - {id: size, kind: estimate, with: " + tt.with + "}\n"
			r := rig.NewSQLite(t, rig.DataRunbook(t, 3, tt.env, steps), 1000)
			res, err := r.Run(r.StepContext("size"))
			if err != nil {
				t.Fatalf("estimate: %v", err)
			}
			e := res.(migrate.EstimateResult)
			if e.Count != 1000 || e.Approximate || e.MigrationSetExact != tt.exact || e.RateSource != tt.source {
				t.Errorf("estimate = %+v", e)
			}
			// A sample of the first 200 ids has 160 with an address.
			if d := e.MigrationSet - tt.wantSet; d < -10 || d > 10 {
				t.Errorf("migration set = %d, want about %d", e.MigrationSet, tt.wantSet)
			}
			if tt.rate > 0 && e.Rate != tt.rate {
				t.Errorf("rate = %v, want %v", e.Rate, tt.rate)
			}
			if tt.rate > 0 {
				want := int64(float64(e.MigrationSet) / tt.rate * (1 + e.Margin) * 1000)
				if d := e.DurationMS - want; d < -1 || d > 1 {
					t.Errorf("duration = %d ms, want %d", e.DurationMS, want)
				}
			}
			if tt.recommend != "" && e.Recommendation != tt.recommend || e.Reason == "" {
				t.Errorf("recommendation %q (%s), want %q", e.Recommendation, e.Reason, tt.recommend)
			}
			if e.AvgItemBytes <= 0 || e.WCUPerItem != 1 {
				t.Errorf("avg %d bytes, %d WCU", e.AvgItemBytes, e.WCUPerItem)
			}
			if len(r.EventsOf(engine.EvResult)) != 1 {
				t.Error("estimate result not journaled")
			}
			if tt.source == migrate.RateMeasured && (e.Probe == nil || e.Probe.Writes == 0 || e.Rate != e.Probe.Rate) {
				t.Errorf("probe = %+v, rate %v: want refused writes measured and used", e.Probe, e.Rate)
			}
		})
	}
}

func TestEstimateUsesRehearsalThroughput(t *testing.T) {
	t.Parallel()
	steps := "      - {id: size, kind: estimate, with: {sample: 100}}\n" + rig.CounterSteps
	rb := rig.DataRunbook(t, 2, "    max_write_rate: 100000", steps)
	r := rig.NewSQLite(t, rb, 300)
	// A rehearsal session of the same runbook whose migrate step ended
	// with a measured throughput.
	reh, err := r.J.CreateSession(r.Ctx, engine.SessionInfo{Runbook: rb.Name, Env: "test", Mode: engine.ModeRehearsal, Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	end := eventtest.Raw(engine.EvStepEnd, "bump", map[string]any{"status": "done",
		"result": migrate.Result{ItemsPerSec: 250, AvgItemB: 60}})
	end.SessionID, end.Operator = reh.ID, "alice"
	if _, err := r.J.Append(r.Ctx, end); err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(r.StepContext("size"))
	if err != nil {
		t.Fatal(err)
	}
	e := res.(migrate.EstimateResult)
	if e.RateSource != migrate.RateRehearsal || e.Rate != 250 || e.RehearsalSession != reh.ID {
		t.Errorf("rate %v from %s (%s), want 250 from the rehearsal %s", e.Rate, e.RateSource, e.RehearsalSession, reh.ID)
	}
}

func TestEstimateProbeChangesNothing(t *testing.T) {
	t.Parallel()
	steps := "      - {id: size, kind: estimate, with: {sample: 100}}\n"
	r := rig.NewSQLite(t, rig.DataRunbook(t, 3, "", steps), 500)
	before := r.All()
	res, err := r.Run(r.StepContext("size"))
	if err != nil {
		t.Fatalf("estimate: %v", err)
	}
	if p := res.(migrate.EstimateResult).Probe; p == nil || p.Writes != 200 {
		t.Fatalf("probe = %+v, want 200 refused writes", p)
	}
	after := r.All()
	if len(after) != len(before) {
		t.Fatalf("%d items after the probe, %d before", len(after), len(before))
	}
	for k, it := range before {
		if !reflect.DeepEqual(after[k], it) {
			t.Errorf("item %s changed by the probe: %v → %v", k, it, after[k])
		}
	}
}
