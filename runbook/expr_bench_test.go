package runbook_test

import (
	"testing"

	"github.com/expr-lang/expr/vm"
	"github.com/lockstep-run/lockstep/runbook"
)

// BenchmarkSplitClauses evaluates bench/'s three set clauses against one
// bound item the way the data steps do (one VM, ItemVar bound): the
// per-row expression cost of issue 17 (c).
func BenchmarkSplitClauses(b *testing.B) {
	var clauses []*runbook.Expr
	for _, src := range []string{
		`trim(split(item.address, ",")[0])`,
		`trim(split(item.address, ",")[1])`,
		`trim(split(item.address, ",")[2])`,
	} {
		e, err := runbook.CompileExpr(src, false)
		if err != nil {
			b.Fatal(err)
		}
		clauses = append(clauses, e)
	}
	where, err := runbook.CompileExpr("item.address != nil", true)
	if err != nil {
		b.Fatal(err)
	}
	vars := env(nil)
	vars[runbook.ItemVar("address")] = "12 Main St, Oslo, 17919"
	var machine vm.VM
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := where.RunBool(&machine, vars); !ok || err != nil {
			b.Fatalf("where = %v, %v", ok, err)
		}
		for _, e := range clauses {
			if _, err := e.Run(&machine, vars); err != nil {
				b.Fatal(err)
			}
		}
	}
}
