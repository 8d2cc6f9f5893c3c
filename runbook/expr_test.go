package runbook_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/lockstep-run/lockstep/runbook"
)

func env(item map[string]any) map[string]any {
	return map[string]any{"item": item, "vars": map[string]any{"limit": 3},
		"env":   map[string]any{"name": "staging", "mode": "dry-run", "protected": false},
		"steps": map[string]any{"size": map[string]any{"count": 10}}}
}

func TestExprEval(t *testing.T) {
	tests := []struct {
		src  string
		item map[string]any
		want any
	}{
		{"item.count + 1", map[string]any{"count": int64(41)}, 42},
		{"item.count + 1", map[string]any{"count": 1.5}, 2.5},
		{"item.count + 1", map[string]any{"count": 1}, 2},
		{`trim(split(item.address, ",")[0])`, map[string]any{"address": " 1 Main St , Paris, 75001"}, "1 Main St"},
		{`trim(split(item.address, ",")[2])`, map[string]any{"address": " 1 Main St , Paris, 75001"}, "75001"},
		{"vars.limit * steps.size.count", nil, 30},
		{"env.name", nil, "staging"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			e, err := runbook.CompileExpr(tt.src, false)
			if err != nil {
				t.Fatalf("CompileExpr(%q): %v", tt.src, err)
			}
			got, err := e.Eval(env(tt.item))
			if err != nil {
				t.Fatalf("Eval(): %v", err)
			}
			if !numEqual(got, tt.want) {
				t.Errorf("Eval() = %#v (%T), want %#v", got, got, tt.want)
			}
		})
	}
}

// numEqual compares numbers by value across int kinds and strings exactly.
func numEqual(got, want any) bool {
	toF := func(v any) (float64, bool) {
		switch n := v.(type) {
		case int:
			return float64(n), true
		case int64:
			return float64(n), true
		case float64:
			return n, true
		}
		return 0, false
	}
	g, gok := toF(got)
	w, wok := toF(want)
	if gok && wok {
		return g == w
	}
	return reflect.DeepEqual(got, want)
}

func TestExprEvalBool(t *testing.T) {
	const versionCheck = "item.v == nil || item.v < 3"
	tests := []struct {
		name    string
		src     string
		item    map[string]any
		want    bool
		wantErr error
	}{
		{"no version", versionCheck, map[string]any{}, true, nil},
		{"nil version", versionCheck, map[string]any{"v": nil}, true, nil},
		{"int64 below", versionCheck, map[string]any{"v": int64(2)}, true, nil},
		{"int at target", versionCheck, map[string]any{"v": 3}, false, nil},
		{"float above", versionCheck, map[string]any{"v": 4.0}, false, nil},
		{"float below", versionCheck, map[string]any{"v": 2.5}, true, nil},
		{"nil is false", "item.flag", map[string]any{}, false, nil},
		{"bool", "item.flag", map[string]any{"flag": true}, true, nil},
		{"not bool", "item.flag", map[string]any{"flag": "yes"}, false, runbook.ErrNotBool},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := runbook.CompileExpr(tt.src, true)
			if err != nil {
				t.Fatalf("CompileExpr(%q): %v", tt.src, err)
			}
			got, err := e.EvalBool(env(tt.item))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("EvalBool() error = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("EvalBool() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExprCompileErrors(t *testing.T) {
	tests := []struct {
		src     string
		cond    bool
		wantSub string
	}{
		{"itme.v", false, "unknown name itme"},
		{"item.v <", false, "unexpected token"},
		{`trim(item.x)`, true, "expected bool"},
		{"foo(item.x)", false, "unknown name foo"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := runbook.CompileExpr(tt.src, tt.cond)
			if err == nil || !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("CompileExpr(%q) = %v, want error containing %q", tt.src, err, tt.wantSub)
			}
		})
	}
}

func TestExprReads(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{"item.v == nil || item.v < 3", []string{"v"}},
		{`trim(split(item.address, ",")[0])`, []string{"address"}},
		{`item["b"] + item.a + item.a`, []string{"a", "b"}},
		{`item.profile.email != nil`, []string{"profile"}},
		{`item?.x ?? vars.y`, []string{"x"}},
		{`all(item.tags, {# != item.z})`, []string{"tags", "z"}},
		{`vars.limit > steps.size.count`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			e, err := runbook.CompileExpr(tt.src, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.Reads(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Reads() = %#v, want %#v", got, tt.want)
			}
			hand := &runbook.Expr{Source: tt.src}
			if got := hand.Reads(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Reads() of an uncompiled Expr = %#v, want %#v", got, tt.want)
			}
		})
	}
	var nilExpr *runbook.Expr
	if got := nilExpr.Reads(); got != nil {
		t.Errorf("nil Reads() = %v, want nil", got)
	}
}

func TestExprNotCompiled(t *testing.T) {
	_, err := (&runbook.Expr{Source: "1"}).Eval(nil)
	if !errors.Is(err, runbook.ErrNotCompiled) {
		t.Errorf("Eval() = %v, want ErrNotCompiled", err)
	}
}

func TestMigrateReads(t *testing.T) {
	compile := func(src string) *runbook.Expr {
		e, err := runbook.CompileExpr(src, false)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	m := &runbook.MigrateSpec{
		Where:  compile("item.v < 3 && item.kind == 'user'"),
		Set:    []runbook.SetClause{{Attr: "full", Expr: compile("item.first + ' ' + item.last")}},
		Remove: []string{"legacy"},
		Rename: map[string]string{"mail": "email"},
	}
	if got, want := m.Reads(), []string{"first", "kind", "last", "mail", "v"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Reads() = %v, want %v", got, want)
	}
	if got, want := m.Writes(), []string{"email", "full", "legacy", "mail"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Writes() = %v, want %v", got, want)
	}
	if m.ReadsWholeItem() {
		t.Error("ReadsWholeItem() = true for expressions naming their attributes")
	}
	m.Set = append(m.Set, runbook.SetClause{Attr: "n", Expr: compile("len(item)")})
	if !m.ReadsWholeItem() {
		t.Error("ReadsWholeItem() = false with len(item), want true")
	}
}

// TestExprItemVars checks that rewriting item.X into a direct load of
// ItemVar(X) changes no result: each expression gives what expr-lang
// gives on the plain environment, through Eval and through Run with the
// names bound by hand (as the engine binds them).
func TestExprItemVars(t *testing.T) {
	item := map[string]any{"a": int64(2), "s": "x,y", "tags": []any{"p", "q"},
		"profile": map[string]any{"email": "e@x"}, "nil": nil}
	tests := []struct {
		src   string
		whole bool
	}{
		{`item.a + 1`, false},
		{`item["a"] * 3`, false},
		{`item?.a`, false},
		{`item.missing == nil`, false},
		{`item.missing?.deeper`, false},
		{`item.nil ?? "dflt"`, false},
		{`item.profile.email`, false},
		{`split(item.s, ",")[1]`, false},
		{`all(item.tags, {# != item.s})`, false},
		{`len(item)`, true},
		{`item[vars.k]`, true},
		{`"a" in item && item.a > 1`, true},
		{`$env.item.a + item.a`, true},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			plain := env(item)
			plain["vars"] = map[string]any{"k": "a"}
			want, err := expr.Eval(tt.src, plain)
			if err != nil {
				t.Fatalf("expr.Eval: %v", err)
			}
			e, err := runbook.CompileExpr(tt.src, false)
			if err != nil {
				t.Fatalf("CompileExpr: %v", err)
			}
			if got := e.UsesWholeItem(); got != tt.whole {
				t.Errorf("UsesWholeItem() = %v, want %v", got, tt.whole)
			}
			got, err := e.Eval(plain)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("Eval() = %#v, %v; want %#v", got, err, want)
			}
			bound := env(nil)
			bound["vars"] = plain["vars"]
			if tt.whole {
				bound["item"] = item
			}
			for _, a := range e.Reads() {
				bound[runbook.ItemVar(a)] = item[a]
			}
			got, err = e.Run(nil, bound)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("Run() with bound item vars = %#v, %v; want %#v", got, err, want)
			}
		})
	}
}
