package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/internal/pgtest"
)

// TestEstimateProbeKeepsNothingOnPostgres: the estimate's write probe
// runs the migrate step's own pages, pushed down here, and keeps none of
// their writes: the table is byte for byte what it was. (Pushed-down
// pages ignored the probe's savepoint at first, and the estimate
// migrated the whole table outside the migrate step.)
func TestEstimateProbeKeepsNothingOnPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.DB(t)
	exec(t, dsn, `CREATE TABLE users (id bigint PRIMARY KEY, address text, street_name text, city varchar(30), v integer);
		INSERT INTO users (id, address) SELECT i, i || ' Main St, City' || (i % 7) FROM generate_series(1, 3000) i`)
	before := pgDump(t, dsn)
	src := fmt.Sprintf(`lockstep: 1
name: users-migration
title: t
version: 2
strategy: multi-step
roles: {responsible: [alice], accountable: bob}
environments:
  test:
    store: {kind: postgres, dsn: %q, table: users, key: [id]}
    max_write_rate: 0
phases:
  - name: run
    steps:
      - {id: size, kind: estimate, with: {sample: 100}}
      - {id: boom, kind: shell, with: {run: "exit 1"}}
      - id: backfill
        kind: migrate
        with:
          set:
            street_name: 'trim(split(item.address, ",")[0])'
            city: 'trim(split(item.address, ",")[1])'
`, dsn)
	s := startSession(t, src, rig.OnFailure{Action: engine.ActionAbort, Reason: "stop after the estimate"})
	if out, err := s.Run(ctx); out != engine.OutcomeAborted {
		t.Fatalf("Run() = %s, %v; want aborted after the estimate", out, err)
	}
	var res migrate.EstimateResult
	state := s.State()
	if st := state.StepState("size"); st == nil || json.Unmarshal(st.Result, &res) != nil {
		t.Fatal("no result for the estimate")
	}
	if res.Probe == nil || res.Probe.Path != migrate.ProbePushdown || res.Probe.Writes == 0 {
		t.Fatalf("probe = %+v, want the migrate step's pages pushed down", res.Probe)
	}
	sameRows(t, "after the estimate", before, pgDump(t, dsn))
}
