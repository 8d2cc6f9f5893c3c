package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// scanSpy is the SQLite store with its Scan requests recorded; every
// other method (pushdown, batches, counts) is the store's own. After
// stopAfter scans it fails them, to end the step early.
type scanSpy struct {
	*sqlite.Store
	stopAfter int
	mu        sync.Mutex
	limits    []int
}

var errEnough = errors.New("enough pages seen")

func (s *scanSpy) Scan(ctx context.Context, req engine.ScanRequest) (engine.Page, error) {
	s.mu.Lock()
	s.limits = append(s.limits, req.Limit)
	n := len(s.limits)
	s.mu.Unlock()
	if n > s.stopAfter {
		return engine.Page{}, errEnough
	}
	return s.Store.Scan(ctx, req)
}

// TestFallbackPageHoldsOnePageSize: on a large table pushdown pages grow
// past the step's page size (up to ten times it), but a page that falls
// back to the per-row path reads at most the page size, since the per-row
// path holds its page's items in memory. Before, the fallback read the
// grown range at once, and the peak RSS of a 1M-row migration was twice
// that of a 100k-row one (issue 17 (d)). The count of rows per read is
// what bounds that memory.
func TestFallbackPageHoldsOnePageSize(t *testing.T) {
	const rows = 400_000 // pushdown pages of thousands of rows: a fiftieth of a segment
	dir := t.TempDir()
	path := filepath.Join(dir, "data.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	mustDB(t, db, "CREATE TABLE items (id INTEGER PRIMARY KEY, a TEXT, b TEXT, v INTEGER)")
	// Every other row at version 1, the others without one, and a target
	// of 2: each page's writes come from two versions, so the page goes
	// per row (each row's rollback origin must be recorded): every page
	// falls back.
	mustDB(t, db, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO items (id, a, v) SELECT i, 'x, ' || i, CASE WHEN i % 2 = 0 THEN 1 END FROM n`, rows)
	db.Close()
	src := `lockstep: 1
name: fallback
title: fallback
version: 2
strategy: multi-step
roles: {responsible: [t], accountable: t}
environments:
  test:
    store: {kind: sqlite, path: DB, table: items, key: [id]}
phases:
  - name: run
    steps:
      - id: backfill
        kind: migrate
        with:
          set: {b: 'trim(split(item.a, ",")[1])'}
`
	var spy *scanSpy
	open := func(_ context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
		st, err := sqlite.Open(spec)
		if err != nil {
			return nil, err
		}
		spy = &scanSpy{Store: st, stopAfter: 3}
		return spy, nil
	}
	_, lines := runSession(t, dir, path, src, open) // ends failing, on errEnough
	if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "path: pushdown") }) {
		t.Fatalf("output %q, want the pushdown path (the test needs its pages to fall back)", lines)
	}
	spy.mu.Lock()
	defer spy.mu.Unlock()
	if len(spy.limits) == 0 {
		t.Fatal("no page fell back to the per-row path")
	}
	const pageSize = 2000 // the store's MigrateDefaults
	if got := slices.Max(spy.limits); got > pageSize {
		t.Errorf("a per-row read asked for %d rows, want at most the page size %d (reads: %v)", got, pageSize, spy.limits)
	}
}
