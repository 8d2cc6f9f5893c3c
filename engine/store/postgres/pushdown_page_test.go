package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/postgres"
	"github.com/lockstep-run/lockstep/internal/pgtest"
	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

// pageRow is one row of TestPushdownPageCounts' table: an address, what
// the step's columns already hold, and the version.
type pageRow struct {
	addr       any
	city, code any
	v          any
}

var pageSplit = map[string]string{"city": `trim(split(item.addr, ",")[1])`, "code": `trim(split(item.addr, ",")[2])`}

// TestPushdownPageCounts runs single pushdown pages over tables whose
// rows are all plain writes from one version, or mixed, and checks every
// count, the write-ahead plan, the cursor and what the table holds
// after. A full page (more rows than the limit) is written on the
// prediction that every row is a plain write from its last row's
// version; the cases where that does not hold must come out as the
// counted path makes them (a mispredicted page is rolled back and
// counted), and the rows that need the per-row path still go there.
func TestPushdownPageCounts(t *testing.T) {
	t.Parallel()
	fresh := func(n int, v any) []pageRow {
		rows := make([]pageRow, n)
		for i := range rows {
			rows[i] = pageRow{addr: "1 Main St, Paris , 75001", v: v}
		}
		return rows
	}
	with := func(rows []pageRow, i int, r pageRow) []pageRow { rows[i] = r; return rows }
	tests := []struct {
		name   string
		rows   []pageRow
		limit  int
		target int64
		want   engine.PushdownResult // Next is checked as hasNext
		next   bool
		plan   engine.PushdownPlan // Upto is checked as set or not
		upto   bool
		writes int // rows at the target version after the page
	}{
		{"short page, no version", fresh(5, nil), 10, 2,
			engine.PushdownResult{Scanned: 5, Migrated: 5}, false,
			engine.PushdownPlan{Rows: 5, Writes: 5, From: "none"}, false, 5},
		{"short page, a row already at the target", with(fresh(4, int64(1)), 2, pageRow{addr: "a, b, c", v: int64(2)}), 10, 2,
			engine.PushdownResult{Scanned: 4, Migrated: 3, Already: 1}, false,
			engine.PushdownPlan{Rows: 4, Writes: 3}, false, 4},
		{"full page, no version", fresh(5, nil), 3, 2,
			engine.PushdownResult{Scanned: 3, Migrated: 3}, true,
			engine.PushdownPlan{Rows: 3, Writes: 3, From: "none"}, true, 3},
		{"full page, no version below target 1", fresh(5, nil), 3, 1,
			engine.PushdownResult{Scanned: 3, Migrated: 3}, true,
			engine.PushdownPlan{Rows: 3, Writes: 3}, false, 3},
		{"full page, the version before the target", fresh(5, int64(2)), 3, 3,
			engine.PushdownResult{Scanned: 3, Migrated: 3}, true,
			engine.PushdownPlan{Rows: 3, Writes: 3}, false, 3},
		{"full page of one older version: its range", fresh(5, int64(1)), 2, 3,
			engine.PushdownResult{Scanned: 2, Migrated: 2}, true,
			engine.PushdownPlan{Rows: 2, Writes: 2, From: "1"}, true, 2},
		{"full page, a row already in shape", with(fresh(5, nil), 1, pageRow{addr: "a, b, c", city: "b", code: "c"}), 3, 2,
			engine.PushdownResult{Scanned: 3, Migrated: 2, Unchanged: 1}, true,
			engine.PushdownPlan{Rows: 3, Writes: 3, From: "none"}, true, 3},
		{"full page, a row already at the target", with(fresh(5, int64(1)), 0, pageRow{addr: "a, b, c", v: int64(2)}), 3, 2,
			engine.PushdownResult{Scanned: 3, Migrated: 2, Already: 1}, true,
			engine.PushdownPlan{Rows: 3, Writes: 2}, false, 3},
		{"full page, a row the where leaves", with(fresh(5, nil), 1, pageRow{addr: nil}), 3, 2,
			engine.PushdownResult{Scanned: 3, Migrated: 2, NotMatched: 1}, true,
			engine.PushdownPlan{Rows: 3, Writes: 2, From: "none"}, true, 2},
		{"full page, version 0 beside none below target 1", with(fresh(5, nil), 0, pageRow{addr: "a, b, c", v: int64(0)}), 3, 1,
			engine.PushdownResult{Scanned: 3, Migrated: 3}, true,
			engine.PushdownPlan{Rows: 3, Writes: 3}, false, 3},
		{"full page of two versions: per row", with(fresh(5, int64(1)), 0, pageRow{addr: "a, b, c"}), 3, 2,
			engine.PushdownResult{Fallback: "several versions"}, false, engine.PushdownPlan{}, false, 0},
		{"full page of two versions, ending with none: per row", with(fresh(5, nil), 0, pageRow{addr: "a, b, c", v: int64(1)}), 3, 3,
			engine.PushdownResult{Fallback: "several versions"}, false, engine.PushdownPlan{}, false, 0},
		{"full page ending at the target: per row", with(fresh(5, nil), 2, pageRow{addr: "a, b, c", v: int64(2)}), 3, 2,
			engine.PushdownResult{Fallback: "already at 2"}, false, engine.PushdownPlan{}, false, 1},
		{"full page, a row with too few separators: per row", with(fresh(5, nil), 1, pageRow{addr: "a, b"}), 3, 2,
			engine.PushdownResult{Fallback: "not exact"}, false, engine.PushdownPlan{}, false, 0},
		{"full page, a row with a tab: per row", with(fresh(5, nil), 0, pageRow{addr: "a,\tb, c"}), 3, 2,
			engine.PushdownResult{Fallback: "not exact"}, false, engine.PushdownPlan{}, false, 0},
		{"full page, a row not ASCII: per row", with(fresh(5, nil), 2, pageRow{addr: "a, Zürich, c"}), 3, 2,
			engine.PushdownResult{Fallback: "not exact"}, false, engine.PushdownPlan{}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, dsn := pageTable(t, tt.rows)
			var plans []engine.PushdownPlan
			res, err := st.PushdownPage(t.Context(), engine.PushdownRequest{TotalSegments: 1, Limit: tt.limit,
				Migrate: pageStep(t, "item.addr != nil", pageSplit), VersionAttr: "v", Target: tt.target}, func(p engine.PushdownPlan) error {
				plans = append(plans, p)
				return nil
			})
			if err != nil {
				t.Fatalf("PushdownPage() error = %v", err)
			}
			if tt.want.Fallback != "" {
				if !strings.Contains(res.Fallback, tt.want.Fallback) || len(plans) > 0 {
					t.Errorf("PushdownPage() = %+v with plans %v, want a fallback naming %q and no plan", res, plans, tt.want.Fallback)
				}
			} else {
				got := res
				got.Next = nil
				if !reflect.DeepEqual(got, tt.want) || (res.Next != nil) != tt.next {
					t.Errorf("PushdownPage() = %+v (next %s), want %+v (next: %v)", got, res.Next, tt.want, tt.next)
				}
				if len(plans) != 1 {
					t.Fatalf("beforeWrite called with %v, want one plan", plans)
				}
				p := plans[0]
				if (p.Upto != nil) != tt.upto || (p.Upto != nil && string(p.Upto) != string(res.Next)) {
					t.Errorf("plan Upto = %s, want set: %v (and the page's cursor %s)", p.Upto, tt.upto, res.Next)
				}
				p.Upto = nil
				if !reflect.DeepEqual(p, tt.plan) {
					t.Errorf("plan = %+v, want %+v", p, tt.plan)
				}
			}
			if n := count(t, dsn, fmt.Sprintf("SELECT count(*) FROM items WHERE v = %d", tt.target)); n != fmt.Sprint(tt.writes) {
				t.Errorf("%s rows at version %d after the page, want %d", n, tt.target, tt.writes)
			}
		})
	}
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
			step := pageStep(t, "item.addr != nil", pageSplit)
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
	rows := make([]pageRow, 6)
	for i := range rows {
		rows[i] = pageRow{addr: "1 Main St, Paris, 75001"}
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
		Migrate: pageStep(t, "item.addr != nil", pageSplit), VersionAttr: "v", Target: 2}, func(p engine.PushdownPlan) error {
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
func pageTable(t *testing.T, rows []pageRow) (*postgres.Store, string) {
	t.Helper()
	dsn := pgtest.DB(t)
	exec(t, dsn, "CREATE TABLE items (id bigint PRIMARY KEY, addr text, city text, code text, v integer)")
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	for i, r := range rows {
		if _, err := c.Exec(t.Context(), "INSERT INTO items VALUES ($1, $2, $3, $4, $5)", i+1, r.addr, r.city, r.code, r.v); err != nil {
			t.Fatal(err)
		}
	}
	return open(t, dsn, "items"), dsn
}

// pageStep is the PostgreSQL translation of a step.
func pageStep(t *testing.T, where string, set map[string]string) *sqlexpr.Migrate {
	t.Helper()
	sp := &runbook.MigrateSpec{}
	if where != "" {
		e, err := runbook.CompileExpr(where, true)
		if err != nil {
			t.Fatal(err)
		}
		sp.Where = e
	}
	for a, src := range set {
		e, err := runbook.CompileExpr(src, false)
		if err != nil {
			t.Fatal(err)
		}
		sp.Set = append(sp.Set, runbook.SetClause{Attr: a, Expr: e})
	}
	tr, err := sqlexpr.TranslateMigrate(sp, sqlexpr.Postgres, []string{"id"}, "v")
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
