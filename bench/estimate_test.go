package bench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/store/postgres"
	"github.com/lockstep-run/lockstep/internal/pgtest"
	"github.com/lockstep-run/lockstep/runbook"
)

// Sizes of the estimate rows (h): rows per round on SQLite and
// PostgreSQL, items per round on dynalite (5-10 s of migrate each).
const (
	estimateSQLiteRows = 400_000
	estimateDynamoRows = 6_000
	estimatePGRows     = 150_000
)

// estimateTarget is how far the estimate may be from the actual duration.
const estimateTarget = 0.25

// BenchmarkEstimate measures (h): the estimate's duration, with no
// rehearsal and no margin, against the migrate step's actual duration
// right after it in the same session, on SQLite, PostgreSQL and
// dynalite, three rounds on fresh data each.
func BenchmarkEstimate(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		tmpl := sqliteTemplate(b, estimateSQLiteRows)
		b.StartTimer()
		var ratios []float64
		var detail []string
		for range rounds {
			path := copyFile(b, tmpl, filepath.Join(b.TempDir(), "data.db"))
			e, m := runEstimateThenMigrate(b, b.TempDir(), estimateYAML(sqliteStore(path), false), openStore)
			ratios, detail = append(ratios, ratioOf(e, m)), append(detail, estimateDetail(e, m))
		}
		b.Logf("(est) SQLite: %s", strings.Join(detail, "; "))
		recordEstimate(b, "(est)", fmt.Sprintf("SQLite: estimate / actual duration of the migrate step, no rehearsal, %d rows", estimateSQLiteRows), ratios, detail)

		tg := benchTarget(b)
		d := newDynamoRig(b, tg, tg.endpoint, fmt.Sprintf("lockstep-bench-est-%d-%d", os.Getpid(), i))
		ratios, detail = nil, nil
		for r := range rounds {
			table := fmt.Sprintf("%s-r%d", d.prefix, r)
			b.StopTimer()
			if tg.real {
				b.Cleanup(func() { d.dropTable(table) })
			}
			if err := loadTable(d.ctx, d.client, table, estimateDynamoRows); err != nil {
				b.Fatalf("load %s: %v", table, err)
			}
			b.StartTimer()
			store := fmt.Sprintf("{kind: dynamodb, table: %s, region: %s, endpoint: %q, registry_table: %s-registry}", table, tg.region, d.endpoint, table)
			e, m := runEstimateThenMigrate(b, b.TempDir(), estimateYAML(store, true), openStore)
			ratios, detail = append(ratios, ratioOf(e, m)), append(detail, estimateDetail(e, m))
		}
		b.Logf("(est') %s: %s", tg.label, strings.Join(detail, "; "))
		recordEstimate(b, "(est')", fmt.Sprintf("%s: estimate / actual duration of the migrate step, no rehearsal, %d items", tg.label, estimateDynamoRows), ratios, detail)

		srv := pgtest.Start(b) // last: without PostgreSQL it skips the rest
		ratios, detail = nil, nil
		for range rounds {
			b.StopTimer()
			dsn := pgUsers(b, srv, estimatePGRows)
			b.StartTimer()
			store := fmt.Sprintf("{kind: postgres, dsn: %q, table: users, key: [id]}", dsn)
			e, m := runEstimateThenMigrate(b, b.TempDir(), estimateYAML(store, false), openWithPG)
			ratios, detail = append(ratios, ratioOf(e, m)), append(detail, estimateDetail(e, m))
		}
		b.Logf("(est'') PostgreSQL: %s", strings.Join(detail, "; "))
		recordEstimate(b, "(est'')", fmt.Sprintf("PostgreSQL: estimate / actual duration of the migrate step, no rehearsal, %d rows", estimatePGRows), ratios, detail)
	}
}

// estimateYAML is the benchmark runbook with an estimate step (no
// margin) before the migration. exact counts every item: DynamoDB's
// approximate count of a fresh table is 0 (refreshed every six hours),
// and the estimate would be a lower bound.
func estimateYAML(store string, exact bool) string {
	return strings.Replace(runbookYAML(store, 0), "      - id: backfill\n",
		fmt.Sprintf("      - {id: size, kind: estimate, with: {where: \"item.address != nil\", exact_count: %v}}\n      - id: backfill\n", exact), 1)
}

func ratioOf(e migrate.EstimateResult, m migrate.Result) float64 {
	return float64(e.DurationMS) / float64(max(m.ElapsedMS, 1))
}

func estimateDetail(e migrate.EstimateResult, m migrate.Result) string {
	path := ""
	if e.Probe != nil {
		path = ", probe " + e.Probe.Path
	}
	return fmt.Sprintf("%.1f / %.1f s at %.0f (%s%s) / %.0f items/s, %d migrated, %d already", float64(e.DurationMS)/1000, float64(m.ElapsedMS)/1000,
		e.Rate, e.RateSource, path, m.ItemsPerSec, m.Migrated, m.Already)
}

// recordEstimate records a row: the median ratio must be within
// estimateTarget of 1; the figure gives the median round's durations.
func recordEstimate(b *testing.B, id, what string, ratios []float64, detail []string) {
	sp := spreadOf(ratios)
	b.ReportMetric(sp.med, "estimate/actual"+strings.Trim(id, "()"))
	med := detail[slices.Index(ratios, sp.med)]
	record(row{id: id, what: what, figure: fmt.Sprintf("%v (min/med/max); median round %s", sp, med),
		target:  fmt.Sprintf("within ±%.0f%%", estimateTarget*100),
		verdict: check(sp.med >= 1-estimateTarget && sp.med <= 1+estimateTarget)})
}

// openWithPG is openStore with the PostgreSQL store too.
func openWithPG(ctx context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
	if spec.Kind == "postgres" {
		return postgres.Open(ctx, spec)
	}
	return openStore(ctx, spec)
}

// runEstimateThenMigrate runs src's session in-process, as runMigrate
// does, and returns the results of its estimate step "size" and its
// migrate step "backfill".
func runEstimateThenMigrate(tb testing.TB, dir, src string, open engine.StoreOpener) (migrate.EstimateResult, migrate.Result) {
	tb.Helper()
	state, _ := completeSession(tb, dir, src, open)
	var e migrate.EstimateResult
	var m migrate.Result
	for id, v := range map[string]any{"size": &e, "backfill": &m} {
		st := state.StepState(id)
		if st == nil || json.Unmarshal(st.Result, v) != nil {
			tb.Fatalf("no result for step %s", id)
		}
	}
	return e, m
}
