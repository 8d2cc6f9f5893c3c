package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// pushdownSpy is the SQLite store with the row limit of each pushed-down
// page recorded.
type pushdownSpy struct {
	*sqlite.Store
	mu     sync.Mutex
	limits []int
}

func (s *pushdownSpy) PushdownPage(ctx context.Context, req engine.PushdownRequest, beforeWrite func(engine.PushdownPlan) error) (engine.PushdownResult, error) {
	s.mu.Lock()
	s.limits = append(s.limits, req.Limit)
	s.mu.Unlock()
	return s.Store.PushdownPage(ctx, req, beforeWrite)
}

// TestPushdownPagesUnderAWriteLimitAreOneChunk: under max_write_rate a
// pushed-down page is at most a tenth of a second of writes (the
// limiter's chunk, as the per-row path commits). A page of a second's
// worth lands at once and then takes its tokens, so that the next page
// could land a second later: twice the limit in one window (bench row
// (g) measured 2.00× against its 1.5× target).
func TestPushdownPagesUnderAWriteLimitAreOneChunk(t *testing.T) {
	t.Parallel()
	const rows, rate = 600, 2000
	dir := t.TempDir()
	path := filepath.Join(dir, "data.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	mustDB(t, db, "CREATE TABLE items (id INTEGER PRIMARY KEY, a TEXT, b TEXT, v INTEGER)")
	mustDB(t, db, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO items (id, a) SELECT i, 'x, ' || i FROM n`, rows)
	db.Close()
	src := `lockstep: 1
name: limited
title: limited
version: 2
strategy: multi-step
roles: {responsible: [t], accountable: t}
environments:
  test:
    store: {kind: sqlite, path: DB, table: items, key: [id]}
    max_write_rate: 2000
phases:
  - name: run
    steps:
      - id: backfill
        kind: migrate
        with:
          set: {b: 'trim(split(item.a, ",")[1])'}
`
	var spy *pushdownSpy
	open := func(_ context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
		st, err := sqlite.Open(spec)
		if err != nil {
			return nil, err
		}
		spy = &pushdownSpy{Store: st}
		return spy, nil
	}
	if out, lines := runSession(t, dir, path, src, open); out != engine.OutcomeCompleted {
		t.Fatalf("session ended %s\n%v", out, lines)
	}
	spy.mu.Lock()
	defer spy.mu.Unlock()
	if len(spy.limits) == 0 {
		t.Fatal("no page was pushed down")
	}
	const chunk = rate / 10
	for i, l := range spy.limits {
		if l > chunk {
			t.Fatalf("pushed-down page %d asked for %d rows, want at most a tenth of a second of the limit (%d); pages %v", i, l, chunk, spy.limits)
		}
	}
}
