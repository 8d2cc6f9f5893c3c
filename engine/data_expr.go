package engine

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/expr-lang/expr/vm"
	"github.com/lockstep-run/lockstep/runbook"
)

// itemEnv is the expression environment of the data steps: the session's
// environment (vars, env, steps) plus the bound item. Each goroutine owns
// one: it keeps one VM and reuses its maps for every item it evaluates.
//
// Expressions read item.X from the variable runbook.ItemVar("X") (see
// runbook.CompileExpr), so bind sets just the attributes the expressions
// read; it fills the `item` map only when one of them uses item whole.
type itemEnv struct {
	vars  map[string]any // the session's environment; vars[EnvItem] is item
	item  map[string]any // the bound item in expression form, when whole
	vm    vm.VM
	attrs []string // attributes the expressions read
	names []string // runbook.ItemVar of each of attrs
	whole bool     // some expression uses item whole
}

// newItemEnv copies base (sc.ExprEnv()) so that setting `item` does not
// race with other goroutines. exprs are the expressions it will run.
func newItemEnv(sc *StepContext, exprs ...*runbook.Expr) *itemEnv {
	var base map[string]any
	if sc.ExprEnv != nil {
		base = sc.ExprEnv()
	}
	return newItemEnvFrom(base, exprs...)
}

func newItemEnvFrom(base map[string]any, exprs ...*runbook.Expr) *itemEnv {
	env := &itemEnv{item: map[string]any{}}
	env.attrs, env.whole = exprsRead(exprs...)
	env.vars = make(map[string]any, len(base)+1+len(env.attrs))
	maps.Copy(env.vars, base)
	env.vars[runbook.EnvItem] = env.item
	for _, a := range env.attrs {
		env.names = append(env.names, runbook.ItemVar(a))
	}
	return env
}

// bind makes it the item of the following runs: the expression form (see
// ToExpr) of each attribute read replaces the previous item's, nil when
// it lacks one. Values an expression returns are copied by FromExpr
// before the next bind, so nothing keeps them.
func (env *itemEnv) bind(it Item) {
	for i, a := range env.attrs {
		env.vars[env.names[i]] = toExprValue(it[a])
	}
	if env.whole {
		clear(env.item)
		toExprInto(env.item, it)
	}
}

// run evaluates e against the bound item.
func (env *itemEnv) run(e *runbook.Expr) (any, error) {
	return e.Run(&env.vm, env.vars)
}

// runBool evaluates a boolean expression against the bound item; a nil
// expression is true.
func (env *itemEnv) runBool(e *runbook.Expr) (bool, error) {
	if e == nil || e.Program == nil {
		return true, nil
	}
	return e.RunBool(&env.vm, env.vars)
}

// evalBool runs a boolean expression with it bound to `item`; a nil
// expression is true.
func (env *itemEnv) evalBool(e *runbook.Expr, it Item) (bool, error) {
	if e == nil || e.Program == nil {
		return true, nil
	}
	env.bind(it)
	return env.runBool(e)
}

// exprsRead returns the item attributes the expressions read (item.x,
// item["x"], item?.x), sorted and unique. whole is true when one uses
// `item` in a way that may read any attribute (passing it whole to a
// function, indexing it with a computed key).
func exprsRead(exprs ...*runbook.Expr) (attrs []string, whole bool) {
	for _, e := range exprs {
		if e == nil || e.Program == nil {
			continue
		}
		attrs = append(attrs, e.Reads()...)
		whole = whole || e.UsesWholeItem()
	}
	slices.Sort(attrs)
	return slices.Compact(attrs), whole
}

// migrateExprs are the expressions of a migrate spec: where and every set.
func migrateExprs(sp *runbook.MigrateSpec) []*runbook.Expr {
	exprs := []*runbook.Expr{sp.Where}
	for _, c := range sp.Set {
		exprs = append(exprs, c.Expr)
	}
	return exprs
}

// migrateReads is what a migrate spec's transform reads: the attributes of
// where, of every set expression and the sources of renames. all is true
// when some expression may read any attribute.
func migrateReads(sp *runbook.MigrateSpec) (attrs []string, all bool) {
	attrs, all = exprsRead(migrateExprs(sp)...)
	for old := range sp.Rename {
		attrs = append(attrs, old)
	}
	slices.Sort(attrs)
	return slices.Compact(attrs), all
}

// itemVersion reads the version attribute of it: 0 when absent, NULL or
// not an integer.
func itemVersion(it Item, attr string) int64 {
	switch v := it[attr].(type) {
	case Number:
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			return int64(f)
		}
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return 0
}

// versionAttr is the store's version attribute ("v" unless configured).
func versionAttr(sc *StepContext) string {
	if sc.Env != nil && sc.Env.Store != nil && sc.Env.Store.VersionAttribute != "" {
		return sc.Env.Store.VersionAttribute
	}
	return "v"
}

// keyString renders an item key for journals and messages: "id=7" or
// "pk=a,sk=b" in key order.
func keyString(key Item, names []string) string {
	s := ""
	for i, k := range names {
		if i > 0 {
			s += ","
		}
		s += k + "=" + valueString(key[k])
	}
	if len(names) == 0 {
		b, _ := MarshalItem(key)
		s = string(b)
	}
	return s
}

func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case Number:
		return string(x)
	case []byte:
		return fmt.Sprintf("%x", x)
	}
	return fmt.Sprint(v)
}
