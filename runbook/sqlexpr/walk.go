package sqlexpr

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/lockstep-run/lockstep/runbook"
)

// Bounds: a number read from a column joins arithmetic only below 2^31 in
// magnitude, so that no sum or product of two of them leaves 64 bits
// (expr-lang wraps around, SQLite turns to REAL) and every real is exact.
const bound = "2147483648"

// maxSplitIndex caps split(s, sep)[i]: its SQL repeats s 3·2^i times.
const maxSplitIndex = 4

// dialect is what the walk leaves to the SQL dialect translated into
// (translator for SQLite, pgTranslator for PostgreSQL): where the two
// differ in SQL, or in what they know of a value's type.
type dialect interface {
	// lit is a literal: nil, a boolean, an integer within ±2^31, a float
	// or a string.
	lit(n ast.Node) val
	// column is item.name.
	column(name string) (val, error)
	// and joins conditions that must all hold, each once.
	and(conds []string) string
	// ascii are the conditions that text is printable ASCII, where the
	// dialect's lower, upper and substr agree with Go's.
	ascii(text string) []string
	// call is the SQL of expr-lang's lower, upper, trim or replace on args;
	// trimmable, the conditions under which trim removes from text what
	// Go's strings.TrimSpace removes.
	call(name string, args ...string) string
	trimmable(text string) []string
	// splitPart is split(s, sep)[i] on a string operand s.
	splitPart(s val, sep string, i int) val
	// computed is v, a number computed from others (see val.computed).
	computed(v val) val
	// logical is a and b (and), or a or b, on boolean operands.
	logical(and bool, a, b val) val
	// equal is a == b, or a != b (not).
	equal(not bool, a, b val) (val, error)
	// collate ends a comparison of two operands of kind k.
	collate(k kind) string
	// arith is x op y on number operands, for op +, -, * or /.
	arith(op string, x, y val) val
	// coalesce is a ?? b.
	coalesce(a, b val) (val, error)
	// branches is the kind of a conditional choosing between a and b,
	// in a value whose SQL and conditions the walk fills in.
	branches(a, b val) (val, error)
}

// walker translates expr-lang's AST, node by node, into its dialect: the
// operands made strings, numbers or booleans by the same rules, and the
// SQL of the forms written alike in both dialects.
type walker struct{ dialect }

func (w walker) expr(src string) (val, error) {
	tree, err := parser.Parse(src)
	if err != nil {
		return val{}, fmt.Errorf("parse %q: %w", src, err)
	}
	return w.node(tree.Node)
}

// where translates a step's where: a boolean.
func (w walker) where(src string) (val, error) {
	v, err := w.expr(src)
	if err != nil {
		return val{}, fmt.Errorf("where: %w", err)
	}
	if v.k != kBool {
		return val{}, fmt.Errorf("where: %w: its value is not a comparison or a logical expression", ErrUntranslatable)
	}
	return v, nil
}

func (w walker) node(n ast.Node) (val, error) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		if n.Value <= -1<<31 || n.Value >= 1<<31 {
			return val{}, untranslatable("integer %d beyond ±2^31", n.Value)
		}
		return w.lit(n), nil
	case *ast.NilNode, *ast.BoolNode, *ast.FloatNode, *ast.StringNode:
		return w.lit(n), nil
	case *ast.MemberNode:
		return w.member(n)
	case *ast.UnaryNode:
		return w.unary(n)
	case *ast.BinaryNode:
		return w.binary(n)
	case *ast.ConditionalNode:
		return w.conditional(n)
	case *ast.BuiltinNode:
		return w.builtin(n)
	case *ast.SliceNode:
		return w.slice(n)
	}
	return val{}, untranslatable("%T is not translated", n)
}

// member is item.X, item["X"] or split(...)[i].
func (w walker) member(n *ast.MemberNode) (val, error) {
	if id, ok := n.Node.(*ast.IdentifierNode); ok && id.Value == runbook.EnvItem {
		p, ok := n.Property.(*ast.StringNode)
		if !ok {
			return val{}, untranslatable("item[…] with a computed name")
		}
		return w.column(p.Value)
	}
	if b, ok := n.Node.(*ast.BuiltinNode); ok && b.Name == "split" && len(b.Arguments) == 2 && !n.Optional {
		i, ok := n.Property.(*ast.IntegerNode)
		if !ok || i.Value < 0 || i.Value > maxSplitIndex {
			return val{}, untranslatable("split(…)[i] needs i a literal in 0..%d", maxSplitIndex)
		}
		s, err := w.node(b.Arguments[0])
		if err != nil {
			return val{}, err
		}
		sep, ok := b.Arguments[1].(*ast.StringNode)
		if !ok || sep.Value == "" {
			return val{}, untranslatable("split needs a non-empty literal separator")
		}
		s, ok = asStr(s)
		if !ok {
			return val{}, untranslatable("split of a non-string")
		}
		return w.splitPart(s, sep.Value, i.Value), nil
	}
	return val{}, untranslatable("member access other than item.X and split(…)[i]")
}

func (w walker) unary(n *ast.UnaryNode) (val, error) {
	v, err := w.node(n.Node)
	if err != nil {
		return val{}, err
	}
	switch n.Operator {
	case "not", "!":
		v, ok := asBool(v)
		if !ok {
			return val{}, untranslatable("%s of a non-boolean", n.Operator)
		}
		return val{sql: "(NOT " + v.sql + ")", k: kBool, ok: v.ok}, nil
	case "-", "+":
		v, ok := asNum(v, false)
		if !ok {
			return val{}, untranslatable("%s of a non-number", n.Operator)
		}
		return w.computed(val{sql: "(" + n.Operator + v.sql + ")", k: v.k, ok: v.ok}), nil
	}
	return val{}, untranslatable("operator %s", n.Operator)
}

func (w walker) binary(n *ast.BinaryNode) (val, error) {
	a, err := w.node(n.Left)
	if err != nil {
		return val{}, err
	}
	b, err := w.node(n.Right)
	if err != nil {
		return val{}, err
	}
	switch op := n.Operator; op {
	case "and", "&&", "or", "||":
		x, ok1 := asBool(a)
		y, ok2 := asBool(b)
		if !ok1 || !ok2 {
			return val{}, untranslatable("%s of a non-boolean", op)
		}
		return w.logical(op == "and" || op == "&&", x, y), nil
	case "==", "!=":
		return w.equal(op == "!=", a, b)
	case "<", "<=", ">", ">=":
		return w.compare(op, a, b)
	case "??":
		return w.coalesce(a, b)
	case "+":
		if a.k == kStr || b.k == kStr {
			x, ok1 := asStr(a)
			y, ok2 := asStr(b)
			if !ok1 || !ok2 {
				return val{}, untranslatable("+ of a string and a non-string")
			}
			return val{sql: "(" + x.sql + " || " + y.sql + ")", k: kStr, ok: both(x, y)}, nil
		}
		if a.k == kAny && b.k == kAny { // SQLite's columns: text or numbers, row by row
			return anyPlus(a, b), nil
		}
		fallthrough
	case "-", "*", "/", "%":
		x, ok1 := asNum(a, op == "%")
		y, ok2 := asNum(b, op == "%")
		switch {
		case (!ok1 || !ok2) && op == "%":
			return val{}, untranslatable("%% of a non-integer")
		case !ok1 || !ok2:
			return val{}, untranslatable("%s of a non-number", op)
		case op == "%":
			return w.computed(val{sql: "(" + x.sql + " % " + y.sql + ")", k: kInt, ok: append(both(x, y), y.sql+" <> 0")}), nil
		}
		v := w.arith(op, x, y)
		if op == "/" {
			v.ok = append(v.ok, y.sql+" <> 0")
		}
		return v, nil
	}
	return val{}, untranslatable("operator %s", n.Operator)
}

// compare is <, <=, >, >= on two numbers or two strings (bytewise, as Go).
func (w walker) compare(op string, a, b val) (val, error) {
	var x, y val
	var ok1, ok2 bool
	switch {
	case a.k == kStr || b.k == kStr:
		x, ok1 = asStr(a)
		y, ok2 = asStr(b)
	case a.k == kAny && b.k == kAny: // SQLite's columns: both text, or both numbers, row by row
		return val{sql: "(" + a.sql + " " + op + " " + b.sql + " COLLATE BINARY)", k: kBool, ok: append(both(a, b), sameClass(a, b))}, nil
	default:
		x, ok1 = asNum(a, false)
		y, ok2 = asNum(b, false)
	}
	if !ok1 || !ok2 {
		return val{}, untranslatable("%s of mismatched types", op)
	}
	return val{sql: "(" + x.sql + " " + op + " " + y.sql + w.collate(x.k) + ")", k: kBool, ok: both(x, y)}, nil
}

func (w walker) conditional(n *ast.ConditionalNode) (val, error) {
	c, err := w.node(n.Cond)
	if err != nil {
		return val{}, err
	}
	c, ok := asBool(c)
	if !ok {
		return val{}, untranslatable("a condition that is not boolean")
	}
	a, err := w.node(n.Exp1)
	if err != nil {
		return val{}, err
	}
	b, err := w.node(n.Exp2)
	if err != nil {
		return val{}, err
	}
	v, err := w.branches(a, b)
	if err != nil {
		return val{}, err
	}
	v.sql = "(CASE WHEN " + c.sql + " THEN " + a.sql + " ELSE " + b.sql + " END)"
	v.ok = append(slices.Clip(c.ok), "CASE WHEN "+c.sql+" THEN "+w.and(a.ok)+" ELSE "+w.and(b.ok)+" END")
	return v, nil
}

func (w walker) builtin(n *ast.BuiltinNode) (val, error) {
	args := make([]val, len(n.Arguments))
	for i, a := range n.Arguments {
		v, err := w.node(a)
		if err != nil {
			return val{}, err
		}
		args[i] = v
	}
	switch {
	case (n.Name == "lower" || n.Name == "upper") && len(args) == 1:
		s, ok := w.asASCII(args[0])
		if !ok {
			return val{}, untranslatable("%s of a non-string", n.Name)
		}
		return val{sql: w.call(n.Name, s.sql), k: kStr, ok: s.ok}, nil
	case n.Name == "trim" && len(args) == 1:
		s, ok := asStr(args[0])
		if !ok {
			return val{}, untranslatable("trim of a non-string")
		}
		s.ok = append(s.ok, w.trimmable(rootOf(s))...)
		return val{sql: w.call("trim", s.sql), k: kStr, ok: s.ok, root: rootOf(s)}, nil
	case n.Name == "trim" && len(args) == 2:
		s, ok1 := asStr(args[0])
		cut, ok2 := w.asASCII(args[1])
		if !ok1 || !ok2 {
			return val{}, untranslatable("trim of a non-string")
		}
		return val{sql: w.call("trim", s.sql, cut.sql), k: kStr, ok: append(s.ok, cut.ok...)}, nil
	case n.Name == "replace" && len(args) == 3:
		var oks []string
		for i := range args {
			s, ok := asStr(args[i])
			if !ok {
				return val{}, untranslatable("replace of a non-string")
			}
			args[i], oks = s, append(oks, s.ok...)
		}
		// Go's ReplaceAll inserts between runes for an empty old; SQL's
		// replace leaves the string.
		oks = append(oks, "length("+args[1].sql+") > 0")
		return val{sql: w.call("replace", args[0].sql, args[1].sql, args[2].sql), k: kStr, ok: oks}, nil
	}
	return val{}, untranslatable("function %s/%d", n.Name, len(args))
}

// slice is s[from:to] on ASCII text with literal bounds within it.
func (w walker) slice(n *ast.SliceNode) (val, error) {
	s, err := w.node(n.Node)
	if err != nil {
		return val{}, err
	}
	s, ok := w.asASCII(s)
	if !ok {
		return val{}, untranslatable("a slice of a non-string")
	}
	from, to := 0, -1
	if n.From != nil {
		f, ok := n.From.(*ast.IntegerNode)
		if !ok || f.Value < 0 {
			return val{}, untranslatable("a slice needs non-negative literal bounds")
		}
		from = f.Value
	}
	if n.To != nil {
		e, ok := n.To.(*ast.IntegerNode)
		if !ok || e.Value < from {
			return val{}, untranslatable("a slice needs non-negative literal bounds")
		}
		to = e.Value
	}
	length := "" // to the end
	if to >= 0 {
		length = ", " + strconv.Itoa(to-from)
	}
	s.ok = append(s.ok, "length("+s.sql+") >= "+strconv.Itoa(max(from, to)))
	return val{sql: "substr(" + s.sql + ", " + strconv.Itoa(from+1) + length + ")", k: kStr, ok: s.ok}, nil
}
