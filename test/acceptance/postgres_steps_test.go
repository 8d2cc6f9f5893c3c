package acceptance

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresStepsRunbook adds a column with a sql step, estimates, backs
// up and drills a restore, then under the lease migrates (count + 1 and
// a note in the new column) and verifies.
func postgresStepsRunbook(table string) string {
	return fmt.Sprintf(`lockstep: 1
name: acc-pg-steps
title: Every data step on PostgreSQL
version: %[2]d
strategy: multi-step
roles:
  responsible: [acc-op]
  accountable: acc-op
environments:
  test:
    store: %[1]s
phases:
  - name: prepare
    steps:
      - id: add-note
        kind: sql
        with: {statements: ["ALTER TABLE %[3]s ADD COLUMN note text"]}
  - name: estimate
    steps:
      - {id: size, kind: estimate, with: {where: "item.v == nil || item.v < %[2]d", sample: 200}}
  - name: backup
    steps:
      - {id: snapshot, kind: backup}
      - {id: drill, kind: restore-drill, with: {from: snapshot}}
  - name: run
    steps:
      - {id: lock, kind: lock}
      - id: bump
        kind: migrate
        with:
          where: "item.v == nil || item.v < %[2]d"
          set: {count: "item.count + 1", note: '"bumped"'}
          batch_size: 250
        rollback: {kind: migrate, with: {set: {count: "item.count - 1"}, remove: [note]}}
      - {id: check, kind: verify, with: {expect_none: "item.v == nil || item.v < %[2]d", sample: 200, assert: 'item.note == "bumped"'}}
      - {id: unlock, kind: unlock}
`, postgresStore(table), targetVersion, table)
}

// TestPostgresDataSteps runs every data step on a PostgreSQL table with
// the binary: a dry run first, which rolls the sql step back and writes
// nothing; then live, which adds the column, backs up and proves the
// backup restorable (its scratch table dropped after), migrates every
// row exactly once under the lease, verifies, and releases the lease.
func TestPostgresDataSteps(t *testing.T) {
	t.Parallel()
	const items = 3000
	h := newHarness(t)
	dsn := pgDB(t)
	h.vars = append(h.vars, "PG_DSN="+dsn)
	seeded := seedPostgres(t, dsn, "counters", items)
	rb := h.writeFile("steps.yaml", postgresStepsRunbook("counters"))
	c := pgConn(t, dsn)
	ctx := context.Background()
	hasNote := func() bool {
		var n int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'counters' AND column_name = 'note'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}

	dry := h.mustRun(0, 2*time.Minute, "run", rb, "--env", "test", "--plain", "--mode", "dry-run")
	if hasNote() {
		t.Errorf("the dry run left the sql step's column behind\n%s", dry)
	}
	checkMigratedOnce(t, seeded, readPostgresAt(t, dsn, seedVersion), nil) // nothing written

	r := h.mustRun(0, 3*time.Minute, "run", rb, "--env", "test", "--plain")
	if !hasNote() {
		t.Fatalf("the sql step did not add the column\n%s", r)
	}
	checkMigratedOnce(t, seeded, readPostgres(t, dsn, "counters"), nil)
	var notes int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM counters WHERE note = 'bumped'`).Scan(&notes); err != nil || notes != items {
		t.Errorf("%d rows have the note (%v), want %d", notes, err, items)
	}
	id := h.sessions()[1].ID
	var est struct {
		Items int64 `json:"items"`
	}
	if status := h.stepResult(id, "size", &est); status != "done" {
		t.Errorf("estimate ended %q", status)
	}
	var drill drillResult
	if status := h.stepResult(id, "drill", &drill); status != "done" || drill.Expected != items {
		t.Errorf("restore-drill ended %q with %+v, want done with %d items", status, drill, items)
	}
	var scratch, leases int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'lockstep_scratch'`).Scan(&scratch); err != nil || scratch != 0 {
		t.Errorf("%d scratch tables left (%v), want 0", scratch, err)
	}
	if err := c.QueryRow(ctx, `SELECT count(*) FROM lockstep_leases`).Scan(&leases); err != nil || leases != 0 {
		t.Errorf("%d leases left after unlock (%v), want 0", leases, err)
	}
	if strings.Contains(r.Stdout+r.Stderr+dry.Stdout+dry.Stderr, pgPassword) {
		t.Error("the output shows the DSN's password")
	}
}

// readPostgresAt reads the counters back, failing unless each is at
// version v, and returns them as if migrated once (count + 1, target
// version): checkMigratedOnce against the seed then proves nothing was
// written.
func readPostgresAt(t *testing.T, dsn string, v int64) map[string]row {
	t.Helper()
	out := readPostgres(t, dsn, "counters")
	for id, r := range out {
		if r.V != v {
			t.Errorf("item %s at version %d, want %d", id, r.V, v)
		}
		out[id] = row{Count: r.Count + 1, V: targetVersion}
	}
	return out
}

// TestPostgresSQLLockTimeout: a sql step whose ALTER TABLE waits behind a
// long transaction gives up after lock_timeout (5s by default) instead of
// queueing every query of the table behind it; the step fails saying so
// and the table is unchanged.
func TestPostgresSQLLockTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	dsn := pgDB(t)
	h.vars = append(h.vars, "PG_DSN="+dsn)
	seedPostgres(t, dsn, "counters", 10)
	rb := h.writeFile("alter.yaml", strings.Replace(postgresStepsRunbook("counters"), "  - name: estimate", "  - name: never", 1))
	ctx := context.Background()
	holder := pgConn(t, dsn)
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT count(*) FROM counters"); err != nil { // a long reader holds ACCESS SHARE
		t.Fatal(err)
	}
	start := time.Now()
	r := h.run(time.Minute, "run", rb, "--env", "test", "--plain", "--yes")
	if r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, "lock_timeout (5s) expired") {
		t.Errorf("run behind a held lock: exit %d, want a failure naming lock_timeout\n%s", r.Code, r)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("took %v, want about 5s", took)
	}
	var n int
	if err := holder.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'counters' AND column_name = 'note'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("note column exists=%d (%v), want 0", n, err)
	}
}

// TestPostgresMigrateWithConcurrentWriter runs the counter migration
// while an application bumps random counters still at version 1, on
// both paths: no write is lost (each changed item ends at the
// application's last value + 1). Per row, the migration counts the
// conflicts its guard caught; pushed down, each page is one UPDATE in a
// repeatable-read transaction, and a page a concurrent write touched
// runs again per row.
func TestPostgresMigrateWithConcurrentWriter(t *testing.T) {
	t.Parallel()
	const items = 5000
	for _, tc := range []struct {
		name  string
		where string // replaces the counter runbook's where ("" keeps it)
	}{
		{"pushdown", ""},
		// string() has no SQL translation: every page runs per row.
		{"per row", `where: "(item.v == nil || item.v < 2) && string(item.count) != ''"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			dsn := pgDB(t)
			h.vars = append(h.vars, "PG_DSN="+dsn)
			seeded := seedPostgres(t, dsn, "counters", items)
			src := counterRunbook("acc-pg-writer", postgresStore("counters"), 1000, 500, 1)
			if tc.where != "" {
				src = regexp.MustCompile(`where: ".*"`).ReplaceAllLiteralString(src, tc.where)
			}
			rb := h.writeFile("counter.yaml", src)
			p := h.start("run", rb, "--env", "test", "--plain")
			w := startPGWriter(t, dsn, slices.Sorted(maps.Keys(seeded)), p.Done())
			r := p.Wait(3 * time.Minute)
			bumped, writes, err := w.wait()
			if err != nil {
				t.Fatalf("writer: %v", err)
			}
			t.Logf("the writer changed %d items with %d writes", len(bumped), writes)
			if r.Code != 0 {
				t.Fatalf("run: exit %d, want 0\n%s", r.Code, r)
			}
			if len(bumped) == 0 {
				t.Fatal("the writer changed no item: nothing tested")
			}
			checkMigratedOnce(t, seeded, readPostgres(t, dsn, "counters"), bumped)
			var res migrateResult
			if status := h.stepResult(h.onlySession().ID, "bump", &res); status != "done" {
				t.Fatalf("bump ended %q, want done", status)
			}
			t.Logf("result: %+v", res)
			switch tc.name {
			case "pushdown":
				if res.PushdownPages == 0 || res.Conflicts > writes {
					t.Errorf("%d pages pushed down, %d conflicts; want some pushed down, at most the writer's %d writes", res.PushdownPages, res.Conflicts, writes)
				}
			default:
				if res.PushdownPages != 0 || res.Conflicts == 0 || res.Conflicts > writes {
					t.Errorf("%d pages pushed down, %d conflicts; want none pushed down, between 1 and the writer's %d writes", res.PushdownPages, res.Conflicts, writes)
				}
			}
			if res.Migrated != items || res.Unresolved != 0 || res.Failures != 0 {
				t.Errorf("result migrated=%d unresolved=%d failures=%d, want %d, 0, 0", res.Migrated, res.Unresolved, res.Failures, items)
			}
		})
	}
}

// pgWriter is an application writing to PostgreSQL while a migration runs.
type pgWriter struct {
	done   chan struct{}
	mu     sync.Mutex
	last   map[string]int64
	writes int64
	err    error
}

// startPGWriter bumps the count of random ids while they are still at
// version 1, about every 2 ms, until stop is closed.
func startPGWriter(t *testing.T, dsn string, ids []string, stop <-chan struct{}) *pgWriter {
	t.Helper()
	c := pgConn(t, dsn)
	w := &pgWriter{done: make(chan struct{}), last: map[string]int64{}}
	rng := rand.New(rand.NewPCG(7, 11))
	go func() {
		defer close(w.done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			id := ids[rng.IntN(len(ids))]
			k, _ := strconv.ParseInt(id, 10, 64)
			var v int64
			err := c.QueryRow(context.Background(), `UPDATE counters SET count = count + $1 WHERE id = $2 AND v = $3 RETURNING count`,
				1+rng.IntN(1000), k, seedVersion).Scan(&v)
			switch {
			case err == pgx.ErrNoRows: // already migrated: the application leaves it
				continue
			case err != nil:
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
				return
			}
			w.mu.Lock()
			w.last[id] = v
			w.writes++
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *pgWriter) wait() (map[string]int64, int64, error) {
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last, w.writes, w.err
}
