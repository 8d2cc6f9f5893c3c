package migrate

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/expr-lang/expr/vm"
	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// Per-item errors of the data steps.
var (
	// ErrInexactNumber marks an expression that failed on an item holding
	// a number expressions cannot compute with exactly (see ToExpr).
	ErrInexactNumber = errors.New("has more digits than expressions compute exactly; copy it as-is or use a transform command")
	// ErrVersionNotNumber marks an item whose version attribute holds
	// something other than a number: no guarded write can ever succeed.
	ErrVersionNotNumber = errors.New("not a number")
)

// itemEnv is the expression environment of the data steps: the session's
// environment (vars, env, steps) plus the bound item. Each goroutine owns
// one: it keeps one VM and reuses its maps for every item it evaluates.
//
// Expressions read item.X from the variable runbook.ItemVar("X") (see
// runbook.CompileExpr), so bind sets just the attributes the expressions
// read; it fills the `item` map only when one of them uses item whole.
//
// An expression with a direct form (runbook.Direct: item.x, trim and
// split of it, a nil test) is computed by Go code from the attribute's
// bound value, without the VM; when the direct form cannot tell (a value
// that is not a string, a missing field) the program runs, for its exact
// result or error. The VM's variables are set from vals only before the
// VM runs (sync), so an item whose expressions all run directly costs no
// map assignment.
type itemEnv struct {
	vars   map[string]any // the session's environment; vars[EnvItem] is item
	item   map[string]any // the bound item in expression form, when whole
	vm     vm.VM
	attrs  []string     // attributes the expressions read
	names  []string     // runbook.ItemVar of each of attrs
	vals   []any        // the bound item's expression value of each of attrs
	stale  bool         // vars do not hold vals yet
	direct []directExpr // the expressions with a direct form
	whole  bool         // some expression uses item whole
}

// directExpr is an expression of an itemEnv with its direct form; at is
// the index in attrs of the attribute it reads.
type directExpr struct {
	e  *runbook.Expr
	d  runbook.Direct
	at int
}

// newItemEnv copies base (sc.ExprEnv()) so that setting `item` does not
// race with other goroutines. exprs are the expressions it will run.
func newItemEnv(sc *engine.StepContext, exprs ...*runbook.Expr) *itemEnv {
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
		env.vars[runbook.ItemVar(a)] = nil
	}
	env.vals = make([]any, len(env.attrs))
	for _, e := range exprs {
		if d, ok := e.Direct(); ok {
			if at, found := slices.BinarySearch(env.attrs, d.Attr); found {
				env.direct = append(env.direct, directExpr{e: e, d: d, at: at})
			}
		}
	}
	return env
}

// bind makes it the item of the following runs: the expression form (see
// ToExpr) of each attribute read replaces the previous item's, nil when
// it lacks one. Values an expression returns are copied by FromExpr
// before the next bind, so nothing keeps them.
func (env *itemEnv) bind(it engine.Item) {
	for i, a := range env.attrs {
		env.vals[i] = engine.ToExprValue(it[a])
	}
	env.stale = len(env.attrs) > 0
	if env.whole {
		clear(env.item)
		engine.ToExprInto(env.item, it)
	}
}

// sync sets the VM's variables to the bound item's values.
func (env *itemEnv) sync() {
	if !env.stale {
		return
	}
	for i, n := range env.names {
		env.vars[n] = env.vals[i]
	}
	env.stale = false
}

// directOf returns e's direct form in env (nil: none).
func (env *itemEnv) directOf(e *runbook.Expr) *directExpr {
	for i := range env.direct {
		if env.direct[i].e == e {
			return &env.direct[i]
		}
	}
	return nil
}

// run evaluates e against the bound item.
func (env *itemEnv) run(e *runbook.Expr) (any, error) {
	if x := env.directOf(e); x != nil {
		if out, ok := x.d.Eval(env.vals[x.at]); ok {
			return out, nil
		}
	}
	env.sync()
	out, err := e.Run(&env.vm, env.vars)
	if err != nil {
		return nil, env.explain(err)
	}
	return out, nil
}

// runBool evaluates a boolean expression against the bound item; a nil
// expression is true.
func (env *itemEnv) runBool(e *runbook.Expr) (bool, error) {
	if e == nil || e.Program == nil {
		return true, nil
	}
	if x := env.directOf(e); x != nil {
		switch out, ok := x.d.Eval(env.vals[x.at]); {
		case !ok:
		case out == nil: // as Expr.RunBool: nil is false
			return false, nil
		default:
			if b, isBool := out.(bool); isBool {
				return b, nil
			}
		}
	}
	env.sync()
	ok, err := e.RunBool(&env.vm, env.vars)
	if err != nil {
		return false, env.explain(err)
	}
	return ok, nil
}

// explain names, in err, a number of the bound item that expressions
// cannot compute with (the likely cause of err) when there is one.
func (env *itemEnv) explain(err error) error {
	env.sync()
	for i, a := range env.attrs {
		if what, ok := inexactAttr(a, env.vars[env.names[i]]); ok {
			return fmt.Errorf("%s %w: %w", what, ErrInexactNumber, err)
		}
	}
	if env.whole {
		for _, a := range slices.Sorted(maps.Keys(env.item)) {
			if what, ok := inexactAttr(a, env.item[a]); ok {
				return fmt.Errorf("%s %w: %w", what, ErrInexactNumber, err)
			}
		}
	}
	return err
}

// inexactAttr names the first number of attribute a's expression value v
// that expressions cannot compute with: "a=123…", or "a holds 123…" when
// it is inside a list or map.
func inexactAttr(a string, v any) (string, bool) {
	n, ok := firstInexact(v)
	if !ok {
		return "", false
	}
	if engine.IsInexactNumber(v) {
		return a + "=" + string(n), true
	}
	return a + " holds " + string(n), true
}

// firstInexact finds a Number passed through to expressions (see
// numberToExpr) in an expression value.
func firstInexact(v any) (engine.Number, bool) {
	switch x := v.(type) {
	case engine.Number:
		return x, true
	case []any:
		for _, e := range x {
			if n, ok := firstInexact(e); ok {
				return n, true
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if n, ok := firstInexact(x[k]); ok {
				return n, true
			}
		}
	}
	return "", false
}

// evalBool runs a boolean expression with it bound to `item`; a nil
// expression is true.
func (env *itemEnv) evalBool(e *runbook.Expr, it engine.Item) (bool, error) {
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

// selectForMigrate is the one rule for which items a migrate step
// transforms, used by migrate itself and by estimate to size its set.
// The version check comes first: an item must be below target, or at it
// when atVersion (a rollback or a contract run); then where (nil: true)
// must hold. It returns outWrite for a selected item, outAlready or
// outNotMatched for one left alone, and outFailed with the error for a
// version that is not a number or a where that fails (migrate records the
// item as failed; estimate counts it in the set, as migrate would try it).
// Past the version check it binds it in env, for the transform.
func selectForMigrate(env *itemEnv, where *runbook.Expr, it engine.Item, vattr string, target int64, atVersion bool) (outcome, error) {
	v, err := readVersion(it, vattr)
	if err != nil {
		return outFailed, err
	}
	if atVersion && v != target || !atVersion && v >= target {
		return outAlready, nil
	}
	env.bind(it)
	ok, err := env.runBool(where)
	if err != nil {
		return outFailed, fmt.Errorf("where: %w", err)
	}
	if !ok {
		return outNotMatched, nil
	}
	return outWrite, nil
}

// itemVersion reads the version attribute of it: 0 when absent, NULL or
// not a number (readVersion tells the last case apart).
func itemVersion(it engine.Item, attr string) int64 {
	v, _ := readVersion(it, attr)
	return v
}

// readVersion reads the version attribute of it: 0 when absent or NULL,
// the integer part of a Number, and an error wrapping ErrVersionNotNumber
// for any other value (a string "0" included: the store's guard compares
// it as a string, so no write could ever succeed).
func readVersion(it engine.Item, attr string) (int64, error) {
	switch v := it[attr].(type) {
	case nil:
		return 0, nil
	case engine.Number:
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return n, nil
		}
		if f, err := strconv.ParseFloat(string(v), 64); err == nil || errors.Is(err, strconv.ErrRange) {
			switch {
			case f >= math.MaxInt64: // float64(MaxInt64) is 2⁶³: int64 overflows
				return math.MaxInt64, nil
			case f <= math.MinInt64:
				return math.MinInt64, nil
			}
			return int64(f), nil
		}
		return 0, versionError(attr, "malformed number", string(v))
	case string:
		return 0, versionError(attr, "string", strconv.Quote(v))
	case bool:
		return 0, versionError(attr, "bool", strconv.FormatBool(v))
	case []byte:
		return 0, versionError(attr, "binary", fmt.Sprintf("%d bytes", len(v)))
	default:
		return 0, versionError(attr, valueType(v), valueString(v))
	}
}

func versionError(attr, kind, shown string) error {
	return fmt.Errorf("version attribute %s is a %s (%s), %w; fix the item or set version_attribute", attr, kind, shown, ErrVersionNotNumber)
}

// versionAttr is the store's version attribute ("v" unless configured).
func versionAttr(sc *engine.StepContext) string {
	if sc.Env != nil && sc.Env.Store != nil && sc.Env.Store.VersionAttribute != "" {
		return sc.Env.Store.VersionAttribute
	}
	return "v"
}

// KeyString renders an item key for journals and messages: "id=7" or
// "pk=a,sk=b" in key order.
func KeyString(key engine.Item, names []string) string {
	s := ""
	for i, k := range names {
		if i > 0 {
			s += ","
		}
		s += k + "=" + valueString(key[k])
	}
	if len(names) == 0 {
		b, _ := engine.MarshalItem(key)
		s = string(b)
	}
	return s
}

func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case engine.Number:
		return string(x)
	case []byte:
		return fmt.Sprintf("%x", x)
	}
	return fmt.Sprint(v)
}

// ItemEnv evaluates a data step's expressions against items, in the
// session's expression environment (vars, env, steps) plus `item`. One
// goroutine uses one ItemEnv.
type ItemEnv struct{ env *itemEnv }

// NewItemEnv returns the expression environment of sc for exprs, the
// expressions it will run.
func NewItemEnv(sc *engine.StepContext, exprs ...*runbook.Expr) *ItemEnv {
	return &ItemEnv{newItemEnv(sc, exprs...)}
}

// EvalBool runs a boolean expression with it bound to `item`; a nil
// expression is true.
func (e *ItemEnv) EvalBool(x *runbook.Expr, it engine.Item) (bool, error) {
	return e.env.evalBool(x, it)
}
