package runbook

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
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

// compileEnv has the shape of the run-time environment: four dynamic maps.
func compileEnv() map[string]any {
	return map[string]any{EnvItem: map[string]any{}, EnvVars: map[string]any{},
		EnvEnv: map[string]any{}, EnvSteps: map[string]any{}}
}

// CompileExpr compiles src against the expression environment. When cond
// is true the expression must be able to produce a boolean (checked at
// compile time where types are known; EvalBool checks the rest).
func CompileExpr(src string, cond bool) (*Expr, error) {
	if cond {
		if _, err := expr.Compile(src, expr.Env(compileEnv()), expr.AsBool()); err != nil {
			return nil, fmt.Errorf("compile expression: %w", err)
		}
	}
	prog, err := expr.Compile(src, expr.Env(compileEnv()))
	if err != nil {
		return nil, fmt.Errorf("compile expression: %w", err)
	}
	e := &Expr{Source: src, Program: prog}
	e.reads = readsOf(src)
	return e, nil
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

// Eval runs the expression against env (see EnvItem and friends).
func (e *Expr) Eval(env map[string]any) (any, error) {
	return e.Run(nil, env)
}

// EvalBool runs a condition: nil is false, a non-boolean is an error
// wrapping ErrNotBool.
func (e *Expr) EvalBool(env map[string]any) (bool, error) {
	return e.RunBool(nil, env)
}

// Run is Eval on machine, a VM the caller owns and reuses between calls
// (it keeps its stack); nil runs on a fresh one. A machine must not be
// used by two goroutines at once.
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
// computed key (item[k]) or a use of item as a whole is not reported.
func (e *Expr) Reads() []string {
	if e == nil {
		return nil
	}
	if e.reads == nil {
		return readsOf(e.Source)
	}
	return append([]string(nil), e.reads...)
}

// readsOf walks the parsed expression for member accesses on item.
func readsOf(src string) []string {
	tree, err := parser.Parse(src)
	if err != nil {
		return []string{}
	}
	v := &itemReads{seen: map[string]bool{}}
	ast.Walk(&tree.Node, v)
	return sortedKeys(v.seen)
}

// itemReads collects item.X accesses.
type itemReads struct{ seen map[string]bool }

// Visit records node when it is item.X or item["X"].
func (v *itemReads) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok {
		return
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	if !ok || id.Value != EnvItem {
		return
	}
	if s, ok := m.Property.(*ast.StringNode); ok {
		v.seen[s.Value] = true
	}
}
