package bench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// The workload every measurement runs: DESIGN.md's split-address
// migration to version 2, with the segments and page size each store
// chooses (the runbook leaves them out, as most runbooks will).
const (
	targetVersion = 2
	segments      = runbook.DefaultSegments  // migrate's segments on DynamoDB
	pageSize      = runbook.DefaultBatchSize // and its page size there
)

// runbookYAML renders the benchmark runbook: one environment "bench" on
// store (a flow mapping), one migrate step "backfill". maxRate 0 leaves
// max_write_rate out (unlimited).
func runbookYAML(store string, maxRate int) string {
	rate := ""
	if maxRate > 0 {
		rate = fmt.Sprintf("    max_write_rate: %d\n", maxRate)
	}
	return fmt.Sprintf(`lockstep: 1
name: bench-split-address
title: Split users.address into street_name, city, postcode (benchmark)
version: %d
strategy: multi-step
roles: {responsible: [bench], accountable: bench}
environments:
  bench:
    store: %s
%sphases:
  - name: run
    steps:
      - id: backfill
        kind: migrate
        with:
          where: "item.address != nil"
          set:
            street_name: 'trim(split(item.address, ",")[0])'
            city: 'trim(split(item.address, ",")[1])'
            postcode: 'trim(split(item.address, ",")[2])'
`, targetVersion, store, rate)
}

// splitAddress is the baselines' hand-written version of the runbook's set
// clauses.
func splitAddress(addr string) (street, city, postcode string) {
	parts := strings.Split(addr, ",")
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), strings.TrimSpace(parts[2])
}

// address is the deterministic address of row i.
func address(i int) string {
	streets := []string{"Main St", "Rue de la Paix", "Baker Street", "Calle Mayor", "Hauptstrasse", "Via Roma", "Elm Avenue"}
	cities := []string{"Paris", "London", "Madrid", "Berlin", "Rome", "Lisbon", "Dublin", "Vienna", "Oslo"}
	return fmt.Sprintf("%d %s, %s, %05d", i%997+1, streets[i%len(streets)], cities[(i/7)%len(cities)], 10000+(i*7919)%90000)
}

// migration is the outcome of one migrate session.
type migration struct {
	migrated int64
	elapsed  time.Duration // wall time of Session.Run
	stepRate float64       // items_per_sec of the step's journaled result
}

// itemsPerSec is the operator's view: items written per second of Run.
func (m migration) itemsPerSec() float64 { return float64(m.migrated) / m.elapsed.Seconds() }

// noPrompts fails any prompt: the benchmark runbook asks nothing.
type noPrompts struct{}

func (noPrompts) Ask(_ context.Context, p engine.Prompt) (engine.Answer, error) {
	return engine.Answer{}, &engine.MissingAnswerError{Step: p.Step, Key: p.Key}
}

// openStore is the StoreOpener the CLI wires in, reduced to the two
// concrete stores.
func openStore(ctx context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
	switch spec.Kind {
	case "sqlite":
		return sqlite.Open(spec)
	case "dynamodb":
		return dynamo.Open(ctx, spec)
	}
	return nil, fmt.Errorf("unknown store kind %q", spec.Kind)
}

// runMigrate runs the runbook src in-process the way `lockstep run
// --plain` does: a real journal in dir, real stores, the session loop.
func runMigrate(tb testing.TB, dir, src string) migration {
	tb.Helper()
	return runMigrateWith(tb, dir, src, openStore)
}

// runMigrateWith is runMigrate with the stores opened by open.
func runMigrateWith(tb testing.TB, dir, src string, open engine.StoreOpener) migration {
	tb.Helper()
	state, elapsed := completeSession(tb, dir, src, open)
	st := state.StepState("backfill")
	var res migrate.Result
	if st == nil || json.Unmarshal(st.Result, &res) != nil {
		tb.Fatalf("no migrate result for step backfill")
	}
	if res.Failures > 0 || res.Unresolved > 0 {
		tb.Fatalf("migrate: %d failures, %d unresolved conflicts", res.Failures, res.Unresolved)
	}
	return migration{migrated: res.Migrated, elapsed: elapsed, stepRate: res.ItemsPerSec}
}

// completeSession runs src's session (environment "bench", live) in
// process, with its journal and work directory in dir and its stores
// opened by open, fails unless it completes, and returns its final state
// and how long Run took.
func completeSession(tb testing.TB, dir, src string, open engine.StoreOpener) (engine.State, time.Duration) {
	tb.Helper()
	ctx := context.Background()
	rb, err := runbook.Parse(filepath.Join(dir, "bench.yaml"), []byte(src))
	if err != nil {
		tb.Fatalf("parse runbook: %v\n%s", err, src)
	}
	j, err := journal.Open(filepath.Join(dir, "journal.db"))
	if err != nil {
		tb.Fatalf("open journal: %v", err)
	}
	defer j.Close()
	s, err := engine.Start(ctx, engine.Config{
		Runbook: rb, Env: "bench", Mode: engine.ModeLive, Operator: "bench", Journal: j,
		Prompter: noPrompts{}, Stores: open, WorkDir: filepath.Join(dir, "work"), Steps: steps.Default(),
	})
	if err != nil {
		tb.Fatalf("start session: %v", err)
	}
	start := time.Now()
	out, err := s.Run(ctx)
	elapsed := time.Since(start)
	if err != nil || out != engine.OutcomeCompleted {
		tb.Fatalf("run session: outcome %q, %v", out, err)
	}
	return s.State(), elapsed
}

// timed is one measured run of a contender.
type timed struct {
	items   int64
	elapsed time.Duration
}

func (t timed) rate() float64 {
	if t.elapsed <= 0 {
		return 0
	}
	return float64(t.items) / t.elapsed.Seconds()
}
