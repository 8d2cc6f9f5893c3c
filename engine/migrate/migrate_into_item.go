package migrate

import (
	"fmt"
	"maps"
	"slices"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// copyPlan is what a copy decided for one source item.
type copyPlan struct {
	src  engine.Item // the source item as read
	item engine.Item // the target item: transformed, new key, version
	out  outcome     // outWrite, outNotMatched or outFailed
	err  error
}

// planCopy selects src (where) and builds the item a copy writes for it:
// the source item with set, rename and remove applied, the new key
// attributes computed from the source item, and the step's version. Every
// expression sees the source item as read.
func planCopy(env *itemEnv, spec *runbook.MigrateSpec, vattr string, version int64, src engine.Item) copyPlan {
	p := copyPlan{src: src, out: outWrite}
	env.bind(src)
	ok, err := env.runBool(spec.Where)
	switch {
	case err != nil:
		return copyPlan{src: src, out: outFailed, err: fmt.Errorf("where: %w", err)}
	case !ok:
		return copyPlan{src: src, out: outNotMatched}
	}
	it := maps.Clone(src)
	for _, c := range spec.Set {
		v, err := evalValue(env, c.Expr)
		if err != nil {
			return copyPlan{src: src, out: outFailed, err: fmt.Errorf("set %s: %w", c.Attr, err)}
		}
		if old, had := src[c.Attr]; had {
			var empty bool
			if v, empty = engine.AsStoredLike(old, v); empty { // DynamoDB has no empty set
				delete(it, c.Attr)
				continue
			}
		}
		it[c.Attr] = v
	}
	for _, old := range slices.Sorted(maps.Keys(spec.Rename)) {
		if v, ok := src[old]; ok && v != nil {
			it[spec.Rename[old]] = v
		}
		delete(it, old)
	}
	for _, a := range spec.Remove {
		delete(it, a)
	}
	for _, c := range spec.Into.Key {
		v, err := evalValue(env, c.Expr)
		if err == nil {
			err = checkKeyValue(v)
		}
		if err != nil {
			return copyPlan{src: src, out: outFailed, err: fmt.Errorf("into key %s: %w", c.Attr, err)}
		}
		it[c.Attr] = v
	}
	it[vattr] = engine.Number(fmt.Sprint(version))
	p.item = it
	return p
}

// evalValue runs e against the bound item and converts its value to the
// item model.
func evalValue(env *itemEnv, e *runbook.Expr) (any, error) {
	raw, err := env.run(e)
	if err != nil {
		return nil, err
	}
	return engine.FromExpr(raw)
}

// checkKeyValue accepts what a DynamoDB key attribute can hold: a
// non-empty string, a number or non-empty binary.
func checkKeyValue(v any) error {
	switch x := v.(type) {
	case string:
		if x != "" {
			return nil
		}
		return fmt.Errorf("empty string: a key attribute must hold a value")
	case engine.Number:
		return nil
	case []byte:
		if len(x) > 0 {
			return nil
		}
		return fmt.Errorf("empty binary: a key attribute must hold a value")
	case nil:
		return fmt.Errorf("null: a key attribute must hold a value (does the expression read an attribute the item lacks?)")
	}
	return fmt.Errorf("a %s: a key attribute holds a string, a number or binary", valueType(v))
}

// sameItem reports whether a and b hold the same attributes with equal
// values.
func sameItem(a, b engine.Item) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !engine.EqualValues(v, w) {
			return false
		}
	}
	return true
}

// copyGuardOf is the guard of a copy's rollback: the target item still
// holds exactly what the copy wrote, at its version.
func copyGuardOf(it engine.Item, key []string, vattr string, version int64) engine.Guard {
	g := engine.Guard{VersionAttr: vattr, Equals: version}
	for _, k := range slices.Sorted(maps.Keys(it)) {
		if k != vattr && !slices.Contains(key, k) {
			g.Unchanged = append(g.Unchanged, engine.Attr{Name: k, Value: it[k]})
		}
	}
	return g
}
