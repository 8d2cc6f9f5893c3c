package runbook

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"
)

// The top-level names of the expression environment the engine passes to
// Eval: item (the store item, attribute → value), vars (the runbook's vars
// and --var overrides), env (name, mode, protected) and steps (results of
// earlier steps by id). Every other top-level identifier is rejected at load.
const (
	EnvItem  = "item"
	EnvVars  = "vars"
	EnvEnv   = "env"
	EnvSteps = "steps"
)

var envNames = []string{EnvItem, EnvVars, EnvEnv, EnvSteps}

// compileEnv has the shape of the run-time environment: four dynamic maps,
// plus one ItemVar name per item attribute the expression reads.
func compileEnv(reads []string) types.Map {
	dynamic := types.TypeOf(map[string]any{})
	env := types.Map{EnvItem: dynamic, EnvVars: dynamic, EnvEnv: dynamic, EnvSteps: dynamic}
	for _, a := range reads {
		env[ItemVar(a)] = types.Any
	}
	return env
}

// ItemVar is the environment name from which a compiled expression reads
// item attribute attr. CompileExpr rewrites item.attr and item["attr"]
// into a direct load of env[ItemVar(attr)]: the data steps evaluate
// expressions once per item, and expr-lang reads a field of a map held in
// a variable through reflection (several times slower, and allocating).
// Run's caller binds these names (see Reads); Eval binds them itself.
// The name holds a dot, so it cannot clash with an identifier.
func ItemVar(attr string) string { return EnvItem + "." + attr }

// CompileExpr compiles src against the expression environment. When cond
// is true the expression must be able to produce a boolean (checked at
// compile time where types are known; EvalBool checks the rest).
func CompileExpr(src string, cond bool) (*Expr, error) {
	reads := readsOf(src)
	opts := []expr.Option{expr.Env(compileEnv(reads)), expr.Patch(itemVarPatcher{}), expr.Patch(&typedCalls{})}
	prog, err := expr.Compile(src, opts...)
	// A condition is also compiled with AsBool, whose error comes first,
	// unless the program compiled and yields a bool: then that compile
	// passes (its checker is this one plus the result's type), and
	// skipping it spares a third of a condition's compile (issue 17).
	// The program run is the one without AsBool, which would make a
	// nil result panic instead of EvalBool's error.
	if cond && (err != nil || prog.Node().Type().Kind() != reflect.Bool) {
		if _, berr := expr.Compile(src, append(opts, expr.AsBool())...); berr != nil {
			return nil, fmt.Errorf("compile expression: %w", berr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("compile expression: %w", err)
	}
	return &Expr{Source: src, Program: prog, reads: reads, whole: usesItemWhole(prog)}, nil
}

// itemVarPatcher rewrites item.X and item["X"] (X constant, ?. included)
// into the identifier ItemVar(X).
type itemVarPatcher struct{}

func (itemVarPatcher) Visit(node *ast.Node) {
	if attr, ok := itemMember(*node); ok {
		ast.Patch(node, &ast.IdentifierNode{Value: ItemVar(attr)})
	}
}

// itemMember reports whether n is item.X or item["X"], and X.
func itemMember(n ast.Node) (string, bool) {
	m, ok := n.(*ast.MemberNode)
	if !ok {
		return "", false
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	if !ok || id.Value != EnvItem {
		return "", false
	}
	s, ok := m.Property.(*ast.StringNode)
	if !ok {
		return "", false
	}
	return s.Value, true
}

// usesItemWhole reports whether the compiled expression still names item
// itself (len(item), item[k], passing it to a function) or the whole
// environment ($env.item): it may then read any attribute.
func usesItemWhole(prog *vm.Program) bool {
	node := prog.Node()
	found := false
	ast.Find(node, func(n ast.Node) bool {
		id, ok := n.(*ast.IdentifierNode)
		found = found || ok && (id.Value == EnvItem || id.Value == "$env")
		return found
	})
	return found
}

// condKeys are the expression keys that must produce a boolean.
var condKeys = map[string]bool{"when": true, "where": true, "expect_none": true, "assert": true}

// expr compiles the expression in n, reporting a failure at n's position.
func (d *decoder) expr(n *yaml.Node, what string) *Expr {
	if !d.scalar(n, what) {
		return nil
	}
	e, err := CompileExpr(n.Value, condKeys[what])
	if err != nil {
		msg, hint := exprMessage(errors.Unwrap(err))
		d.errorf(n, hint, "%s: %s", what, msg)
		return nil
	}
	e.Pos = d.pos(n)
	d.exprRefs(n, what, n.Value)
	return e
}

// exprMessage extracts expr-lang's one-line message and a hint.
func exprMessage(err error) (msg, hint string) {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return err.Error(), ""
	}
	msg = fe.Message
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		return msg, orElse(didYouMean(name, envNames), "expressions see item, vars, env and steps")
	}
	if fe.Column > 0 || fe.Line > 1 {
		hint = fmt.Sprintf("at %d:%d of the expression", fe.Line, fe.Column+1)
	}
	return msg, hint
}

// Eval runs the expression against env (see EnvItem and friends). It
// binds the ItemVar names from env[EnvItem] on a copy of env.
func (e *Expr) Eval(env map[string]any) (any, error) {
	return e.Run(nil, e.withItemVars(env))
}

// EvalBool runs a condition: nil is false, a non-boolean is an error
// wrapping ErrNotBool.
func (e *Expr) EvalBool(env map[string]any) (bool, error) {
	return e.RunBool(nil, e.withItemVars(env))
}

// withItemVars returns env, or a copy of it with ItemVar(a) bound for
// each attribute a the expression reads.
func (e *Expr) withItemVars(env map[string]any) map[string]any {
	if e == nil || len(e.reads) == 0 {
		return env
	}
	item, _ := env[EnvItem].(map[string]any)
	out := make(map[string]any, len(env)+len(e.reads))
	maps.Copy(out, env)
	for _, a := range e.reads {
		out[ItemVar(a)] = item[a]
	}
	return out
}

// Run is Eval on machine, a VM the caller owns and reuses between calls
// (it keeps its stack); nil runs on a fresh one. A machine must not be
// used by two goroutines at once. env binds ItemVar(a) for each a in
// Reads, and item itself when UsesWholeItem.
func (e *Expr) Run(machine *vm.VM, env map[string]any) (any, error) {
	if e == nil || e.Program == nil {
		return nil, fmt.Errorf("eval expression: %w", ErrNotCompiled)
	}
	var out any
	var err error
	if machine == nil {
		out, err = expr.Run(e.Program, env)
	} else {
		out, err = machine.Run(e.Program, env)
	}
	if err != nil {
		return nil, fmt.Errorf("eval %q: %w", e.Source, err)
	}
	return out, nil
}

// RunBool is EvalBool on machine (see Run).
func (e *Expr) RunBool(machine *vm.VM, env map[string]any) (bool, error) {
	out, err := e.Run(machine, env)
	if err != nil {
		return false, err
	}
	switch v := out.(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	}
	return false, fmt.Errorf("eval %q: %w (got %T)", e.Source, ErrNotBool, out)
}

// Reads returns the item attributes the expression reads (item.X and
// item["X"] with a constant key), sorted and unique; nil when none. A
// computed key (item[k]) or a use of item as a whole is not reported
// (see UsesWholeItem). The caller of Run binds each of them as
// ItemVar(attr), nil when the item lacks it.
func (e *Expr) Reads() []string {
	if e == nil {
		return nil
	}
	if e.reads == nil {
		return readsOf(e.Source)
	}
	return append([]string(nil), e.reads...)
}

// UsesWholeItem reports whether the expression uses item other than
// through a constant attribute (len(item), item[k], "x" in item):
// it may then read any attribute, and Run's caller binds item itself too.
func (e *Expr) UsesWholeItem() bool { return e != nil && e.whole }

// readsOf walks the parsed expression for member accesses on item. (An
// expression cannot declare a local item: expr-lang refuses to redeclare
// an environment name.)
func readsOf(src string) []string {
	tree, err := parser.Parse(src)
	if err != nil {
		return []string{}
	}
	seen := map[string]bool{}
	ast.Find(tree.Node, func(n ast.Node) bool {
		if attr, ok := itemMember(n); ok {
			seen[attr] = true
		}
		return false
	})
	return sortedKeys(seen)
}
