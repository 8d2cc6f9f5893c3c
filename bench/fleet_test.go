package bench_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/runbook"
)

// The fleet's coordination cost (h): the same migrate step on the same
// endpoint, once by 4 fleet workers (each one segment at a time, so 4 ×
// writeWorkers writes in flight) claiming its 4 segments through the
// control table, once by one process scanning the same 4 segments (as
// many writes in flight): the work is divided alike, so the ratio is the
// cost of claims, renewals and checkpoints in the control table. The workers run in this process, as goroutines: what is
// measured is the control table's claims, renewals and checkpoints, not
// process start-up.
const (
	engineWriteWorkers = 8 // the engine's most writes in flight per segment (engine/migrate/migrate_segment.go writeWorkers)
	fleetBenchItems    = 20_000
	fleetBenchWorkers  = 4
	fleetBenchSegments = 4
)

func BenchmarkFleet(b *testing.B) {
	tg := benchTarget(b)
	for i := 0; i < b.N; i++ {
		d := newDynamoRig(b, tg, tg.endpoint, fmt.Sprintf("lockstep-bench-fleet-%d-%d", os.Getpid(), i))
		res := d.mirrored(fleetBenchItems/rounds, d.fleet, d.singleProcess)
		f, s := total(res[0]), total(res[1])
		wall, cpu := versus{res[0], res[1]}.speed()
		b.ReportMetric(wall.med, "ratio-fleet")
		record(row{id: "(h)", what: fmt.Sprintf("%s: fleet of %d workers × %d writers / one process × %d writers, %d items",
			tg.label, fleetBenchWorkers, engineWriteWorkers, fleetBenchWorkers*engineWriteWorkers, f.items),
			figure: figure(wall, cpu, fmt.Sprintf("%.0f / %.0f items/s", f.rate(), s.rate())), target: "≥ 0.90", verdict: check(wall.med >= 0.90)})
	}
}

// fleetRunbook is the benchmark runbook with a number of segments.
func (d *dynamoRig) fleetRunbook(table string, segments int) string {
	// Each contender's table has its own registry: the runbooks differ
	// by table name, and the registry refuses a changed version 2.
	store := fmt.Sprintf("{kind: dynamodb, table: %s, region: %s, endpoint: %q, registry_table: %s-registry}", table, d.tg.region, d.endpoint, table)
	return strings.Replace(runbookYAML(store, 0), "        with:\n", fmt.Sprintf("        with:\n          segments: %d\n", segments), 1)
}

// singleProcess runs the step in one session over fleetBenchWorkers segments.
func (d *dynamoRig) singleProcess(table string) (timed, error) {
	m := runMigrate(d.b, d.b.TempDir(), d.fleetRunbook(table, fleetBenchWorkers))
	return timed{m.migrated, m.elapsed}, nil
}

// fleet runs the step on fleetBenchWorkers workers through a control
// table, timed from the fleet record's creation to the last worker's exit.
func (d *dynamoRig) fleet(table string) (timed, error) {
	src := []byte(d.fleetRunbook(table, fleetBenchSegments))
	rb, err := runbook.Parse("bench.yaml", src)
	if err != nil {
		return timed{}, err
	}
	ctl := dynamo.NewFleetTable(d.client, table+"-ctl")
	rec := fleet.Record{ID: "bench", Runbook: src, SHA256: fleet.SHA256(src), Path: "bench.yaml", Step: "backfill", Env: "bench",
		Session: "bench", Mode: string(engine.ModeLive), Segments: fleetBenchSegments, Workers: fleetBenchWorkers,
		Lease: 30 * time.Second, Created: time.Now()}
	st, err := dynamo.Open(d.ctx, rb.Env("bench").Store)
	if err != nil {
		return timed{}, err
	}
	defer st.Close()
	warm := rec // creates the control table, untimed: it outlives fleets
	warm.ID, warm.Segments = "warm-up", 0
	if err := ctl.Create(d.ctx, warm); err != nil {
		return timed{}, err
	}
	// Timed from the record's creation to the last segment's end, as the
	// session sees it; idle workers are then stopped.
	ctx, stop := context.WithCancel(d.ctx)
	defer stop()
	var mu sync.Mutex
	var last time.Time
	left := fleetBenchSegments
	run := func(ctx context.Context, rec fleet.Record, r migrate.SegmentRun, leases *engine.Leases, c engine.Control) (engine.MigrateCounts, error) {
		sc := &engine.StepContext{Step: rb.Step(rec.Step), Runbook: rb, Env: rb.Env(rec.Env), Mode: engine.ModeLive, Attempt: 1,
			Session: engine.SessionInfo{ID: rec.Session}, Clock: engine.SystemClock{},
			Store: func(context.Context) (engine.Store, error) { return st, nil }, Control: c, Leases: leases}
		counts, err := migrate.Executor{}.RunSegment(ctx, sc, r)
		mu.Lock()
		defer mu.Unlock()
		if last = time.Now(); err == nil {
			if left--; left == 0 {
				defer stop()
			}
		}
		return counts, err
	}
	start := time.Now()
	if err := ctl.Create(d.ctx, rec); err != nil {
		return timed{}, err
	}
	errs := make([]error, fleetBenchWorkers)
	var wg sync.WaitGroup
	for w := range fleetBenchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := &fleet.Worker{Control: ctl, Fleet: rec.ID, ID: fmt.Sprintf("bench-%d", w), Clock: engine.SystemClock{}, Hint: w, Run: run}
			if err := wk.Work(ctx); err != nil && ctx.Err() == nil {
				errs[w] = err
			}
		}()
	}
	wg.Wait()
	elapsed := last.Sub(start)
	for _, err := range errs {
		if err != nil {
			return timed{}, err
		}
	}
	segs, err := ctl.Segments(d.ctx, rec.ID)
	if err != nil {
		return timed{}, err
	}
	var t engine.MigrateCounts
	for _, s := range segs {
		t.Add(s.Counts)
	}
	return timed{t.Migrated, elapsed}, nil
}
