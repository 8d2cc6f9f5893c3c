package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// migrateRows is how many rows BenchmarkMigratePerRow migrates per
// iteration.
const migrateRows = 20_000

// splitRunbook is bench/'s workload: split address into three columns,
// version 2, the store's default segments and page size.
const splitRunbook = `lockstep: 1
name: split
title: split
version: 2
strategy: multi-step
roles: {responsible: [t], accountable: t}
environments:
  test:
    store: {kind: sqlite, path: DB, table: users, key: [id]}
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
            postcode: 'trim(split(item.address, ",")[2])'
`

// usersTable writes n rows shaped like bench/'s users table into a new
// database file in dir and returns its path.
func usersTable(tb testing.TB, dir string, n int) string {
	tb.Helper()
	path := filepath.Join(dir, "data.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, address TEXT,
			street_name TEXT, city TEXT, postcode TEXT, v INTEGER)`,
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
			INSERT INTO users (id, name, address) SELECT i + 1, 'user ' || i,
			printf('%d Main St, %s, %05d', i % 997 + 1, CASE i % 3 WHEN 0 THEN 'Paris' WHEN 1 THEN 'Oslo' ELSE 'Rome' END,
			10000 + (i * 7919) % 90000) FROM n`,
	} {
		if _, err := db.Exec(q, n); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
	return path
}

// runSession runs the runbook src (its store's "path: DB" pointing at
// path) in a live session with the stores open gives, and returns the
// session's outcome and its events' output lines.
func runSession(tb testing.TB, dir, path, src string, open engine.StoreOpener) (engine.Outcome, []string) {
	tb.Helper()
	ctx := context.Background()
	rb, err := runbook.Parse(filepath.Join(dir, "rb.yaml"), []byte(strings.Replace(src, "path: DB", "path: "+path, 1)))
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	j, err := journal.Open(filepath.Join(dir, "journal.db"))
	if err != nil {
		tb.Fatal(err)
	}
	defer j.Close()
	var lines []string
	s, err := engine.Start(ctx, engine.Config{Runbook: rb, Env: "test", Mode: engine.ModeLive, Operator: "t", Journal: j,
		Prompter: rig.NoPrompts{}, Stores: open, WorkDir: filepath.Join(dir, "work"), Steps: steps.Default(),
		Observer: func(ev engine.Event) {
			if o, err := engine.DecodeAs[engine.Output](ev); err == nil {
				lines = append(lines, o.Text)
			}
		}})
	if err != nil {
		tb.Fatalf("start: %v", err)
	}
	out, _ := s.Run(ctx)
	return out, lines
}

// openPerRowStore opens the SQLite store with pushdown hidden.
func openPerRowStore(_ context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
	st, err := sqlite.Open(spec)
	if err != nil {
		return nil, err
	}
	return struct {
		engine.Store
		engine.BatchUpdater
		engine.MigrateTuner
		engine.Counter
	}{st, st, st, st}, nil
}

// BenchmarkMigratePerRow runs bench/'s split-address migration on the
// per-row path (pushdown hidden) and reports CPU time, allocations and
// bytes allocated per row: the figures issue 17 (c) asks to cut.
func BenchmarkMigratePerRow(b *testing.B) { benchPerRow(b, migrateRows) }

// BenchmarkMigrateRound is BenchmarkMigratePerRow on one round of bench/'s
// row (c), rowbufRows rows: long enough that a segment's pages recycle
// their memory as they do in (c) (the 20,000 rows of
// BenchmarkMigratePerRow are five pages a segment, most of them the
// pipeline's first).
func BenchmarkMigrateRound(b *testing.B) { benchPerRow(b, rowbufRows) }

// rowbufRows is bench/ (c)'s rows per round: 199,998 over three rounds.
const rowbufRows = 66_666

// benchPerRow migrates a fresh table of n rows per iteration on the
// per-row path and reports CPU µs, allocations, bytes and read system
// calls per row.
func benchPerRow(b *testing.B, n int) {
	var cpu int64
	var ms0, ms1 runtime.MemStats
	var allocs, bytes, reads uint64
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		path := usersTable(b, dir, n)
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		c, r := cpuNow(), readSyscalls(b)
		b.StartTimer()
		out, lines := runSession(b, dir, path, splitRunbook, openPerRowStore)
		b.StopTimer()
		cpu += int64(cpuNow() - c)
		reads += readSyscalls(b) - r
		runtime.ReadMemStats(&ms1)
		allocs += ms1.Mallocs - ms0.Mallocs
		bytes += ms1.TotalAlloc - ms0.TotalAlloc
		if out != engine.OutcomeCompleted {
			b.Fatalf("outcome %q: %s", out, strings.Join(lines, "\n"))
		}
		b.StartTimer()
	}
	rows := float64(b.N * n)
	b.ReportMetric(float64(cpu)/1e3/rows, "cpu-µs/row")
	b.ReportMetric(float64(allocs)/rows, "allocs/row")
	b.ReportMetric(float64(bytes)/rows, "B/row")
	b.ReportMetric(float64(reads)*1000/rows, "reads/1k-rows")
}

// readSyscalls is the number of read system calls (read, pread) this
// process has made, from /proc/self/io (0 where there is none).
func readSyscalls(tb testing.TB) uint64 {
	tb.Helper()
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "syscr: "); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				tb.Fatalf("/proc/self/io: %v", err)
			}
			return n
		}
	}
	return 0
}
