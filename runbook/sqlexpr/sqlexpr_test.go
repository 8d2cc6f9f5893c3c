package sqlexpr_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

func spec(t *testing.T, where string, set map[string]string) *runbook.MigrateSpec {
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
	return sp
}

// TestTranslateMigrate: what translates, and why the rest does not.
func TestTranslateMigrate(t *testing.T) {
	tests := []struct {
		name  string
		where string
		set   map[string]string
		want  string // "" translates; else a part of the reason
	}{
		{"split and trim", "item.address != nil", map[string]string{"city": `trim(split(item.address, ",")[1])`}, ""},
		{"arithmetic and conditional", "item.n > 2 && item.n < 9", map[string]string{"m": `item.n % 2 == 0 ? item.n / 2 : item.n * 3 + 1`}, ""},
		{"strings", "", map[string]string{"s": `lower(item.a) + "/" + upper(item.b[0:2]) + replace(item.c, "x", "y")`}, ""},
		{"nil coalescing", "item.a == nil", map[string]string{"a": `item.b ?? "none"`}, ""},
		{"unknown function", "", map[string]string{"n": `len(item.a)`}, "function len/1"},
		{"variables", "", map[string]string{"n": `vars.x`}, "member access"},
		{"where not boolean", "item.flag", map[string]string{"n": `1`}, "where"},
		{"split index computed", "", map[string]string{"n": `split(item.a, ",")[item.i]`}, "split(…)[i]"},
		{"empty separator", "", map[string]string{"n": `split(item.a, "")[0]`}, "non-empty literal separator"},
		{"writes the key", "", map[string]string{"id": `1`}, `"id" is a key`},
		{"writes the version", "", map[string]string{"v": `1`}, `"v" is a key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sqlexpr.TranslateMigrate(spec(t, tt.where, tt.set), sqlexpr.SQLite, []string{"id"}, "v")
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("TranslateMigrate()=%v, want a translation", err)
			case tt.want != "" && (!errors.Is(err, sqlexpr.ErrUntranslatable) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("TranslateMigrate()=%v, want ErrUntranslatable naming %q", err, tt.want)
			}
		})
	}
}

// TestTranslateTransformRunsPerRow: an external transform and unknown
// dialects are refused whole.
func TestTranslateTransformRunsPerRow(t *testing.T) {
	sp := spec(t, "", map[string]string{"a": `"x"`})
	sp.Transform = []string{"jq"}
	for _, d := range []sqlexpr.Dialect{sqlexpr.SQLite, sqlexpr.Postgres} {
		if _, err := sqlexpr.TranslateMigrate(sp, d, []string{"id"}, "v"); !errors.Is(err, sqlexpr.ErrUntranslatable) {
			t.Errorf("transform, %s: TranslateMigrate()=%v, want ErrUntranslatable", d, err)
		}
	}
	sp.Transform = nil
	if _, err := sqlexpr.TranslateMigrate(sp, sqlexpr.Dialect(9), []string{"id"}, "v"); !errors.Is(err, sqlexpr.ErrUntranslatable) {
		t.Errorf("dialect 9: TranslateMigrate()=%v, want ErrUntranslatable", err)
	}
}

// TestPostgresForTypes: the PostgreSQL translation needs the column
// types, and refuses a step whose expressions do not fit them.
func TestPostgresForTypes(t *testing.T) {
	cols := map[string]sqlexpr.Column{
		"address": {Type: sqlexpr.TypeText}, "city": {Type: sqlexpr.TypeText, MaxLen: 20}, "n": {Type: sqlexpr.TypeInt, IntBits: 32},
		"m": {Type: sqlexpr.TypeInt, IntBits: 64}, "f": {Type: sqlexpr.TypeFloat}, "ok": {Type: sqlexpr.TypeBool}, "price": {},
	}
	types := func(c string) (sqlexpr.Column, bool) { col, ok := cols[c]; return col, ok }
	tests := []struct {
		name  string
		where string
		set   map[string]string
		want  string // "" translates; else a part of the reason; "=…" a part of the SQL
	}{
		{"split and trim", "item.address != nil", map[string]string{"city": `trim(split(item.address, ",")[1])`}, "=split_part("},
		{"bounded text", "", map[string]string{"city": `item.address`}, "=char_length("},
		{"integer into a smaller column", "", map[string]string{"n": `item.m * 2`}, "=2147483648"},
		{"division is a float", "", map[string]string{"f": `item.n / 2`}, "=::float8 /"},
		{"text into an integer", "", map[string]string{"n": `item.address`}, `column "n" does not hold`},
		{"float into an integer", "", map[string]string{"m": `item.n / 2`}, `column "m" does not hold`},
		{"string op on a number", "", map[string]string{"city": `lower(item.n)`}, "lower of a non-string"},
		{"numeric column", "item.price > 2", map[string]string{"ok": `true`}, `column "price" has a type`},
		{"no such column", "", map[string]string{"city": `item.nope`}, `no column "nope"`},
		{"branches of two types", "", map[string]string{"city": `item.n > 1 ? "a" : 1`}, "different types"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := sqlexpr.TranslateMigrate(spec(t, tt.where, tt.set), sqlexpr.Postgres, []string{"id"}, "v")
			if err != nil {
				t.Fatalf("TranslateMigrate()=%v", err)
			}
			pg, err := m.ForTypes(types)
			if sql, ok := strings.CutPrefix(tt.want, "="); ok {
				if err != nil {
					t.Fatalf("ForTypes()=%v, want a translation", err)
				}
				all := pg.Where + pg.WhereOK + pg.SetOK + pg.Set[0].SQL
				if !strings.Contains(all, sql) {
					t.Errorf("translation %q lacks %q", all, sql)
				}
				return
			}
			if !errors.Is(err, sqlexpr.ErrUntranslatable) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ForTypes()=%v, want ErrUntranslatable naming %q", err, tt.want)
			}
		})
	}
}

// TestSplitFieldsKnowTheStepsSeparators: a step's values are written
// only where all of their conditions hold, so a split field followed by
// a separator another field needs is cut without testing for it, and the
// weaker test goes; a where, evaluated on every row, and a text the step
// computes keep theirs.
func TestSplitFieldsKnowTheStepsSeparators(t *testing.T) {
	tests := []struct {
		name   string
		set    map[string]string
		tested map[string]bool // whether each column's field tests for the separator after it
		globs  int             // separator tests in SetOK
	}{
		{"one field", map[string]string{"a": `split(item.s, ",")[1]`}, map[string]bool{"a": true}, 1},
		{"fields 0 and 2", map[string]string{"a": `split(item.s, ",")[0]`, "b": `trim(split(item.s, ",")[2])`},
			map[string]bool{"a": false, "b": true}, 1},
		{"fields 0, 1 and 2", map[string]string{"a": `split(item.s, ",")[0]`, "b": `split(item.s, ",")[1]`, "c": `split(item.s, ",")[2]`},
			map[string]bool{"a": false, "b": false, "c": true}, 1},
		{"other separators", map[string]string{"a": `split(item.s, ",")[0]`, "b": `split(item.s, ";")[2]`},
			map[string]bool{"a": true, "b": true}, 1},
		{"other text", map[string]string{"a": `split(item.s, ",")[1]`, "b": `split(item.t, ",")[2]`},
			map[string]bool{"a": true, "b": true}, 2},
		{"a field of a field", map[string]string{"a": `split(split(item.s, ";")[0], ",")[0]`, "b": `split(split(item.s, ";")[0], ",")[2]`},
			map[string]bool{"a": true, "b": true}, 1},
		{"in a branch", map[string]string{"a": `item.n > 1 ? split(item.s, ",")[1] : "x"`, "b": `split(item.s, ",")[2]`},
			map[string]bool{"b": true}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := sqlexpr.TranslateMigrate(spec(t, "", tt.set), sqlexpr.SQLite, []string{"id"}, "v")
			if err != nil {
				t.Fatalf("TranslateMigrate()=%v", err)
			}
			for _, a := range m.Set {
				want, ok := tt.tested[a.Column]
				if got := strings.HasPrefix(strings.TrimPrefix(a.SQL, "trim("), "CAST((CASE"); ok && got != want {
					t.Errorf("%s tests for the next separator: %v, want %v: %s", a.Column, got, want, a.SQL)
				}
			}
			if got := strings.Count(m.SetOK, "GLOB"); got != tt.globs {
				t.Errorf("SetOK has %d GLOB, want %d: %s", got, tt.globs, m.SetOK)
			}
		})
	}
	m, err := sqlexpr.TranslateMigrate(spec(t, `split(item.s, ",")[0] == "x"`, map[string]string{"b": `split(item.s, ",")[2]`}),
		sqlexpr.SQLite, []string{"id"}, "v")
	if err != nil {
		t.Fatalf("TranslateMigrate()=%v", err)
	}
	if !strings.Contains(m.Where, "CASE") {
		t.Errorf("where %s cut without its test: it is evaluated on rows the set values rule out", m.Where)
	}
}

// TestPostgresSplitTestsOnce: on PostgreSQL a split field's separators
// are tested with one LIKE, and the fields of a step that must all be
// exact test each text and separator once, for the highest field; a
// field in a branch keeps its own test.
func TestPostgresSplitTestsOnce(t *testing.T) {
	types := func(string) (sqlexpr.Column, bool) { return sqlexpr.Column{Type: sqlexpr.TypeText}, true }
	tests := []struct {
		name  string
		where string
		set   map[string]string
		likes []string // the LIKE patterns SetOK tests, sorted
	}{
		{"fields 0, 1 and 2", "", map[string]string{"a": `trim(split(item.s, ",")[0])`, "b": `trim(split(item.s, ",")[1])`, "c": `trim(split(item.s, ",")[2])`},
			[]string{"'%,%,%'"}},
		{"other separators", "", map[string]string{"a": `split(item.s, ",")[1]`, "b": `split(item.s, ";")[2]`}, []string{"'%,%'", "'%;%;%'"}},
		{"wildcards escaped", "", map[string]string{"a": `split(item.s, "%_!")[1]`}, []string{"'%!%!_!!%'"}},
		{"in a branch", "", map[string]string{"a": `item.t == "y" ? split(item.s, ",")[1] : "x"`, "b": `split(item.s, ",")[2]`},
			[]string{"'%,%'", "'%,%,%'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := sqlexpr.TranslateMigrate(spec(t, tt.where, tt.set), sqlexpr.Postgres, []string{"id"}, "v")
			if err != nil {
				t.Fatalf("TranslateMigrate()=%v", err)
			}
			pg, err := m.ForTypes(types)
			if err != nil {
				t.Fatalf("ForTypes()=%v", err)
			}
			var likes []string
			for _, part := range strings.Split(pg.SetOK, " LIKE ")[1:] {
				likes = append(likes, part[:strings.Index(part, " ESCAPE")])
			}
			slices.Sort(likes)
			if strings.Join(likes, " ") != strings.Join(tt.likes, " ") || strings.Contains(pg.SetOK, "replace(") {
				t.Errorf("SetOK tests %v, want %v: %s", likes, tt.likes, pg.SetOK)
			}
		})
	}
}
