package runbook

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr/ast"
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
