package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/postgres"
	"github.com/lockstep-run/lockstep/internal/pgtest"
)

// setKeyTypes are the key shapes the set-based batch is checked with:
// key(i) is row i's key.
var setKeyTypes = []struct {
	name, cols string
	key        func(i int) engine.Item
}{
	{"bigint", "id bigint PRIMARY KEY", func(i int) engine.Item { return engine.Item{"id": engine.Number(fmt.Sprint(i))} }},
	{"text", "id text PRIMARY KEY", func(i int) engine.Item { return engine.Item{"id": fmt.Sprintf("k-%d", i)} }},
	{"numeric", "id numeric PRIMARY KEY", func(i int) engine.Item { return engine.Item{"id": engine.Number(fmt.Sprintf("%d.5", i))} }},
	{"uuid", "id uuid PRIMARY KEY", func(i int) engine.Item {
		return engine.Item{"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i)}
	}},
	{"timestamptz", "id timestamptz PRIMARY KEY", func(i int) engine.Item {
		return engine.Item{"id": fmt.Sprintf("2026-01-02T03:%02d:%02dZ", i/60, i%60)}
	}},
	{"composite", "id int, tenant text, PRIMARY KEY (id, tenant)", func(i int) engine.Item {
		return engine.Item{"id": engine.Number(fmt.Sprint(i)), "tenant": fmt.Sprintf("t%d", i%2)}
	}},
}

// setBatch is a page of updates of several shapes: guards that hold and
// fail, a missing row, a rollback, NULL values and guards, a removed
// column, and two keys written twice in the batch (the second write of
// row 0 fails its version guard after the first; the second of row 7
// applies over the first).
func setBatch(key func(int) engine.Item) []engine.Update {
	fwd := func(i int, a any, unchanged ...engine.Attr) engine.Update {
		return engine.Update{Key: key(i), Set: []engine.Attr{{Name: "a", Value: a}}, Version: 2,
			Guard: engine.Guard{Below: 2, Unchanged: unchanged}}
	}
	return []engine.Update{
		fwd(0, "A0", engine.Attr{Name: "a", Value: "a0"}),
		fwd(1, "A1", engine.Attr{Name: "a", Value: "not a1"}),   // guard fails
		fwd(100, "A100", engine.Attr{Name: "a", Value: "a100"}), // no such row
		{Key: key(3), Set: []engine.Attr{{Name: "a", Value: "A3"}, {Name: "n", Value: engine.Number("3.25")}}, Version: 2,
			Guard: engine.Guard{Below: 2, Unchanged: []engine.Attr{{Name: "a", Value: "a3"}}}},
		{Key: key(4), Set: []engine.Attr{{Name: "j", Value: map[string]any{"y": engine.Number("4")}}}, Remove: []string{"n"}, Version: 2,
			Guard: engine.Guard{Below: 2, Unchanged: []engine.Attr{{Name: "j", Value: map[string]any{"x": engine.Number("4")}}}}},
		{Key: key(5), Set: []engine.Attr{{Name: "a", Value: "back"}}, Guard: engine.Guard{Equals: 1}}, // rollback of row 5 (v = 1)
		{Key: key(6), Set: []engine.Attr{{Name: "a", Value: "back"}}, Guard: engine.Guard{Equals: 1}}, // v NULL: fails
		{Key: key(7), Set: []engine.Attr{{Name: "a", Value: nil}}, Guard: engine.Guard{Unchanged: []engine.Attr{{Name: "n", Value: engine.Number("7")}}}},
		fwd(0, "again", engine.Attr{Name: "a", Value: "A0"}), // row 0 again: now at version 2
		{Key: key(7), Set: []engine.Attr{{Name: "a", Value: "x"}}, Guard: engine.Guard{Unchanged: []engine.Attr{{Name: "n", Value: engine.Number("7")}}}},
		fwd(9, "A9", engine.Attr{Name: "j", Value: nil}, engine.Attr{Name: "ghost", Value: nil}), // j is not NULL: fails
		fwd(8, "A8", engine.Attr{Name: "a", Value: "a8"}, engine.Attr{Name: "ghost", Value: nil}),
		fwd(2, "A2", engine.Attr{Name: "ghost", Value: "boo"}), // a column the table lacks holds no value: fails
	}
}

// hashJoins makes the database's new sessions join by hashing, where
// the order in which two updates of one key meet their row is the
// hash table's, not the batch's.
const hashJoins = `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET enable_nestloop = off', current_database());
	EXECUTE format('ALTER DATABASE %I SET enable_mergejoin = off', current_database()); END $$;`

// TestUpdateBatchSetBasedMatchesPerRow: for every key type, a batch of
// mixed shapes applied set-based gives each update the outcome and error
// one Update call after another gives it, and leaves the same table,
// whatever join the server picks.
func TestUpdateBatchSetBasedMatchesPerRow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, setup string }{{"planner's join", ""}, {"hash join", hashJoins}} {
		for _, kt := range setKeyTypes {
			t.Run(tc.name+"/"+kt.name, func(t *testing.T) {
				t.Parallel()
				testSetMatchesPerRow(t, tc.setup+"CREATE TABLE items ("+kt.cols+", a text, n numeric, j jsonb, v int)", kt.key)
			})
		}
	}
}

func testSetMatchesPerRow(t *testing.T, ddl string, key func(int) engine.Item) {
	var seed []engine.Item
	for i := range 10 {
		it := key(i)
		it["a"], it["n"], it["j"] = fmt.Sprintf("a%d", i), engine.Number(fmt.Sprint(i)), map[string]any{"x": engine.Number(fmt.Sprint(i))}
		if i%2 == 1 {
			it["v"] = engine.Number("1")
		}
		seed = append(seed, it)
	}
	set, rows := newTable(t, ddl, seed), newTable(t, ddl, seed)
	us := setBatch(key)
	got, ok := set.UpdateSetsForTest(t.Context(), us)
	if !ok {
		t.Fatal("UpdateSetsForTest() took the per-row path, want set-based")
	}
	for i, u := range us {
		want := rows.Update(t.Context(), u)
		if fmt.Sprint(got[i]) != fmt.Sprint(want) {
			t.Errorf("update %d (%v): set-based error %v, want %v", i, u.Key, got[i], want)
		}
	}
	if g, w := tableText(t, set), tableText(t, rows); g != w {
		t.Errorf("tables differ:\nset-based\n%s\nper row\n%s", g, w)
	}
}

// TestUpdateBatchSetBasedFallsBack: a batch the set-based statement
// cannot carry exactly — one row written by updates of two shapes, a
// value the column refuses — runs per row, with the per-row outcome.
func TestUpdateBatchSetBasedFallsBack(t *testing.T) {
	t.Parallel()
	// numeric keys: "1" and "1.0" are one row
	ddl := "CREATE TABLE items (id numeric PRIMARY KEY, a text, n numeric, j jsonb, v int)"
	seed := []engine.Item{{"id": engine.Number("1"), "a": "a1"}, {"id": engine.Number("2"), "a": "a2"}}
	k := func(i int) engine.Item { return engine.Item{"id": engine.Number(fmt.Sprint(i))} }
	for _, tc := range []struct {
		name string
		us   []engine.Update
		set  bool // the set-based path takes it
		want []string
	}{
		{"one row, two shapes", []engine.Update{
			{Key: k(1), Set: []engine.Attr{{Name: "a", Value: "b"}}},
			{Key: k(1), Set: []engine.Attr{{Name: "n", Value: engine.Number("1")}}, Guard: engine.Guard{Unchanged: []engine.Attr{{Name: "a", Value: "b"}}}},
		}, false, []string{"<nil>", "<nil>"}},
		{"one row, two spellings of its key", []engine.Update{
			{Key: k(1), Set: []engine.Attr{{Name: "a", Value: "b"}}, Version: 2, Guard: engine.Guard{Below: 2}},
			{Key: engine.Item{"id": engine.Number("1.0")}, Set: []engine.Attr{{Name: "a", Value: "c"}}, Version: 2, Guard: engine.Guard{Below: 2}},
		}, true, []string{"<nil>", "update items {id=1.0}: guard does not hold: condition failed"}},
		{"a value the column refuses", []engine.Update{
			{Key: k(1), Set: []engine.Attr{{Name: "n", Value: "not a number"}}},
			{Key: k(2), Set: []engine.Attr{{Name: "n", Value: engine.Number("2")}}},
		}, false, []string{"rejected", "<nil>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := newTable(t, ddl, seed)
			_, set := st.UpdateSetsForTest(t.Context(), tc.us)
			if set != tc.set {
				t.Fatalf("set-based path taken: %v, want %v", set, tc.set)
			}
			st = newTable(t, ddl, seed)
			errs := st.UpdateBatch(t.Context(), tc.us)
			for i, err := range errs {
				if got := fmt.Sprint(err); tc.want[i] == "rejected" && !errors.Is(err, engine.ErrRejected) || tc.want[i] != "rejected" && got != tc.want[i] {
					t.Errorf("update %d: %v, want %s", i, err, tc.want[i])
				}
			}
		})
	}
}

// TestUpdateBatchSetBasedConcurrentWriter: a row another transaction
// changes after the page was read fails its guard, and a row another
// transaction holds locked while the statement runs is checked against
// the value that transaction commits; the page's other rows are written.
func TestUpdateBatchSetBasedConcurrentWriter(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DB(t)
	exec(t, dsn, "CREATE TABLE items (id bigint PRIMARY KEY, a text, b text, v int)")
	st := open(t, dsn, "items")
	var seed []engine.Item
	for i := range 6 {
		seed = append(seed, engine.Item{"id": engine.Number(fmt.Sprint(i)), "a": fmt.Sprintf("a%d", i)})
	}
	if err := st.Put(t.Context(), seed); err != nil {
		t.Fatal(err)
	}
	var us []engine.Update
	for i := range 6 { // what migrate plans from the page it read
		us = append(us, engine.Update{Key: engine.Item{"id": engine.Number(fmt.Sprint(i))}, Set: []engine.Attr{{Name: "b", Value: fmt.Sprintf("B%d", i)}},
			Version: 2, Guard: engine.Guard{Below: 2, Unchanged: []engine.Attr{{Name: "a", Value: fmt.Sprintf("a%d", i)}}}})
	}
	ctx := t.Context()
	exec(t, dsn, "UPDATE items SET a = 'changed' WHERE id = 1") // committed after the read
	other, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE items SET a = 'also changed' WHERE id = 4"); err != nil {
		t.Fatal(err)
	}
	done := make(chan []error)
	go func() {
		errs, ok := st.UpdateSetsForTest(ctx, us)
		if !ok {
			errs = nil
		}
		done <- errs
	}()
	waitForLockWait(t, dsn)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	errs := <-done
	if errs == nil {
		t.Fatal("UpdateSetsForTest() took the per-row path, want set-based")
	}
	for i, err := range errs {
		if failed := i == 1 || i == 4; failed != (err != nil) || failed && !errors.Is(err, engine.ErrConditionFailed) {
			t.Errorf("update %d: %v, want a failed guard: %v", i, err, failed)
		}
	}
	got := tableText(t, st)
	want := "(0,a0,B0,2)\n(1,changed,,)\n(2,a2,B2,2)\n(3,a3,B3,2)\n(4,\"also changed\",,)\n(5,a5,B5,2)\n"
	if got != want {
		t.Errorf("table:\n%s\nwant\n%s", got, want)
	}
}

// waitForLockWait returns once a session of dsn waits on a row lock.
func waitForLockWait(t *testing.T, dsn string) {
	t.Helper()
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	for {
		var n int
		err := c.QueryRow(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
}

// tableText is the store's table, one row's text a line, in key order.
func tableText(t *testing.T, st *postgres.Store) string {
	t.Helper()
	c, err := pgx.Connect(t.Context(), st.DSNForTest())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	rows, err := c.Query(t.Context(), "SELECT items::text FROM items ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}
