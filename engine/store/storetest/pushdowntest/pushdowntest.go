// Package pushdowntest is the table of single pushdown pages every SQL
// store's engine.Pushdowner passes: short and full pages (a full page is
// written on the prediction that every row is a plain write from its
// last row's version), rows already in shape, at the target or left by
// the where, pages of several versions, and rows the translation is not
// exact for, which must go per row. Store packages call Run from their
// tests against a real backend, with a table of their own making.
//
// It may import the standard library, engine, runbook and runbook/sqlexpr.
package pushdowntest

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

// Row is one row of a case's items table, keyed by its position (ids
// from 1): an address, what the step's columns already hold, and the
// version (nil: none).
type Row struct {
	Addr, City, Code, V any
}

// Table creates the table items (id integer primary key, addr, city,
// code text, v) holding rows, and returns the store on it and a count of
// its rows at a version, read on another connection.
type Table func(t *testing.T, rows []Row) (engine.Pushdowner, func(t *testing.T, version int64) int)

// Case is one page: the table, the page's limit and target version, and
// what must come of it.
type Case struct {
	Name   string
	Rows   []Row
	Limit  int
	Target int64
	Want   engine.PushdownResult // Next is checked as Next below; a Fallback as a part of the result's
	Next   bool                  // a cursor after the page
	Plan   engine.PushdownPlan   // Upto is checked as Upto below
	Upto   bool                  // the plan records its range's end
	Writes int                   // rows at the target version after the page
}

// Split is the step of the cases: city and code from the second and
// third fields of addr, trimmed.
var Split = map[string]string{"city": `trim(split(item.addr, ",")[1])`, "code": `trim(split(item.addr, ",")[2])`}

// fresh is n rows of one address at version v.
func fresh(n int, v any) []Row {
	rows := make([]Row, n)
	for i := range rows {
		rows[i] = Row{Addr: "1 Main St, Paris , 75001", V: v}
	}
	return rows
}

// with is rows with rows[i] = r.
func with(rows []Row, i int, r Row) []Row { rows[i] = r; return rows }

// Cases are the pages every store agrees on.
func Cases() []Case {
	res := func(scanned, migrated int64) engine.PushdownResult {
		return engine.PushdownResult{Scanned: scanned, Migrated: migrated}
	}
	perRow := func(why string) engine.PushdownResult { return engine.PushdownResult{Fallback: why} }
	return []Case{
		{"short page, no version", fresh(5, nil), 10, 2,
			res(5, 5), false, engine.PushdownPlan{Rows: 5, Writes: 5, From: "none"}, false, 5},
		{"short page at the version before the target", fresh(4, int64(2)), 10, 3,
			res(4, 4), false, engine.PushdownPlan{Rows: 4, Writes: 4}, false, 4},
		{"short page, no version is version 0 below target 1", fresh(4, nil), 10, 1,
			res(4, 4), false, engine.PushdownPlan{Rows: 4, Writes: 4}, false, 4},
		{"short page of one older version", fresh(3, int64(1)), 10, 3,
			res(3, 3), false, engine.PushdownPlan{Rows: 3, Writes: 3, From: "1"}, false, 3},
		{"short page, a row already in shape", with(fresh(4, nil), 1, Row{Addr: "a, b, c", City: "b", Code: "c"}), 10, 2,
			engine.PushdownResult{Scanned: 4, Migrated: 3, Unchanged: 1}, false,
			engine.PushdownPlan{Rows: 4, Writes: 4, From: "none"}, false, 4},
		{"short page, a row already at the target", with(fresh(4, int64(1)), 2, Row{Addr: "a, b, c", V: int64(2)}), 10, 2,
			engine.PushdownResult{Scanned: 4, Migrated: 3, Already: 1}, false,
			engine.PushdownPlan{Rows: 4, Writes: 3}, false, 4},
		{"short page, a row the where leaves", with(fresh(4, nil), 0, Row{Addr: nil}), 10, 2,
			engine.PushdownResult{Scanned: 4, Migrated: 3, NotMatched: 1}, false,
			engine.PushdownPlan{Rows: 4, Writes: 3, From: "none"}, false, 3},
		{"short page of two versions: per row", with(fresh(4, int64(1)), 3, Row{Addr: "a, b, c"}), 10, 2,
			perRow("several versions"), false, engine.PushdownPlan{}, false, 0},
		{"short page, a row with too few separators: per row", with(fresh(4, nil), 2, Row{Addr: "a, b"}), 10, 2,
			perRow("not exact"), false, engine.PushdownPlan{}, false, 0},
		{"short page, a row with a tab: per row", with(fresh(4, nil), 3, Row{Addr: "a, b\t, c"}), 10, 2,
			perRow("not exact"), false, engine.PushdownPlan{}, false, 0},

		{"full page, no version: the cursor after its last row", fresh(5, nil), 3, 2,
			res(3, 3), true, engine.PushdownPlan{Rows: 3, Writes: 3, From: "none"}, true, 3},
		{"full page, no version below target 1", fresh(5, nil), 3, 1,
			res(3, 3), true, engine.PushdownPlan{Rows: 3, Writes: 3}, false, 3},
		{"full page at the version before the target", fresh(5, int64(2)), 3, 3,
			res(3, 3), true, engine.PushdownPlan{Rows: 3, Writes: 3}, false, 3},
		{"full page of one older version: its range", fresh(5, int64(1)), 2, 3,
			res(2, 2), true, engine.PushdownPlan{Rows: 2, Writes: 2, From: "1"}, true, 2},
		{"full page, a row already in shape", with(fresh(5, nil), 1, Row{Addr: "a, b, c", City: "b", Code: "c"}), 3, 2,
			engine.PushdownResult{Scanned: 3, Migrated: 2, Unchanged: 1}, true,
			engine.PushdownPlan{Rows: 3, Writes: 3, From: "none"}, true, 3},
		{"full page, a row already at the target", with(fresh(5, int64(1)), 0, Row{Addr: "a, b, c", V: int64(2)}), 3, 2,
			engine.PushdownResult{Scanned: 3, Migrated: 2, Already: 1}, true,
			engine.PushdownPlan{Rows: 3, Writes: 2}, false, 3},
		{"full page, a row the where leaves", with(fresh(5, nil), 1, Row{Addr: nil}), 3, 2,
			engine.PushdownResult{Scanned: 3, Migrated: 2, NotMatched: 1}, true,
			engine.PushdownPlan{Rows: 3, Writes: 2, From: "none"}, true, 2},
		{"full page, version 0 beside none below target 1", with(fresh(5, nil), 0, Row{Addr: "a, b, c", V: int64(0)}), 3, 1,
			res(3, 3), true, engine.PushdownPlan{Rows: 3, Writes: 3}, false, 3},
		{"full page of two versions: per row", with(fresh(5, int64(1)), 0, Row{Addr: "a, b, c"}), 3, 2,
			perRow("several versions"), false, engine.PushdownPlan{}, false, 0},
		{"full page of two versions, ending with none: per row", with(fresh(5, nil), 0, Row{Addr: "a, b, c", V: int64(1)}), 3, 2,
			perRow("several versions"), false, engine.PushdownPlan{}, false, 0},
		{"full page of two versions, ending with none, target 3: per row", with(fresh(5, nil), 0, Row{Addr: "a, b, c", V: int64(1)}), 3, 3,
			perRow("several versions"), false, engine.PushdownPlan{}, false, 0},
		{"full page ending at the target: per row", with(fresh(5, nil), 2, Row{Addr: "a, b, c", V: int64(2)}), 3, 2,
			perRow("already at 2"), false, engine.PushdownPlan{}, false, 1},
		{"full page, a row with too few separators: per row", with(fresh(5, nil), 1, Row{Addr: "a, b"}), 3, 2,
			perRow("not exact"), false, engine.PushdownPlan{}, false, 0},
		{"full page, a row with a tab: per row", with(fresh(5, nil), 0, Row{Addr: "a,\tb, c"}), 3, 2,
			perRow("not exact"), false, engine.PushdownPlan{}, false, 0},
		{"full page, a row not ASCII: per row", with(fresh(5, nil), 2, Row{Addr: "a, Zürich, c"}), 3, 2,
			perRow("not exact"), false, engine.PushdownPlan{}, false, 0},
	}
}

// PerRow is a Case that must go per row for why (a part of the
// fallback's reason), writing nothing.
func PerRow(name string, rows []Row, limit int, target int64, why string) Case {
	return Case{Name: name, Rows: rows, Limit: limit, Target: target, Want: engine.PushdownResult{Fallback: why}}
}

// Fresh is n rows of one address at version v, with rows[i] = r for each
// i, r in at.
func Fresh(n int, v any, at map[int]Row) []Row {
	rows := fresh(n, v)
	for i, r := range at {
		rows[i] = r
	}
	return rows
}

// Run runs Cases and extra, each on a table of its own, with the step
// "where item.addr != nil, set Split" translated into the store's
// dialect, and checks every count, the write-ahead plan, the cursor and
// what the table holds after.
func Run(t *testing.T, table Table, extra ...Case) {
	t.Helper()
	for _, tt := range append(Cases(), extra...) {
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			st, atVersion := table(t, tt.Rows)
			var plans []engine.PushdownPlan
			res, err := st.PushdownPage(t.Context(), engine.PushdownRequest{TotalSegments: 1, Limit: tt.Limit,
				Migrate: Translate(t, st.SQLDialect(), "item.addr != nil", Split), VersionAttr: "v", Target: tt.Target},
				func(p engine.PushdownPlan) error {
					plans = append(plans, p)
					return nil
				})
			if err != nil {
				t.Fatalf("PushdownPage() error = %v", err)
			}
			check(t, tt, res, plans)
			if n := atVersion(t, tt.Target); n != tt.Writes {
				t.Errorf("%d rows at version %d after the page, want %d", n, tt.Target, tt.Writes)
			}
		})
	}
}

// check compares a page's result and plans with tt's.
func check(t *testing.T, tt Case, res engine.PushdownResult, plans []engine.PushdownPlan) {
	t.Helper()
	if tt.Want.Fallback != "" {
		if !strings.Contains(res.Fallback, tt.Want.Fallback) || len(plans) > 0 {
			t.Errorf("PushdownPage() = %+v with plans %v, want a fallback naming %q and no plan", res, plans, tt.Want.Fallback)
		}
		return
	}
	got := res
	got.Next = nil
	if !reflect.DeepEqual(got, tt.Want) || (res.Next != nil) != tt.Next {
		t.Errorf("PushdownPage() = %+v (next %s), want %+v (next: %v)", got, res.Next, tt.Want, tt.Next)
	}
	if len(plans) != 1 {
		t.Fatalf("beforeWrite called with %v, want one plan", plans)
	}
	p := plans[0]
	if (p.Upto != nil) != tt.Upto || (p.Upto != nil && string(p.Upto) != string(res.Next)) {
		t.Errorf("plan Upto = %s, want set: %v (and the page's cursor %s)", p.Upto, tt.Upto, res.Next)
	}
	p.Upto = nil
	if !reflect.DeepEqual(p, tt.Plan) {
		t.Errorf("plan = %+v, want %+v", p, tt.Plan)
	}
}

// Translate is the translation into d of a migrate step keyed by id,
// versioned in v, with where (none when empty) and set (attribute →
// expression, in attribute order).
func Translate(t *testing.T, d sqlexpr.Dialect, where string, set map[string]string) *sqlexpr.Migrate {
	t.Helper()
	sp := &runbook.MigrateSpec{}
	if where != "" {
		e, err := runbook.CompileExpr(where, true)
		if err != nil {
			t.Fatal(err)
		}
		sp.Where = e
	}
	attrs := make([]string, 0, len(set))
	for a := range set {
		attrs = append(attrs, a)
	}
	slices.Sort(attrs)
	for _, a := range attrs {
		e, err := runbook.CompileExpr(set[a], false)
		if err != nil {
			t.Fatal(err)
		}
		sp.Set = append(sp.Set, runbook.SetClause{Attr: a, Expr: e})
	}
	tr, err := sqlexpr.TranslateMigrate(sp, d, []string{"id"}, "v")
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
