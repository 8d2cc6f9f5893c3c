package runbook

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// untyped compiles src as CompileExpr did before typedCalls: the
// reference the rewritten programs must agree with.
func untyped(t *testing.T, src string) (*Expr, error) {
	t.Helper()
	reads := readsOf(src)
	prog, err := expr.Compile(src, expr.Env(compileEnv(reads)), expr.Patch(itemVarPatcher{}))
	if err != nil {
		return nil, fmt.Errorf("compile expression: %w", err)
	}
	return &Expr{Source: src, Program: prog, reads: reads}, nil
}

// label is a named string type, as the engine's Number: not a string to
// split or trim.
type label string

// TestTypedCallsAgree runs each expression rewritten and as expr-lang
// runs it, on values of every kind, and wants the same result or the same
// error, message and position included.
func TestTypedCallsAgree(t *testing.T) {
	exprs := []string{
		`trim(split(item.a, ",")[0])`,
		`trim(split(item.a, ",")[2])`,
		`trim(split(item.a, ",")[5])`,
		`split(item.a, ",")[1]`,
		`split(item.a, ",")[-1]`,
		`split(item.a, ",")[-4]`,
		`split(item.a, ", ")[1]`,
		`split(item.a, "")[1]`,
		`split(item.a, "")[-1]`,
		`split(item.a, ",")?.[1]`,
		`split(item.a, item.b)[0]`,
		`trim(item.a)`,
		`trim(item.a, " a")`,
		`upper(trim(split(item.a, ",")[1])) + "!"`,
		`len(split(item.a, ",")[0]) > 1`,
		`item.a != nil ? trim(split(item.a, ",")[1]) : "none"`,
		`map(split(item.a, ","), trim(split(#, " ")[0]))`,
		`trim(split(split(item.a, ",")[1], " ")[1])`,
		`trim(1)`,
		`split(2, ",")[0]`,
		`split(item.a, ",")["x"]`,
	}
	s := "x"
	var nilString *string
	values := []any{nil, "a, b, c", " b ,c", "", ",", "a,,b, ", "αβ, γ,δ", "a", 5, 1.5, true,
		label("a,b"), &s, nilString, []any{"a,b"}, map[string]any{"a": "b"}}
	for _, src := range exprs {
		got, gotErr := CompileExpr(src, false)
		want, wantErr := untyped(t, src)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("CompileExpr(%q) error = %v, want %v", src, gotErr, wantErr)
			continue
		}
		if wantErr != nil {
			continue
		}
		for _, v := range values {
			item := map[string]any{"a": v, "b": ","}
			gv, gerr := got.Eval(map[string]any{EnvItem: item})
			wv, werr := want.Eval(map[string]any{EnvItem: item})
			if !reflect.DeepEqual(gv, wv) || fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Errorf("%s with a=%#v = %#v, %v\nwant %#v, %v", src, v, gv, gerr, wv, werr)
			}
		}
	}
}

// TestSplitFieldAgrees compares split(s, sep)[i] rewritten with expr-lang
// on generated strings, separators and indexes.
func TestSplitFieldAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 2))
	alphabet := []string{"a", "b", ",", ", ", " ", "é", ";"}
	for range 300 {
		sep := alphabet[r.IntN(len(alphabet))]
		if r.IntN(8) == 0 {
			sep = ", "
		}
		i := r.IntN(9) - 4
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		src := fmt.Sprintf("trim(split(item.a, %q)[%d])", sep, i)
		got, err := CompileExpr(src, false)
		if err != nil {
			t.Fatal(err)
		}
		want, err := untyped(t, src)
		if err != nil {
			t.Fatal(err)
		}
		env := map[string]any{EnvItem: map[string]any{"a": b.String()}}
		gv, gerr := got.Eval(env)
		wv, werr := want.Eval(env)
		if gv != wv || fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Errorf("%s with a=%q = %#v, %v\nwant %#v, %v", src, b.String(), gv, gerr, wv, werr)
		}
	}
}

// TestSplitClausesAllocs bounds the allocations of bench/'s three set
// clauses per item: expr-lang built and boxed the slice of fields, boxed
// the field it indexed by reflection, and an argument list per run (15).
func TestSplitClausesAllocs(t *testing.T) {
	var clauses []*Expr
	for i := range 3 {
		e, err := CompileExpr(fmt.Sprintf(`trim(split(item.address, ",")[%d])`, i), false)
		if err != nil {
			t.Fatal(err)
		}
		clauses = append(clauses, e)
	}
	vars := map[string]any{ItemVar("address"): "12 Main St, Oslo, 17919"}
	var machine vm.VM
	allocs := testing.AllocsPerRun(100, func() {
		for _, e := range clauses {
			if _, err := e.Run(&machine, vars); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs > 3 {
		t.Errorf("three clauses allocate %.0f times, want at most 3 (their results)", allocs)
	}
}
