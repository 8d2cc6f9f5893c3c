package sqlexpr_test

import (
	"errors"
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

// TestTranslateTransformRunsPerRow: an external transform and other
// dialects are refused whole.
func TestTranslateTransformRunsPerRow(t *testing.T) {
	sp := spec(t, "", map[string]string{"a": `"x"`})
	sp.Transform = []string{"jq"}
	if _, err := sqlexpr.TranslateMigrate(sp, sqlexpr.SQLite, []string{"id"}, "v"); !errors.Is(err, sqlexpr.ErrUntranslatable) {
		t.Errorf("transform: TranslateMigrate()=%v, want ErrUntranslatable", err)
	}
	sp.Transform = nil
	if _, err := sqlexpr.TranslateMigrate(sp, sqlexpr.Postgres, []string{"id"}, "v"); !errors.Is(err, sqlexpr.ErrUntranslatable) {
		t.Errorf("postgres: TranslateMigrate()=%v, want ErrUntranslatable", err)
	}
}
