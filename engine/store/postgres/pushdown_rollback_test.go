package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/engine/store/postgres"
	"github.com/lockstep-run/lockstep/internal/pgtest"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestRollbackOfPushdownFromNoVersion: on PostgreSQL too, a migration to
// version 2 of rows without a version pushes down, and its rollback
// leaves the table as it was: every version NULL again, not 1.
func TestRollbackOfPushdownFromNoVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.DB(t)
	exec(t, dsn, `CREATE TABLE users (id bigint PRIMARY KEY, address text, street_name text, city varchar(30), v integer);
		INSERT INTO users (id, address) SELECT i, CASE WHEN i % 5 = 0 THEN NULL ELSE i || ' Main St, City' || (i % 7) END
		FROM generate_series(1, 300) i`)
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
      - id: backfill
        kind: migrate
        with:
          where: "item.address != nil"
          set:
            street_name: 'trim(split(item.address, ",")[0])'
            city: 'trim(split(item.address, ",")[1])'
          batch_size: 40
          segments: 2
        rollback: {kind: migrate, with: {remove: [street_name, city]}}
      - {id: boom, kind: shell, with: {run: "exit 1"}}
`, dsn)
	s := startSession(t, src, rig.OnFailure{Action: engine.ActionRollback, Reason: "plan B"})
	if out, err := s.Run(ctx); err != nil || out != engine.OutcomeRolledBack {
		t.Fatalf("Run() = %s, %v; want rolled-back", out, err)
	}
	var res migrate.Result
	state := s.State()
	if st := state.StepState("backfill"); st == nil || json.Unmarshal(st.Result, &res) != nil {
		t.Fatal("no result for backfill")
	}
	if res.PushdownPages == 0 || res.PerRowPages > 0 || res.Migrated != 240 {
		t.Fatalf("backfill: %d pages pushed down, %d per row, %d migrated; want every page pushed down, 240 migrated",
			res.PushdownPages, res.PerRowPages, res.Migrated)
	}
	sameRows(t, "after the rollback", before, pgDump(t, dsn))
}

// pgDump returns every row of users as text, in key order.
func pgDump(t *testing.T, dsn string) []string {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT concat_ws('|', id, quote_nullable(address), quote_nullable(street_name), quote_nullable(city), quote_nullable(v))
		FROM users ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 || !strings.Contains(out[0], "|") {
		t.Fatal("empty table")
	}
	return out
}

// startSession starts a live session of the runbook src on PostgreSQL,
// with p answering its prompts and a journal in a temp dir.
func startSession(t *testing.T, src string, p engine.Prompter) *engine.Session {
	t.Helper()
	rb, err := runbook.Parse("rb.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	s, err := engine.Start(context.Background(), engine.Config{Runbook: rb, Env: "test", Mode: engine.ModeLive, Operator: "alice", Journal: j,
		Prompter: p, WorkDir: t.TempDir(), Steps: steps.Default(), Getenv: func(string) string { return "" },
		Stores: func(ctx context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
			return postgres.Open(ctx, spec)
		}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return s
}

// sameRows fails the test unless after (a pgDump) equals before, row
// for row, showing the first differences.
func sameRows(t *testing.T, when string, before, after []string) {
	t.Helper()
	wrong := 0
	for i := range before {
		if i >= len(after) || after[i] != before[i] {
			if wrong++; wrong <= 3 && i < len(after) {
				t.Errorf("%s: %s\nbefore: %s", when, after[i], before[i])
			}
		}
	}
	if wrong > 0 || len(after) != len(before) {
		t.Errorf("%s: %d of %d rows differ (%d rows after)", when, wrong, len(before), len(after))
	}
}
