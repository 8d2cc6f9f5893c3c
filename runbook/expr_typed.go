package runbook

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// typedCalls rewrites, in a checked expression, the calls the data steps
// make once per item into calls of typed Go functions, which expr-lang's
// VM runs without reflection and without allocating an argument list:
//
//   - split(s, "sep")[i] (sep and i constant) becomes the i-th field of s,
//     found without building the slice of every field, boxing it and
//     indexing it by reflection;
//   - trim(s) becomes strings.TrimSpace, called directly, and
//     trim(split(s, "sep")[i]) one call that trims the field it picks.
//
// Results and errors are those of the original: the same values, the same
// messages (a non-string s, an index out of range), reported at the same
// position of the expression. A node is rewritten only when the checker
// typed it as the original would run (a string, or a value known only at
// run time), so an expression that does not compile still fails to with
// the same error. One typedCalls rewrites one expression.
type typedCalls struct {
	fields map[ast.Node]splitAt // the split(s, "sep")[i] rewritten
}

// splitAt is one split(s, sep)[i] rewritten: s is the call checking that
// s is a string.
type splitAt struct {
	s   ast.Node
	sep string
	i   int
}

var (
	stringType      = reflect.TypeFor[string]()
	stringSliceType = reflect.TypeFor[[]string]()
)

// Visit is called on each node after its children (ast.Walk).
func (t *typedCalls) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.MemberNode:
		at, ok := splitField(n)
		if !ok {
			return
		}
		call := typedCall(fieldOf(at.sep, at.i, false), stringType, at.s)
		ast.Patch(node, call)
		if t.fields == nil {
			t.fields = map[ast.Node]splitAt{}
		}
		t.fields[call] = at
	case *ast.BuiltinNode:
		if !builtinCall(n, "trim", 1) || !stringArg(n.Arguments[0]) {
			return
		}
		at, ok := t.fields[n.Arguments[0]]
		if !ok {
			ast.Patch(node, typedCall(trimSpace, stringType, n.Arguments[0]))
			return
		}
		// trim cannot fail on the field: the field's errors, at its position.
		call := typedCall(fieldOf(at.sep, at.i, true), stringType, at.s)
		loc := n.Arguments[0].Location()
		ast.Patch(node, call)
		call.SetLocation(loc)
	}
}

// splitField reports whether n is split(s, "sep")[i] and returns its
// rewrite's parts. Two calls keep the original's error positions: the
// first, at split's, checks that s is a string; the second, at the
// index's, picks the field.
func splitField(n *ast.MemberNode) (splitAt, bool) {
	i, ok := n.Property.(*ast.IntegerNode)
	if !ok || n.Optional || n.Method {
		return splitAt{}, false
	}
	split, ok := n.Node.(*ast.BuiltinNode)
	if !ok || !builtinCall(split, "split", 2) || split.Type() != stringSliceType || !stringArg(split.Arguments[0]) {
		return splitAt{}, false
	}
	sep, ok := split.Arguments[1].(*ast.StringNode)
	if !ok {
		return splitAt{}, false
	}
	s := typedCall(assertString, reflect.TypeFor[any](), split.Arguments[0])
	s.SetLocation(split.Location())
	return splitAt{s: s, sep: sep.Value, i: i.Value}, true
}

// builtinCall reports whether n calls expr-lang's builtin name with args
// arguments.
func builtinCall(n *ast.BuiltinNode, name string, args int) bool {
	return n.Name == name && len(n.Arguments) == args
}

// stringArg reports whether the checker typed n as a string or as a
// value known only at run time.
func stringArg(n ast.Node) bool {
	k := n.Type().Kind()
	return k == reflect.String || k == reflect.Interface
}

// typedCall is a call of fn, typed out: expr-lang compiles a call whose
// callee has one of its known function types into a direct call.
func typedCall(fn any, out reflect.Type, args ...ast.Node) *ast.CallNode {
	callee := &ast.ConstantNode{Value: fn}
	callee.SetType(reflect.TypeOf(fn))
	call := &ast.CallNode{Callee: callee, Arguments: args}
	call.SetType(out)
	return call
}

// assertString fails as split does on a value that is not a string
// (after dereferencing pointers, as expr-lang does for a builtin's
// argument), and passes a string through as it is.
func assertString(v any) any {
	if _, ok := v.(string); !ok {
		v = deref(v)
		_ = v.(string)
	}
	return v
}

// trimSpace is trim(s): strings.TrimSpace, failing as trim does on a
// value that is not a string.
func trimSpace(v any) any {
	s, ok := v.(string)
	if !ok {
		s = deref(v).(string)
	}
	return strings.TrimSpace(s)
}

// deref is expr-lang's dereference of a builtin's argument: pointers
// followed, nil for a nil one.
func deref(v any) any {
	if v == nil {
		return nil
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	return rv.Interface()
}

// fieldOf returns the function that picks strings.Split(s, sep)[i]
// (with its spaces trimmed when trim is true), or fails as expr-lang's
// indexing does when there is no such field (a negative i counts from
// the end).
func fieldOf(sep string, i int, trim bool) func(string) string {
	if trim {
		field := fieldOf(sep, i, false)
		return func(s string) string { return strings.TrimSpace(field(s)) }
	}
	return func(s string) string {
		if sep != "" && i >= 0 {
			rest := s
			for range i {
				j := strings.Index(rest, sep)
				if j < 0 {
					panic(outOfRange(i, strings.Count(s, sep)+1))
				}
				rest = rest[j+len(sep):]
			}
			if j := strings.Index(rest, sep); j >= 0 {
				return rest[:j]
			}
			return rest
		}
		fields := strings.Split(s, sep)
		index := i
		if index < 0 {
			index += len(fields)
		}
		if index < 0 || index >= len(fields) {
			panic(outOfRange(index, len(fields)))
		}
		return fields[index]
	}
}

// outOfRange is expr-lang's message for an index out of range.
func outOfRange(index, length int) string {
	return fmt.Sprintf("index out of range: %v (array length is %v)", index, length)
}

// Direct is the Go form of an expression of one of the shapes the data
// steps evaluate once per item, where the VM's dispatch costs more than
// the work itself:
//
//	item.x                          the value as it is
//	trim(item.x)                    its spaces trimmed
//	split(item.x, "sep")[i]         its i-th field (i ≥ 0, sep not empty)
//	trim(split(item.x, "sep")[i])   that field trimmed
//	item.x != nil, item.x == nil    (nil on either side)
//
// (item["x"] and item?.x alike). It computes the common case only: Eval
// and Bool report ok false for anything else (a value that is not a
// string, a missing field), and the caller then runs the program, for its
// exact result or error. The zero Direct is no direct form.
type Direct struct {
	// Attr is the item attribute the expression reads.
	Attr string
	op   directOp
	sep  string
	i    int
	trim bool
}

// directOp is the shape of a Direct.
type directOp int

const (
	directNone   directOp = iota
	directAttr            // item.x
	directString          // trim(item.x), split(item.x, sep)[i], trim(split(...)[i])
	directIsNil           // item.x == nil
	directNotNil          // item.x != nil
)

// Direct returns e's direct form when e has one of Direct's shapes.
func (e *Expr) Direct() (Direct, bool) {
	if e == nil || e.Program == nil {
		return Direct{}, false
	}
	tree, err := parser.Parse(e.Source)
	if err != nil {
		return Direct{}, false
	}
	d := directOf(tree.Node)
	return d, d.op != directNone
}

// directOf matches n against Direct's shapes.
func directOf(n ast.Node) Direct {
	if attr, ok := itemAttr(n); ok {
		return Direct{Attr: attr, op: directAttr}
	}
	switch n := n.(type) {
	case *ast.BinaryNode:
		if n.Operator != "==" && n.Operator != "!=" {
			return Direct{}
		}
		other := n.Left
		if _, isNil := n.Left.(*ast.NilNode); isNil {
			other = n.Right
		} else if _, isNil := n.Right.(*ast.NilNode); !isNil {
			return Direct{}
		}
		attr, ok := itemAttr(other)
		if !ok {
			return Direct{}
		}
		if n.Operator == "==" {
			return Direct{Attr: attr, op: directIsNil}
		}
		return Direct{Attr: attr, op: directNotNil}
	case *ast.BuiltinNode:
		if !builtinCall(n, "trim", 1) {
			return Direct{}
		}
		if attr, ok := itemAttr(n.Arguments[0]); ok {
			return Direct{Attr: attr, op: directString, i: -1, trim: true}
		}
		d := directField(n.Arguments[0])
		d.trim = d.op != directNone
		return d
	case *ast.MemberNode:
		return directField(n)
	}
	return Direct{}
}

// directField matches split(item.x, "sep")[i], i ≥ 0 and sep not empty.
func directField(n ast.Node) Direct {
	m, ok := n.(*ast.MemberNode)
	if !ok || m.Optional || m.Method {
		return Direct{}
	}
	i, ok := m.Property.(*ast.IntegerNode)
	if !ok || i.Value < 0 {
		return Direct{}
	}
	split, ok := m.Node.(*ast.BuiltinNode)
	if !ok || !builtinCall(split, "split", 2) {
		return Direct{}
	}
	sep, ok := split.Arguments[1].(*ast.StringNode)
	if !ok || sep.Value == "" {
		return Direct{}
	}
	attr, ok := itemAttr(split.Arguments[0])
	if !ok {
		return Direct{}
	}
	return Direct{Attr: attr, op: directString, sep: sep.Value, i: i.Value}
}

// itemAttr reports whether n, unchecked, is item.x, item?.x or
// item["x"], and x.
func itemAttr(n ast.Node) (string, bool) {
	if c, ok := n.(*ast.ChainNode); ok { // item?.x
		n = c.Node
	}
	if m, ok := n.(*ast.MemberNode); ok && m.Method {
		return "", false
	}
	return itemMember(n)
}

// Eval computes the expression from v, the expression value of item.Attr
// (see ItemVar). ok is false when it cannot: run the program instead.
func (d Direct) Eval(v any) (out any, ok bool) {
	switch d.op {
	case directAttr:
		return v, true
	case directString:
		s, ok := d.String(v)
		if !ok {
			return nil, false
		}
		return s, true
	case directIsNil, directNotNil:
		b, ok := d.Bool(v)
		return b, ok
	}
	return nil, false
}

// String is Eval of trim(…) and split(…)[i] without boxing the result.
func (d Direct) String(v any) (string, bool) {
	s, ok := v.(string)
	if !ok || d.op != directString {
		return "", false
	}
	if d.i >= 0 {
		if s, ok = fieldAt(s, d.sep, d.i); !ok {
			return "", false
		}
	}
	if d.trim {
		s = strings.TrimSpace(s)
	}
	return s, true
}

// Bool is Eval of a nil test: ok only for a nil or string v, and for the
// shapes that test nil.
func (d Direct) Bool(v any) (result, ok bool) {
	switch v.(type) {
	case nil, string:
	default:
		return false, false
	}
	switch d.op {
	case directIsNil:
		return v == nil, true
	case directNotNil:
		return v != nil, true
	}
	return false, false
}

// fieldAt is strings.Split(s, sep)[i] for i ≥ 0 and sep not empty,
// found without building the slice; ok is false when s has no such field.
func fieldAt(s, sep string, i int) (string, bool) {
	for range i {
		j := strings.Index(s, sep)
		if j < 0 {
			return "", false
		}
		s = s[j+len(sep):]
	}
	if j := strings.Index(s, sep); j >= 0 {
		return s[:j], true
	}
	return s, true
}
