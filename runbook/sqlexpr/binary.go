package sqlexpr

import (
	"github.com/expr-lang/expr/ast"
)

func (t *translator) binary(n *ast.BinaryNode) (val, error) {
	a, err := t.node(n.Left)
	if err != nil {
		return val{}, err
	}
	b, err := t.node(n.Right)
	if err != nil {
		return val{}, err
	}
	switch n.Operator {
	case "and", "&&", "or", "||":
		return logical(n.Operator, a, b)
	case "==", "!=":
		return equal(n.Operator == "!=", a, b)
	case "<", "<=", ">", ">=":
		return compare(n.Operator, a, b)
	case "+":
		return plus(a, b)
	case "-", "*":
		return arith(n.Operator, a, b)
	case "/":
		x, ok1 := asNum(a, false)
		y, ok2 := asNum(b, false)
		if !ok1 || !ok2 {
			return val{}, untranslatable("/ of a non-number")
		}
		ok := append(append(x.ok, y.ok...), y.sql+" <> 0")
		return val{sql: "(CAST(" + x.sql + " AS REAL) / " + y.sql + ")", k: kNum, ok: ok}, nil
	case "%":
		x, ok1 := asNum(a, true)
		y, ok2 := asNum(b, true)
		if !ok1 || !ok2 {
			return val{}, untranslatable("%% of a non-integer")
		}
		ok := append(append(x.ok, y.ok...), y.sql+" <> 0")
		return val{sql: "(" + x.sql + " % " + y.sql + ")", k: kInt, ok: ok}, nil
	case "??":
		k := kAny
		if a.k == b.k {
			k = a.k
		}
		ok := append(a.ok, "("+a.sql+" IS NOT NULL OR "+b.okSQL()+")")
		return val{sql: "coalesce(" + a.sql + ", " + b.sql + ")", k: k, ok: ok}, nil
	}
	return val{}, untranslatable("operator %s", n.Operator)
}

// logical is and/or. expr-lang does not evaluate the right operand once
// the left decides, so the right one needs to be exact only when it is
// evaluated. Booleans are never NULL here, so SQL's three-valued logic
// does not arise.
func logical(op string, a, b val) (val, error) {
	if a.k != kBool || b.k != kBool {
		return val{}, untranslatable("%s of a non-boolean", op)
	}
	if op == "and" || op == "&&" {
		ok := append(a.ok, "(NOT "+a.sql+" OR "+b.okSQL()+")")
		return val{sql: "(" + a.sql + " AND " + b.sql + ")", k: kBool, ok: ok}, nil
	}
	ok := append(a.ok, "("+a.sql+" OR "+b.okSQL()+")")
	return val{sql: "(" + a.sql + " OR " + b.sql + ")", k: kBool, ok: ok}, nil
}

// category is the SQL type class of a column's value for equality:
// expr-lang compares integers with floats, never text with numbers.
func category(sql string) string {
	return "(CASE typeof(" + sql + ") WHEN 'integer' THEN 'n' WHEN 'real' THEN 'n' ELSE typeof(" + sql + ") END)"
}

// equal is == and != (IS and IS NOT: NULL equals NULL, as nil does nil).
func equal(not bool, a, b val) (val, error) {
	op := " IS "
	if not {
		op = " IS NOT "
	}
	if a.k == kNil || b.k == kNil {
		other := a
		if a.k == kNil {
			other = b
		}
		return val{sql: "(" + other.sql + op + "NULL)", k: kBool, ok: other.ok}, nil
	}
	ok := append(append([]string{}, a.ok...), b.ok...)
	switch {
	case a.k == kBool || b.k == kBool:
		if a.k != b.k {
			return val{}, untranslatable("== of a boolean and a non-boolean")
		}
	case a.k == kAny && b.k == kAny:
		ok = append(ok, "typeof("+a.sql+") <> 'blob'", "typeof("+b.sql+") <> 'blob'",
			"("+category(a.sql)+" = "+category(b.sql)+" OR "+a.sql+" IS NULL OR "+b.sql+" IS NULL)")
	case a.k == kAny || b.k == kAny:
		col, lit := a, b
		if b.k == kAny {
			col, lit = b, a
		}
		want := "'text'"
		if lit.k == kInt || lit.k == kNum {
			want = "'n'"
		}
		ok = append(ok, "("+col.sql+" IS NULL OR "+category(col.sql)+" = "+want+")")
	case (a.k == kStr) != (b.k == kStr):
		return val{}, untranslatable("== of a string and a number")
	}
	return val{sql: "(" + a.sql + op + b.sql + " COLLATE BINARY)", k: kBool, ok: ok}, nil
}

// compare is <, <=, >, >= on two numbers or two strings (bytewise, as Go).
func compare(op string, a, b val) (val, error) {
	var x, y val
	var ok1, ok2 bool
	switch {
	case a.k == kStr || b.k == kStr:
		x, ok1 = asStr(a)
		y, ok2 = asStr(b)
	case a.k == kAny && b.k == kAny:
		// both text, or both numbers below the bound
		ok := append(append([]string{}, a.ok...), b.ok...)
		ok = append(ok, "((typeof("+a.sql+") = 'text' AND typeof("+b.sql+") = 'text') OR ("+
			category(a.sql)+" = 'n' AND "+category(b.sql)+" = 'n' AND "+
			a.sql+" > -"+bound+" AND "+a.sql+" < "+bound+" AND "+b.sql+" > -"+bound+" AND "+b.sql+" < "+bound+"))")
		return val{sql: "(" + a.sql + " " + op + " " + b.sql + " COLLATE BINARY)", k: kBool, ok: ok}, nil
	default:
		x, ok1 = asNum(a, false)
		y, ok2 = asNum(b, false)
	}
	if !ok1 || !ok2 {
		return val{}, untranslatable("%s of mismatched types", op)
	}
	return val{sql: "(" + x.sql + " " + op + " " + y.sql + " COLLATE BINARY)", k: kBool, ok: append(x.ok, y.ok...)}, nil
}

// plus is + on two numbers or two strings (concatenation).
func plus(a, b val) (val, error) {
	if a.k == kStr || b.k == kStr {
		x, ok1 := asStr(a)
		y, ok2 := asStr(b)
		if !ok1 || !ok2 {
			return val{}, untranslatable("+ of a string and a non-string")
		}
		return val{sql: "(" + x.sql + " || " + y.sql + ")", k: kStr, ok: append(x.ok, y.ok...)}, nil
	}
	if a.k == kAny && b.k == kAny {
		ok := append(append([]string{}, a.ok...), b.ok...)
		ok = append(ok, "((typeof("+a.sql+") = 'text' AND typeof("+b.sql+") = 'text') OR ("+
			category(a.sql)+" = 'n' AND "+category(b.sql)+" = 'n' AND "+
			a.sql+" > -"+bound+" AND "+a.sql+" < "+bound+" AND "+b.sql+" > -"+bound+" AND "+b.sql+" < "+bound+"))")
		return val{sql: "(CASE WHEN typeof(" + a.sql + ") = 'text' THEN " + a.sql + " || " + b.sql + " ELSE " + a.sql + " + " + b.sql + " END)", k: kAny, ok: ok}, nil
	}
	return arith("+", a, b)
}

// arith is +, - or * on numbers; an integer result stays below 2^62.
func arith(op string, a, b val) (val, error) {
	x, ok1 := asNum(a, false)
	y, ok2 := asNum(b, false)
	if !ok1 || !ok2 {
		return val{}, untranslatable("%s of a non-number", op)
	}
	k := kNum
	if x.k == kInt && y.k == kInt {
		k = kInt
	}
	ok := append(append([]string{}, x.ok...), y.ok...)
	// Results of results: keep every operand below the bound.
	for _, v := range []val{x, y} {
		if len(v.ok) > 0 || v.k == kNum {
			ok = append(ok, v.sql+" > -"+bound, v.sql+" < "+bound)
		}
	}
	return val{sql: "(" + x.sql + " " + op + " " + y.sql + ")", k: k, ok: ok}, nil
}
