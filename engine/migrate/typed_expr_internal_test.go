package migrate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestDirectPlansAgree is a property test of the direct expression path
// (runbook.Direct in itemEnv): for generated steps whose where and set
// expressions have direct forms, and generated items (strings with and
// without enough fields, Unicode spaces, numbers, booleans, lists, nulls
// and absent attributes), planning with the direct forms gives exactly
// the plans the VM alone gives: outcome, write and error message. Items
// are planned one after another in one environment, so a value bound for
// one item and not set again for the next would show.
func TestDirectPlansAgree(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(17, 2))
	ctx := context.Background()
	var direct int
	for range 40 {
		sp := guardSpec(t, genDirectStep(r))
		m := &migrator{spec: sp, key: []string{"id"}, vattr: "v", version: 2}
		m.reads, m.readsAll = sp.Reads(), sp.ReadsWholeItem()
		typed, vm := m.env(), m.env()
		vm.direct = nil
		if len(typed.direct) == 0 {
			t.Fatalf("step %+v: no expression has a direct form", sp)
		}
		direct += len(typed.direct)
		for i := range 200 {
			it := genDirectItem(r, i)
			got, err := m.planItems(ctx, typed, nil, []engine.Item{it})
			if err != nil {
				t.Fatal(err)
			}
			want, err := m.planItems(ctx, vm, nil, []engine.Item{it})
			if err != nil {
				t.Fatal(err)
			}
			g, w := got[0], want[0]
			if g.out != w.out || g.stamp != w.stamp || fmt.Sprint(g.upd) != fmt.Sprint(w.upd) || fmt.Sprint(g.err) != fmt.Sprint(w.err) {
				t.Fatalf("item %v: direct plan %+v, VM plan %+v", it, g, w)
			}
		}
	}
	if direct < 80 {
		t.Errorf("%d expressions ran directly: the generator misses the shapes", direct)
	}
}

// genDirectStep returns a migrate step's with: where a nil test of
// address (or none), and two or three set clauses of direct shapes over
// address and name.
func genDirectStep(r *rand.Rand) string {
	seps := []string{",", ", ", ";", " "}
	attr := func() string { return []string{"item.address", `item["address"]`, "item?.name"}[r.IntN(3)] }
	expr := func() string {
		field := fmt.Sprintf("split(%s, %q)[%d]", attr(), seps[r.IntN(len(seps))], r.IntN(4))
		switch r.IntN(4) {
		case 0:
			return attr()
		case 1:
			return "trim(" + attr() + ")"
		case 2:
			return field
		}
		return "trim(" + field + ")"
	}
	var set []string
	for i, a := range []string{"street", "city", "postcode"}[:2+r.IntN(2)] {
		if i == 1 && r.IntN(4) == 0 {
			set = append(set, fmt.Sprintf("%s: 'upper(%s)'", a, attr())) // no direct form
			continue
		}
		set = append(set, fmt.Sprintf("%s: '%s'", a, expr()))
	}
	where := []string{"", `where: "item.address != nil", `, `where: "nil == item.name", `}[r.IntN(3)]
	return "{" + where + "set: {" + strings.Join(set, ", ") + "}}"
}

// genDirectItem returns item i: an address and a name of any kind, or
// absent, and sometimes the values the step would set.
func genDirectItem(r *rand.Rand, i int) engine.Item {
	value := func() any {
		switch r.IntN(10) {
		case 0:
			return nil
		case 1:
			return engine.Number(fmt.Sprint(r.IntN(100)))
		case 2:
			return true
		case 3:
			return []any{"a, b"}
		}
		parts := []string{",", ", ", ";", " ", "\u00a0", "Main St", "Oslo", "7", ""}
		var b strings.Builder
		for range r.IntN(8) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		return b.String()
	}
	it := engine.Item{"id": engine.Number(fmt.Sprint(i))}
	for _, a := range []string{"address", "name", "street", "city"} {
		if r.IntN(5) > 0 {
			it[a] = value()
		}
	}
	return it
}
