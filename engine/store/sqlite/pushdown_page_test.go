package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

// pageRow is one row of TestPushdownPageCounts' table: an address and
// what the step's columns already hold.
type pageRow struct {
	addr       any
	city, code any
	v          any
}

// TestPushdownPageCounts runs single pushdown pages over tables whose
// rows are writes only (the light path: one aggregate, then the UPDATE)
// or mixed (classified by a second aggregate), and checks every count,
// the write-ahead plan, the cursor and what the table holds after.
func TestPushdownPageCounts(t *testing.T) {
	split := map[string]string{"city": `trim(split(item.addr, ",")[1])`, "code": `trim(split(item.addr, ",")[2])`}
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
		{"fresh rows, no version", fresh(5, nil), 10, 2,
			engine.PushdownResult{Scanned: 5, Migrated: 5}, false,
			engine.PushdownPlan{Rows: 5, Writes: 5, From: "none"}, false, 5},
		{"full page: the cursor after its last row", fresh(5, nil), 3, 2,
			engine.PushdownResult{Scanned: 3, Migrated: 3}, true,
			engine.PushdownPlan{Rows: 3, Writes: 3, From: "none"}, true, 3},
		{"rows at the version before the target", fresh(4, int64(2)), 10, 3,
			engine.PushdownResult{Scanned: 4, Migrated: 4}, false,
			engine.PushdownPlan{Rows: 4, Writes: 4}, false, 4},
		{"no version is version 0 below target 1", fresh(4, nil), 10, 1,
			engine.PushdownResult{Scanned: 4, Migrated: 4}, false,
			engine.PushdownPlan{Rows: 4, Writes: 4}, false, 4},
		{"rows of one older version", fresh(3, int64(1)), 10, 3,
			engine.PushdownResult{Scanned: 3, Migrated: 3}, false,
			engine.PushdownPlan{Rows: 3, Writes: 3, From: "1"}, false, 3},
		{"a full page of one older version: its range", fresh(5, int64(1)), 2, 3,
			engine.PushdownResult{Scanned: 2, Migrated: 2}, true,
			engine.PushdownPlan{Rows: 2, Writes: 2, From: "1"}, true, 2},
		{"some rows already in shape", with(fresh(4, nil), 1, pageRow{addr: "a, b, c", city: "b", code: "c"}), 10, 2,
			engine.PushdownResult{Scanned: 4, Migrated: 3, Unchanged: 1}, false,
			engine.PushdownPlan{Rows: 4, Writes: 4, From: "none"}, false, 4},
		{"a row already at the target: classified", with(fresh(4, int64(1)), 2, pageRow{addr: "a, b, c", v: int64(2)}), 10, 2,
			engine.PushdownResult{Scanned: 4, Migrated: 3, Already: 1}, false,
			engine.PushdownPlan{Rows: 4, Writes: 3}, false, 4},
		{"a row the where leaves: classified", with(fresh(4, nil), 0, pageRow{addr: nil}), 10, 2,
			engine.PushdownResult{Scanned: 4, Migrated: 3, NotMatched: 1}, false,
			engine.PushdownPlan{Rows: 4, Writes: 3, From: "none"}, false, 3},
		{"two versions: per row", with(fresh(4, int64(1)), 3, pageRow{addr: "a, b, c"}), 10, 2,
			engine.PushdownResult{Fallback: "several versions"}, false, engine.PushdownPlan{}, false, 0},
		{"a row with too few separators: per row", with(fresh(4, nil), 2, pageRow{addr: "a, b"}), 10, 2,
			engine.PushdownResult{Fallback: "not exact"}, false, engine.PushdownPlan{}, false, 0},
		{"a row with a tab: per row", with(fresh(4, nil), 3, pageRow{addr: "a, b\t, c"}), 10, 2,
			engine.PushdownResult{Fallback: "not exact"}, false, engine.PushdownPlan{}, false, 0},
		{"a version that is not an integer: per row", with(fresh(4, nil), 0, pageRow{addr: "a, b, c", v: "x"}), 10, 2,
			engine.PushdownResult{Fallback: "not exact"}, false, engine.PushdownPlan{}, false, 0},
		// Full pages (more rows than the limit) are first written on the
		// prediction that every row is a write from its last row's
		// version; a page it does not hold for is counted as above.
		{"full page, no version below target 1", fresh(5, nil), 3, 1,
			engine.PushdownResult{Scanned: 3, Migrated: 3}, true,
			engine.PushdownPlan{Rows: 3, Writes: 3}, false, 3},
		{"full page, a row already in shape", with(fresh(5, nil), 1, pageRow{addr: "a, b, c", city: "b", code: "c"}), 3, 2,
			engine.PushdownResult{Scanned: 3, Migrated: 2, Unchanged: 1}, true,
			engine.PushdownPlan{Rows: 3, Writes: 3, From: "none"}, true, 3},
		{"full page, a row already at the target", with(fresh(5, int64(1)), 0, pageRow{addr: "a, b, c", v: int64(2)}), 3, 2,
			engine.PushdownResult{Scanned: 3, Migrated: 2, Already: 1}, true,
			engine.PushdownPlan{Rows: 3, Writes: 2}, false, 3},
		{"full page, a row the where leaves", with(fresh(5, nil), 1, pageRow{addr: nil}), 3, 2,
			engine.PushdownResult{Scanned: 3, Migrated: 2, NotMatched: 1}, true,
			engine.PushdownPlan{Rows: 3, Writes: 2, From: "none"}, true, 2},
		{"full page of two versions: per row", with(fresh(5, int64(1)), 0, pageRow{addr: "a, b, c"}), 3, 2,
			engine.PushdownResult{Fallback: "several versions"}, false, engine.PushdownPlan{}, false, 0},
		{"full page of two versions, ending with none: per row", with(fresh(5, nil), 0, pageRow{addr: "a, b, c", v: int64(1)}), 3, 2,
			engine.PushdownResult{Fallback: "several versions"}, false, engine.PushdownPlan{}, false, 0},
		{"full page ending at the target: per row", with(fresh(5, nil), 2, pageRow{addr: "a, b, c", v: int64(2)}), 3, 2,
			engine.PushdownResult{Fallback: "already at 2"}, false, engine.PushdownPlan{}, false, 1},
		{"full page, a real version: per row", with(fresh(5, int64(1)), 1, pageRow{addr: "a, b, c", v: 1.0}), 3, 2,
			engine.PushdownResult{Fallback: "not exact"}, false, engine.PushdownPlan{}, false, 0},
		{"full page, a row with a tab: per row", with(fresh(5, nil), 0, pageRow{addr: "a,\tb, c"}), 3, 2,
			engine.PushdownResult{Fallback: "not exact"}, false, engine.PushdownPlan{}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, db := pageTable(t, tt.rows)
			tr := translate(t, "item.addr != nil", split)
			var plans []engine.PushdownPlan
			res, err := st.PushdownPage(context.Background(), engine.PushdownRequest{TotalSegments: 1, Limit: tt.limit,
				Migrate: tr, VersionAttr: "v", Target: tt.target}, func(p engine.PushdownPlan) error {
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
			var n int
			if err := db.QueryRow("SELECT count(*) FROM items WHERE v = ?", tt.target).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != tt.writes {
				t.Errorf("%d rows at version %d after the page, want %d", n, tt.target, tt.writes)
			}
		})
	}
}

// TestPushdownPageRollsBackAFailedCheckpoint: when the write-ahead
// checkpoint fails after the UPDATE ran, nothing of the page stays.
func TestPushdownPageRollsBackAFailedCheckpoint(t *testing.T) {
	rows := []pageRow{{addr: "a, b, c"}, {addr: "d, e, f"}}
	st, db := pageTable(t, rows)
	tr := translate(t, "", map[string]string{"city": `trim(split(item.addr, ",")[1])`})
	boom := errors.New("journal down")
	_, err := st.PushdownPage(context.Background(), engine.PushdownRequest{TotalSegments: 1, Limit: 10, Migrate: tr,
		VersionAttr: "v", Target: 2}, func(engine.PushdownPlan) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("PushdownPage() error = %v, want the checkpoint's", err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM items WHERE v IS NOT NULL OR city IS NOT NULL").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d rows written by a page whose checkpoint failed, want 0", n)
	}
}

// pageTable creates the items table holding rows (ids from 1) and
// returns the store on it and a second connection to read it.
func pageTable(t *testing.T, rows []pageRow) (*sqlite.Store, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mustDB(t, db, "CREATE TABLE items (id INTEGER PRIMARY KEY, addr TEXT, city TEXT, code TEXT, v)")
	for i, r := range rows {
		mustDB(t, db, "INSERT INTO items VALUES (?, ?, ?, ?, ?)", i+1, r.addr, r.city, r.code, r.v)
	}
	st, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: path, Table: "items", Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, db
}

// translate is the SQLite translation of a step with where and set.
func translate(t *testing.T, where string, set map[string]string) *sqlexpr.Migrate {
	t.Helper()
	sp := &runbook.MigrateSpec{}
	if where != "" {
		e, err := runbook.CompileExpr(where, true)
		if err != nil {
			t.Fatal(err)
		}
		sp.Where = e
	}
	for _, a := range []string{"city", "code"} {
		src, ok := set[a]
		if !ok {
			continue
		}
		e, err := runbook.CompileExpr(src, false)
		if err != nil {
			t.Fatal(err)
		}
		sp.Set = append(sp.Set, runbook.SetClause{Attr: a, Expr: e})
	}
	tr, err := sqlexpr.TranslateMigrate(sp, sqlexpr.SQLite, []string{"id"}, "v")
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestPushdownSplitTrimIsByteExact: a page splitting and trimming text
// writes what Go's strings.Split and strings.TrimSpace give (the per-row
// path), byte for byte, or falls back per row: NUL, invalid UTF-8,
// Unicode and ASCII spaces other than ' '.
func TestPushdownSplitTrimIsByteExact(t *testing.T) {
	tests := []struct {
		addr string
		push bool // the page must push down (not fall back)
	}{
		{"1 Main St, Paris , 75001", true},
		{"a\x80, b, c", true},   // a stray continuation byte
		{"a\xe2, b, c", true},   // a lead byte without its continuation
		{"a, \x80b , c", true},  // Go decodes it as U+FFFD, no space
		{"a, b\x00c, d", false}, // SQLite's substr stopped at the NUL
		{"a\x00, b, c", false},
		{"a, b, c\x00d", false},        // GLOB sees up to the NUL
		{"Zürich, CH, 8000", false},    // multibyte: Unicode spaces are not ' '
		{"a, \u00a0b\u00a0, c", false}, // NBSP, which TrimSpace trims
		{"a, \tb, c", false},           // tab
		{"a, b\r\n, c", false},         // CR LF
		{"a, \"b\", c", false},         // json_quote escapes '"': per row, though exact
		{"a, b", false},                // no third field: per row, which fails it
	}
	// A page of one row with room for more is counted before its UPDATE;
	// a full page is written on the prediction that its rows are writes.
	for _, limit := range []int{10, 1} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("limit %d %q", limit, tt.addr), func(t *testing.T) {
				splitTrimPage(t, tt.addr, limit, tt.push)
			})
		}
	}
}

// splitTrimPage runs one page over a table of one row holding addr, and
// checks it wrote what Go's split and trim give, or fell back (which it
// must not when push is set).
func splitTrimPage(t *testing.T, addr string, limit int, push bool) {
	t.Helper()
	st, db := pageTable(t, []pageRow{{addr: addr}})
	tr := translate(t, "", map[string]string{"city": `trim(split(item.addr, ",")[1])`, "code": `trim(split(item.addr, ",")[2])`})
	res, err := st.PushdownPage(context.Background(), engine.PushdownRequest{TotalSegments: 1, Limit: limit, Migrate: tr,
		VersionAttr: "v", Target: 2}, func(engine.PushdownPlan) error { return nil })
	if err != nil {
		t.Fatalf("PushdownPage() error = %v", err)
	}
	var city, code sql.NullString
	if err := db.QueryRow("SELECT city, code FROM items").Scan(&city, &code); err != nil {
		t.Fatal(err)
	}
	if res.Fallback != "" {
		if push {
			t.Errorf("PushdownPage() fell back (%s), want the page pushed down", res.Fallback)
		}
		if city.Valid || code.Valid {
			t.Errorf("a page that fell back wrote city %q, code %q", city.String, code.String)
		}
		return
	}
	parts := strings.Split(addr, ",")
	if len(parts) < 3 {
		t.Fatalf("pushed down a row whose split has %d fields, want a fallback", len(parts))
	}
	if want := strings.TrimSpace(parts[1]); city.String != want {
		t.Errorf("city = %q, want %q (Go's)", city.String, want)
	}
	if want := strings.TrimSpace(parts[2]); code.String != want {
		t.Errorf("code = %q, want %q (Go's)", code.String, want)
	}
}
