package migrate_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// estimateSplitSteps is an estimate before DESIGN.md's split-address migration,
// which translates to SQL (pushdown).
const estimateSplitSteps = `      - {id: size, kind: estimate, with: {where: "item.address != nil", sample: 200}}
      - id: backfill
        kind: migrate
        with:
          where: "item.address != nil"
          set:
            street_name: 'trim(split(item.address, ",")[0])'
            city: 'trim(split(item.address, ",")[1])'
            postcode: 'trim(split(item.address, ",")[2])'
`

// TestEstimateProbesTheMigrateStep checks that the estimate measures the
// write path by running the runbook's migrate step itself — its path,
// segments and page size — in transactions rolled back: the table, the
// journal's checkpoints and the migrate step's events are untouched.
func TestEstimateProbesTheMigrateStep(t *testing.T) {
	t.Parallel()
	perRow := `      - {id: size, kind: estimate, with: {sample: 100}}
      - id: backfill
        kind: migrate
        with:
          set: {flag: "len(item)"}
          segments: 3
          batch_size: 50
`
	tests := []struct {
		name, steps, path string
		segments, batch   int
	}{
		{"pushdown at the store's defaults (one segment)", estimateSplitSteps, migrate.ProbePushdown, 1, 2000},
		{"per row at the step's settings", perRow, migrate.ProbePerRow, 3, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := rig.NewSQLite(t, rig.DataRunbook(t, 3, "", tt.steps), 3000)
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
			if p.Step != "backfill" || p.Path != tt.path || p.Segments != tt.segments || p.BatchSize != tt.batch {
				t.Errorf("probe = %+v, want step backfill, path %q, %d segments of %d", p, tt.path, tt.segments, tt.batch)
			}
			if p.Writes <= 0 || p.Rate <= 0 || e.RateSource != migrate.RateMeasured || e.Rate != p.Rate {
				t.Errorf("probe %+v, rate %v from %s: want the probe's rate", p, e.Rate, e.RateSource)
			}
			if after := r.All(); !reflect.DeepEqual(after, before) {
				t.Errorf("the probe changed the table")
			}
			cps, err := r.J.Checkpoints(r.Ctx, r.Session.ID, "backfill")
			if err != nil || len(cps) != 0 {
				t.Errorf("checkpoints of backfill = %v, %v; want none", cps, err)
			}
			for _, ev := range r.Emitted() {
				if ev.Step == "backfill" {
					t.Errorf("the probe journaled %s for the migrate step", ev.Kind)
				}
			}
		})
	}
}

// TestEstimateSaysWhyTheProbeFellBack checks that when the migrate step
// cannot be probed — its columns do not exist yet (an expand step later in
// the runbook adds them), or nothing at the start of the table is to be
// migrated — the estimate measures one-item writes and says why, in its
// result, its warning and its summary line, instead of passing the slower
// figure off as the migrate step's own.
func TestEstimateSaysWhyTheProbeFellBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, set, where string
		want             []string
	}{
		{"a column an expand step adds later", `{region: "'eu'"}`, "true", []string{`all `, ` writes of migrate step backfill failed`, `"region"`}},
		{"nothing to migrate at the start", `{flag: "1"}`, "item.id > 1000000", []string{"migrate step backfill found nothing to migrate at the start of the table"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			steps := `      - {id: size, kind: estimate, with: {sample: 100}}
      - id: backfill
        kind: migrate
        with:
          where: "` + tt.where + `"
          set: ` + tt.set + "\n"
			r := rig.NewSQLite(t, rig.DataRunbook(t, 3, "", steps), 3000)
			before := r.All()
			res, err := r.Run(r.StepContext("size"))
			if err != nil {
				t.Fatalf("estimate: %v", err)
			}
			p := res.(migrate.EstimateResult).Probe
			if p == nil || p.Path != migrate.ProbeSingleRows || p.Rate <= 0 {
				t.Fatalf("probe = %+v, want the one-item probe with a rate", p)
			}
			for _, w := range tt.want {
				if !strings.Contains(p.Fallback, w) {
					t.Errorf("fallback %q does not say %q", p.Fallback, w)
				}
			}
			var warned, summary bool
			for _, ev := range r.Emitted() {
				switch ev.Kind {
				case engine.EvWarning:
					warned = warned || strings.Contains(engine.WarningText(ev), "because "+p.Fallback)
				case engine.EvOutput:
					summary = summary || strings.Contains(string(ev.Data), "measured with one-item writes")
				}
			}
			if !warned || !summary {
				t.Errorf("warning with the reason: %v, summary naming one-item writes: %v; want both", warned, summary)
			}
			if after := r.All(); !reflect.DeepEqual(after, before) {
				t.Errorf("the probe changed the table")
			}
		})
	}
}
