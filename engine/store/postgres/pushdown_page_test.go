package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/postgres"
	"github.com/lockstep-run/lockstep/engine/store/storetest/pushdowntest"
	"github.com/lockstep-run/lockstep/internal/pgtest"
	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

// TestPushdownPageCounts runs the shared table of single pushdown pages
// (engine/store/storetest/pushdowntest) on PostgreSQL.
func TestPushdownPageCounts(t *testing.T) {
	t.Parallel()
	pushdowntest.Run(t, func(t *testing.T, rows []pushdowntest.Row) (engine.Pushdowner, func(*testing.T, int64) int) {
		st, dsn := pageTable(t, rows)
		return st, func(t *testing.T, v int64) int {
			n, err := strconv.Atoi(count(t, dsn, fmt.Sprintf("SELECT count(*) FROM items WHERE v = %d", v)))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	})
}

// TestPushdownPagesOfEachKeyType runs a step page by page over tables
// keyed by a bigint, a text and two columns, in full pages written on
// the prediction and a short last one: each page is the next limit rows
// in key order, and every row is migrated once.
func TestPushdownPagesOfEachKeyType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ddl, key string
		keys           []string
	}{
		{"bigint", "id bigint PRIMARY KEY", "i * 7", []string{"id"}},
		{"text", "id text PRIMARY KEY", "'k' || i", []string{"id"}}, // k10 sorts before k2
		{"text and integer", "a text, b integer, PRIMARY KEY (a, b)", "'g' || (i % 3), i", []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dsn := pgtest.DB(t)
			cols := strings.Join(tt.keys, ", ")
			exec(t, dsn, fmt.Sprintf(`CREATE TABLE items (%s, addr text, city text, code text, v integer);
				INSERT INTO items (%s, addr) SELECT %s, i || ' Main St, Paris, 750' || i FROM generate_series(1, 23) i`, tt.ddl, cols, tt.key))
			st := open(t, dsn, "items", tt.keys...)
			step := pageStep(t, "item.addr != nil", pushdowntest.Split)
			var cursor []byte
			var sizes []int64
			for range 10 {
				res, err := st.PushdownPage(t.Context(), engine.PushdownRequest{TotalSegments: 1, Cursor: cursor, Limit: 5,
					Migrate: step, VersionAttr: "v", Target: 2}, func(engine.PushdownPlan) error { return nil })
				if err != nil || res.Fallback != "" {
					t.Fatalf("PushdownPage() = %+v, %v; want a page pushed down", res, err)
				}
				sizes = append(sizes, res.Migrated)
				if cursor = res.Next; cursor == nil {
					break
				}
			}
			if want := []int64{5, 5, 5, 5, 3}; !reflect.DeepEqual(sizes, want) {
				t.Errorf("pages migrated %v rows, want %v", sizes, want)
			}
			if n := count(t, dsn, "SELECT count(*) FROM items WHERE v = 2 AND city = 'Paris' AND code LIKE '750%'"); n != "23" {
				t.Errorf("%s rows migrated, want 23", n)
			}
		})
	}
}

// TestPushdownPageWithAConcurrentWriter: a writer that commits a change
// to a row of a predicted page after the page read its last row, before
// its UPDATE, fails the page (a serialization failure in its repeatable
// read transaction): nothing of it is written, the writer's row keeps
// the writer's values, and the page says it goes per row.
func TestPushdownPageWithAConcurrentWriter(t *testing.T) {
	t.Parallel()
	rows := make([]pushdowntest.Row, 6)
	for i := range rows {
		rows[i] = pushdowntest.Row{Addr: "1 Main St, Paris, 75001"}
	}
	st, dsn := pageTable(t, rows)
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	wrote := 0
	st.SetAfterPageEndForTest(func(ctx context.Context) {
		if wrote++; wrote == 1 {
			if _, err := c.Exec(ctx, "UPDATE items SET city = 'Lyon', v = 5 WHERE id = 2"); err != nil {
				t.Error(err)
			}
		}
	})
	var plans []engine.PushdownPlan
	res, err := st.PushdownPage(t.Context(), engine.PushdownRequest{TotalSegments: 1, Limit: 4,
		Migrate: pageStep(t, "item.addr != nil", pushdowntest.Split), VersionAttr: "v", Target: 2}, func(p engine.PushdownPlan) error {
		plans = append(plans, p)
		return nil
	})
	if err != nil || !strings.Contains(res.Fallback, "concurrent write") || len(plans) > 0 {
		t.Fatalf("PushdownPage() = %+v, %v with plans %v; want a fallback for the concurrent write and no plan", res, err, plans)
	}
	if wrote != 1 {
		t.Errorf("the page read its last row %d times, want once", wrote)
	}
	if n := count(t, dsn, "SELECT count(*) FROM items WHERE v = 2"); n != "0" {
		t.Errorf("%s rows written by the failed page, want 0", n)
	}
	if n := count(t, dsn, "SELECT count(*) FROM items WHERE id = 2 AND city = 'Lyon' AND v = 5"); n != "1" {
		t.Errorf("the writer's row was overwritten")
	}
}

// pageTable creates the items table holding rows (ids from 1) and
// returns the store on it and its DSN.
func pageTable(t *testing.T, rows []pushdowntest.Row) (*postgres.Store, string) {
	t.Helper()
	dsn := pgtest.DB(t)
	exec(t, dsn, "CREATE TABLE items (id bigint PRIMARY KEY, addr text, city text, code text, v integer)")
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	for i, r := range rows {
		if _, err := c.Exec(t.Context(), "INSERT INTO items VALUES ($1, $2, $3, $4, $5)", i+1, r.Addr, r.City, r.Code, r.V); err != nil {
			t.Fatal(err)
		}
	}
	return open(t, dsn, "items"), dsn
}

// pageStep is the PostgreSQL translation of a step.
func pageStep(t *testing.T, where string, set map[string]string) *sqlexpr.Migrate {
	t.Helper()
	return pushdowntest.Translate(t, sqlexpr.Postgres, where, set)
}
