package migrate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestPageBufReuse plans pages one after another in one recycled pageBuf,
// as a segment's planner does with the memory its writer hands back: a
// page planned in it must be exactly what a fresh page would be (nothing
// of the page before: no write, guard or stamp on an item the step does
// not write), and the attribute arrays of the page before are reused.
func TestPageBufReuse(t *testing.T) {
	t.Parallel()
	sp := guardSpec(t, `{where: "item.address != nil", set: {street: 'item.address + "!"', city: '"Paris"'}}`)
	m := &migrator{spec: sp, key: []string{"id"}, vattr: "v", version: 2}
	m.reads, m.readsAll = sp.Reads(), sp.ReadsWholeItem()
	env := m.env()
	page := func(n int, f func(i int) engine.Item) []engine.Item {
		items := make([]engine.Item, n)
		for i := range items {
			items[i] = f(i)
		}
		return items
	}
	writes := page(50, func(i int) engine.Item {
		return engine.Item{"id": engine.Number(fmt.Sprint(i)), "address": fmt.Sprintf("%d Main", i)}
	})
	mixed := page(60, func(i int) engine.Item {
		switch i % 3 {
		case 0: // where is false
			return engine.Item{"id": engine.Number(fmt.Sprint(i))}
		case 1: // already at the version
			return engine.Item{"id": engine.Number(fmt.Sprint(i)), "address": "x", "v": engine.Number("2")}
		}
		return engine.Item{"id": engine.Number(fmt.Sprint(i)), "address": "x!", "street": "x!!", "city": "Paris"}
	})
	var buf pageBuf
	ctx := context.Background()
	if _, err := m.planItemsIn(ctx, env, nil, writes, &buf); err != nil {
		t.Fatal(err)
	}
	arrays := len(buf.slab.used)
	buf.release()
	for _, p := range buf.plans[:cap(buf.plans)] {
		if p.item != nil || p.upd.Set != nil {
			t.Fatalf("release() left plan %+v: the page's items stay alive", p)
		}
	}
	for _, items := range [][]engine.Item{mixed, writes} {
		got, err := m.planItemsIn(ctx, env, nil, items, &buf)
		if err != nil {
			t.Fatal(err)
		}
		want, err := m.planItems(ctx, env, nil, items)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("planItemsIn() planned %d items, want %d", len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.out != w.out || g.stamp != w.stamp || fmt.Sprint(g.upd) != fmt.Sprint(w.upd) || fmt.Sprint(g.item) != fmt.Sprint(w.item) {
				t.Errorf("item %d in a recycled page: %+v, want %+v", i, g, w)
			}
		}
		if len(buf.slab.used) != arrays {
			t.Errorf("slab holds %d arrays after a recycled page, want the %d of the first page reused", len(buf.slab.used), arrays)
		}
		buf.release()
	}
}

// TestSortAttrs: sortAttrs orders attributes by name, for short slices
// (its insertion sort) and long ones alike.
func TestSortAttrs(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 30 {
		for range 20 {
			as := make([]engine.Attr, n)
			for i := range as {
				as[i] = engine.Attr{Name: fmt.Sprintf("a%02d", r.IntN(40)), Value: i}
			}
			want := slices.Clone(as)
			slices.SortStableFunc(want, func(a, b engine.Attr) int { return strings.Compare(a.Name, b.Name) })
			sortAttrs(as)
			if !slices.IsSortedFunc(as, func(a, b engine.Attr) int { return strings.Compare(a.Name, b.Name) }) {
				t.Fatalf("sortAttrs() of %d = %v, not sorted", n, as)
			}
			if n <= 12 && fmt.Sprint(as) != fmt.Sprint(want) {
				t.Fatalf("sortAttrs() of %d = %v, want %v", n, as, want)
			}
		}
	}
}
