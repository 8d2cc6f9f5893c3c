package engine

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
	"github.com/lockstep-run/lockstep/runbook"
)

// itemEnv is the expression environment of the data steps: the session's
// environment (vars, env, steps) plus `item`. Each goroutine owns one: it
// keeps one VM and one `item` map, reused for every item it evaluates.
type itemEnv struct {
	vars map[string]any // the session's environment; vars[EnvItem] is item
	item map[string]any // the bound item in expression form
	vm   vm.VM
	// attrs, when set, are the only attributes the expressions read (see
	// exprReads): bind converts just those.
	attrs []string
}

// newItemEnv copies base (sc.ExprEnv()) so that setting `item` does not
// race with other goroutines.
func newItemEnv(sc *StepContext) *itemEnv {
	var base map[string]any
	if sc.ExprEnv != nil {
		base = sc.ExprEnv()
	}
	return newItemEnvFrom(base)
}

func newItemEnvFrom(base map[string]any) *itemEnv {
	env := &itemEnv{vars: make(map[string]any, len(base)+1), item: map[string]any{}}
	maps.Copy(env.vars, base)
	env.vars[runbook.EnvItem] = env.item
	return env
}

// bind makes it the `item` of the following runs: its expression form
// (see ToExpr) replaces the previous item's in the reused map. Values an
// expression returns are copied by FromExpr before the next bind, so
// nothing keeps the map.
func (env *itemEnv) bind(it Item) {
	clear(env.item)
	if env.attrs == nil {
		toExprInto(env.item, it)
		return
	}
	for _, a := range env.attrs {
		if v, ok := it[a]; ok {
			env.item[a] = toExprValue(v)
		}
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

// exprReads returns the item attributes an expression reads (item.x,
// item["x"], item?.x). all is true when the expression uses `item` in a
// way that may read any attribute (passing it whole to a function,
// indexing it with a computed key).
func exprReads(e *runbook.Expr) (attrs []string, all bool) {
	if e == nil || e.Program == nil {
		return nil, false
	}
	node := e.Program.Node()
	v := &readsVisitor{seen: map[string]bool{}}
	ast.Walk(&node, v)
	for a := range v.seen {
		attrs = append(attrs, a)
	}
	slices.Sort(attrs)
	return attrs, v.idents > v.members
}

type readsVisitor struct {
	seen    map[string]bool
	idents  int // uses of the identifier `item`
	members int // of which constant member accesses item.x
}

func (v *readsVisitor) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.IdentifierNode:
		if x.Value == "item" {
			v.idents++
		}
	case *ast.MemberNode:
		id, ok := x.Node.(*ast.IdentifierNode)
		if !ok || id.Value != "item" {
			return
		}
		if p, ok := x.Property.(*ast.StringNode); ok {
			v.members++
			v.seen[p.Value] = true
		}
	}
}

// migrateReads is what a migrate spec's transform reads: the attributes of
// where, of every set expression and the sources of renames. all is true
// when some expression may read any attribute.
func migrateReads(sp *runbook.MigrateSpec) (attrs []string, all bool) {
	set := map[string]bool{}
	add := func(e *runbook.Expr) {
		a, everything := exprReads(e)
		all = all || everything
		for _, s := range a {
			set[s] = true
		}
	}
	add(sp.Where)
	for _, c := range sp.Set {
		add(c.Expr)
	}
	for old := range sp.Rename {
		set[old] = true
	}
	for a := range set {
		attrs = append(attrs, a)
	}
	slices.Sort(attrs)
	return attrs, all
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
