package runbook

import (
	"fmt"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// compileCondBothWays is CompileExpr's condition compile as it was before
// it skipped the AsBool compile of a program that yields a bool: AsBool
// first, then the program.
func compileCondBothWays(src string) (*vm.Program, error) {
	opts := []expr.Option{expr.Env(compileEnv(readsOf(src))), expr.Patch(itemVarPatcher{}), expr.Patch(&typedCalls{})}
	if _, err := expr.Compile(src, append(opts, expr.AsBool())...); err != nil {
		return nil, fmt.Errorf("compile expression: %w", err)
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, fmt.Errorf("compile expression: %w", err)
	}
	return prog, nil
}

// TestCondCompileAsBothWays: a condition compiles to the same program, or
// fails with the same error, as when it was always compiled with AsBool
// too; among them results of every type, results known only at run time,
// expressions the optimiser folds and ones that do not compile.
func TestCondCompileAsBothWays(t *testing.T) {
	for _, src := range []string{
		`item.address != nil`, `item.v == nil || item.v < 2`, `item.v`, `vars.flag`,
		`trim(item.x)`, `1 + 2`, `"a"`, `nil`, `true`, `!true`, `1 == 1`, `1 / 0`, `1 % 0`,
		`"a" in ["a", "b"]`, `item.v in [1, 2]`, `len("ab") > 1`, `item.v ?? false`,
		`item.v == nil ? 1 : true`, `item.v > 1 ? true : false`, `all(item.tags, {# > 1})`,
		`filter(item.tags, # > 1)`, `split(item.a, ",")[0] == "x"`, `trim(split(item.a, ",")[0])`,
		`item.v <`, `foo(item.x)`, `itme.v`, `item.v and 1`, `not item.v`, `1 < 2 < 3`,
		`steps.size.count > 0`, `env.protected`, `[true][0]`, `{"a": true}.a`, `int(item.v) > 1`,
	} {
		t.Run(src, func(t *testing.T) {
			want, wantErr := compileCondBothWays(src)
			got, err := CompileExpr(src, true)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("CompileExpr(%q, true) error = %v, want %v", src, err, wantErr)
			}
			if err != nil {
				return
			}
			if g, w := got.Program.Disassemble(), want.Disassemble(); g != w {
				t.Errorf("CompileExpr(%q, true) program:\n%s\nwant:\n%s", src, g, w)
			}
		})
	}
}
