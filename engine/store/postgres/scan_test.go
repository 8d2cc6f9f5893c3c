package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/internal/pgtest"
)

// TestIntegerKeySegments: an integer key splits into blocks of 1,024 keys
// dealt round-robin to the segments; negative keys and composite keys
// too; every row is read once whatever the page size.
func TestIntegerKeySegments(t *testing.T) {
	t.Parallel()
	for _, ddl := range []string{
		"CREATE TABLE items (id bigint PRIMARY KEY, tenant text, v int)",
		"CREATE TABLE items (id int, tenant text, v int, PRIMARY KEY (id, tenant))",
	} {
		var seed []engine.Item
		for i := -2000; i < 9000; i += 3 {
			seed = append(seed, engine.Item{"id": engine.Number(fmt.Sprint(i)), "tenant": fmt.Sprintf("t%d", i%3)})
		}
		st := newTable(t, ddl, seed)
		for _, tc := range []struct{ segments, limit int }{{1, 1000}, {4, 100}, {3, 777}} {
			got := 0
			for seg := range tc.segments {
				var cur []byte
				for {
					p, err := st.Scan(t.Context(), engine.ScanRequest{Segment: seg, TotalSegments: tc.segments, Cursor: cur, Limit: tc.limit})
					if err != nil {
						t.Fatal(err)
					}
					got += len(p.Items)
					if p.Next == nil {
						break
					}
					cur = p.Next
				}
			}
			if got != len(seed) {
				t.Errorf("%s: %d segments, pages of %d: read %d rows, want %d", ddl, tc.segments, tc.limit, got, len(seed))
			}
		}
	}
}

// TestScanReadsThroughTheKeyIndex: a page of one segment of several
// reads the rows after the cursor through the primary key's index, never
// the rest of the table (a sequential scan and a sort of every row after
// the cursor per page: quadratic over a migration), wherever the cursor.
func TestScanReadsThroughTheKeyIndex(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DB(t)
	exec(t, dsn, `CREATE TABLE items (id bigint PRIMARY KEY, address text, v int);
		INSERT INTO items SELECT i, 'street ' || i FROM generate_series(1, 100000) i; ANALYZE items`)
	st := open(t, dsn, "items")
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var cur []byte
	for page := 0; page < 30; page++ {
		req := engine.ScanRequest{Segment: 1, TotalSegments: 4, Cursor: cur, Limit: 1000, Attrs: []string{"address"}}
		if page%10 == 0 { // the plan at the start, a third and two thirds in
			q, args, err := st.ScanQueryForTest(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := c.Query(t.Context(), "EXPLAIN "+q, args...)
			if err != nil {
				t.Fatal(err)
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			plan := strings.Join(lines, "\n")
			if strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Sort") || !strings.Contains(plan, "Index Scan using items_pkey") {
				t.Fatalf("page %d: plan of %s\n%s\nwant an index scan of items_pkey, no sequential scan or sort", page, q, plan)
			}
		}
		p, err := st.Scan(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			if len(it) != 2 || it["address"] == nil {
				t.Fatalf("item %v, want id and address only", it)
			}
		}
		cur = p.Next
	}
}
