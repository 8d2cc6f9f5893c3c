package runbook

import (
	"fmt"
	"strings"
	"text/template/parse"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"go.yaml.in/yaml/v3"
)

// EnvFields are the keys of the `env` map expressions see.
var EnvFields = []string{"name", "mode", "protected"}

// A name reference in an expression or a template: steps.X (a step whose
// result is read), vars.X (a declared var) or env.X. They are checked once
// the whole runbook is decoded, like requires: (see validator.checkName).

// exprRefs records the steps.X, vars.X and env.X an expression names
// with a constant key (a computed key such as steps[id] is not checked).
func (d *decoder) exprRefs(n *yaml.Node, what, src string) {
	tree, err := parser.Parse(src)
	if err != nil {
		return
	}
	ast.Find(tree.Node, func(node ast.Node) bool {
		m, ok := node.(*ast.MemberNode)
		if !ok {
			return false
		}
		id, ok := m.Node.(*ast.IdentifierNode)
		if !ok {
			return false
		}
		key, ok := m.Property.(*ast.StringNode)
		if !ok {
			return false
		}
		text := id.Value + "." + key.Value
		switch id.Value {
		case EnvSteps:
			d.referName(refResult, what, key.Value, text, n)
		case EnvVars:
			d.referName(refVar, what, key.Value, text, n)
		case EnvEnv:
			d.referName(refEnvField, what, key.Value, text, n)
		}
		return false
	})
}

// templateRefs records the .Steps.X and .Vars.X a notify template names
// (also as $.Steps.X and index .Vars "X"). Fields read where dot is no
// longer the template's data (inside range and with) are not checked.
// Templates a {{define}} names are not walked: their dot is whatever
// {{template}} passes them.
func (d *decoder) templateRefs(n *yaml.Node, what string, tree *parse.Tree) {
	if tree == nil {
		return
	}
	w := &templateWalker{d: d, n: n, what: what}
	w.list(tree.Root, true)
}

// templateWalker walks a template's parse tree for field references.
type templateWalker struct {
	d    *decoder
	n    *yaml.Node
	what string
}

func (w *templateWalker) list(l *parse.ListNode, root bool) {
	if l == nil {
		return
	}
	for _, node := range l.Nodes {
		w.node(node, root)
	}
}

func (w *templateWalker) node(node parse.Node, root bool) {
	switch n := node.(type) {
	case *parse.ActionNode:
		w.pipe(n.Pipe, root)
	case *parse.IfNode:
		w.branch(&n.BranchNode, root, root)
	case *parse.RangeNode:
		w.branch(&n.BranchNode, root, false)
	case *parse.WithNode:
		w.branch(&n.BranchNode, root, false)
	case *parse.TemplateNode:
		w.pipe(n.Pipe, root)
	case *parse.ListNode:
		w.list(n, root)
	}
}

// branch walks if/range/with: the pipeline and the else branch see the
// outer dot, the body sees bodyRoot's.
func (w *templateWalker) branch(b *parse.BranchNode, root, bodyRoot bool) {
	w.pipe(b.Pipe, root)
	w.list(b.List, bodyRoot)
	w.list(b.ElseList, root)
}

func (w *templateWalker) pipe(p *parse.PipeNode, root bool) {
	if p == nil {
		return
	}
	for _, c := range p.Cmds {
		w.command(c, root)
	}
}

func (w *templateWalker) command(c *parse.CommandNode, root bool) {
	if len(c.Args) == 3 {
		// index .Vars "x" / index $.Steps "x"
		if fn, ok := c.Args[0].(*parse.IdentifierNode); ok && fn.Ident == "index" {
			if s, ok := c.Args[2].(*parse.StringNode); ok {
				if field, text := w.rootFields(c.Args[1], root); len(field) == 1 {
					w.field(append(field, s.Text), "index "+text+" "+s.Quoted)
				}
			}
		}
	}
	for _, a := range c.Args {
		switch a := a.(type) {
		case *parse.PipeNode:
			w.pipe(a, root)
		default:
			w.field(w.rootFields(a, root))
		}
	}
}

// rootFields returns the chain of fields a reads from the template's data
// (.A.B, or $.A.B anywhere) and a as written, nil when a reads something
// else.
func (w *templateWalker) rootFields(a parse.Node, root bool) ([]string, string) {
	switch a := a.(type) {
	case *parse.FieldNode:
		if root {
			return a.Ident, a.String()
		}
	case *parse.VariableNode:
		if len(a.Ident) > 1 && a.Ident[0] == "$" {
			return a.Ident[1:], a.String()
		}
	}
	return nil, ""
}

// field records a reference for .Steps.X and .Vars.X; text is the
// reference as written.
func (w *templateWalker) field(f []string, text string) {
	if len(f) < 2 {
		return
	}
	switch f[0] {
	case "Steps":
		w.d.referName(refResult, w.what, f[1], text, w.n)
	case "Vars":
		w.d.referName(refVar, w.what, f[1], text, w.n)
	}
}

// referName records a name reference of an expression or template at n,
// once per reference as written.
func (d *decoder) referName(kind refKind, what, name, text string, n *yaml.Node) {
	r := ref{kind: kind, name: name, node: n, at: d.stepIdx, what: what + ": " + text, self: d.inRollback}
	for i := len(d.refs) - 1; i >= 0 && d.refs[i].node == n; i-- {
		if d.refs[i].what == r.what {
			return
		}
	}
	d.refs = append(d.refs, r)
}

// checkName resolves a steps.X, vars.X or env.X reference.
func (v *validator) checkName(r ref) {
	switch r.kind {
	case refVar:
		if _, ok := v.rb.Vars[r.name]; ok {
			return
		}
		hint := "declare it under vars: (--var may only set declared vars)"
		if len(v.rb.Vars) > 0 {
			hint = orElse(didYouMean(r.name, sortedVarNames(v.rb.Vars)), "declared vars: "+strings.Join(sortedVarNames(v.rb.Vars), ", "))
		}
		v.d.errorf(r.node, hint, "%s: undeclared var %q", r.what, r.name)
	case refEnvField:
		for _, f := range EnvFields {
			if f == r.name {
				return
			}
		}
		v.d.errorf(r.node, orElse(didYouMean(r.name, EnvFields), "env has "+strings.Join(EnvFields, ", ")), "%s: env has no %q", r.what, r.name)
	case refResult:
		i, ok := v.stepAt[r.name]
		switch {
		case !ok:
			v.d.errorf(r.node, didYouMeanOrList(r.name, v.stepIDs()), "%s: unknown step %q", r.what, r.name)
		case i == r.at && !r.self:
			v.d.errorf(r.node, "a step sees the results of earlier steps only", "%s: step %q names itself, which has no result yet", r.what, r.name)
		case i > r.at:
			v.d.errorf(r.node, "a step sees the results of earlier steps only; move it before this one",
				"%s: step %q runs after this one, so it has no result yet", r.what, r.name)
		}
	}
}

// sortedVarNames returns the names of vars, sorted.
func sortedVarNames(vars map[string]string) []string {
	seen := make(map[string]bool, len(vars))
	for k := range vars {
		seen[k] = true
	}
	return sortedKeys(seen)
}

// CheckVars reports an error naming the first of names that the runbook
// does not declare under vars: (--var may only set declared vars).
func (r *Runbook) CheckVars(names []string) error {
	declared := sortedVarNames(r.Vars)
	for _, name := range names {
		if _, ok := r.Vars[name]; ok {
			continue
		}
		if len(declared) == 0 {
			return fmt.Errorf("%w %q: runbook %s declares no vars (declare it under vars:)", ErrUnknownVar, name, r.Name)
		}
		hint := "declared vars: " + strings.Join(declared, ", ")
		if s := suggest(name, declared); s != "" {
			hint = "did you mean " + s + "? " + hint
		}
		return fmt.Errorf("%w %q: runbook %s does not declare it (%s)", ErrUnknownVar, name, r.Name, hint)
	}
	return nil
}
