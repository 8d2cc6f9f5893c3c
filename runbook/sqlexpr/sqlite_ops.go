package sqlexpr

// The SQLite dialect's operators, and how a step's values are stored and
// compared with what a row holds.

// logical is and/or. expr-lang does not evaluate the right operand once
// the left decides, so the right one needs to be exact only when it is
// evaluated. Booleans are never NULL here, so SQL's three-valued logic
// does not arise.
func (t *translator) logical(isAnd bool, a, b val) val {
	if isAnd {
		return val{sql: "(" + a.sql + " AND " + b.sql + ")", k: kBool, ok: append(a.ok, "(NOT "+a.sql+" OR "+and(b.ok)+")")}
	}
	return val{sql: "(" + a.sql + " OR " + b.sql + ")", k: kBool, ok: append(a.ok, "("+a.sql+" OR "+and(b.ok)+")")}
}

// category is the SQL type class of a column's value for equality:
// expr-lang compares integers with floats, never text with numbers.
func category(sql string) string {
	return "(CASE typeof(" + sql + ") WHEN 'integer' THEN 'n' WHEN 'real' THEN 'n' ELSE typeof(" + sql + ") END)"
}

// sameClass is the condition that two columns hold text both, or
// numbers below the bound both: what < and + need of them.
func sameClass(a, b val) string {
	return "((typeof(" + a.sql + ") = 'text' AND typeof(" + b.sql + ") = 'text') OR (" +
		category(a.sql) + " = 'n' AND " + category(b.sql) + " = 'n' AND " +
		a.sql + " > -" + bound + " AND " + a.sql + " < " + bound + " AND " + b.sql + " > -" + bound + " AND " + b.sql + " < " + bound + "))"
}

// anyPlus is + on two columns: concatenation or a sum, as the row has it.
func anyPlus(a, b val) val {
	return val{sql: "(CASE WHEN typeof(" + a.sql + ") = 'text' THEN " + a.sql + " || " + b.sql + " ELSE " + a.sql + " + " + b.sql + " END)",
		k: kAny, ok: append(both(a, b), sameClass(a, b))}
}

// equal is == and != (IS and IS NOT: NULL equals NULL, as nil does nil).
func (t *translator) equal(not bool, a, b val) (val, error) {
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
	ok := both(a, b)
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

// arith is +, -, * or / on numbers; an integer result stays below 2^62.
func (t *translator) arith(op string, x, y val) val {
	ok := both(x, y)
	if op == "/" {
		return val{sql: "(CAST(" + x.sql + " AS REAL) / " + y.sql + ")", k: kNum, ok: ok}
	}
	k := kNum
	if x.k == kInt && y.k == kInt {
		k = kInt
	}
	// Results of results: keep every operand below the bound.
	for _, v := range []val{x, y} {
		if len(v.ok) > 0 || v.k == kNum {
			ok = append(ok, v.sql+" > -"+bound, v.sql+" < "+bound)
		}
	}
	return val{sql: "(" + x.sql + " " + op + " " + y.sql + ")", k: k, ok: ok}
}

// coalesce is a ?? b: b is evaluated, and needs to be exact, only where a
// is nil.
func (t *translator) coalesce(a, b val) (val, error) {
	v, _ := t.branches(a, b)
	v.sql = "coalesce(" + a.sql + ", " + b.sql + ")"
	v.ok = append(a.ok, "("+a.sql+" IS NOT NULL OR "+and(b.ok)+")")
	return v, nil
}

// branches: a value of either kind is of any.
func (t *translator) branches(a, b val) (val, error) {
	if a.k == b.k {
		return val{k: a.k}, nil
	}
	return val{k: kAny}, nil
}

// unchanged is the condition that column col already holds v, as the
// per-row path compares them (numbers by value, text by bytes, a number
// never equal to text). A value of a known kind is never NULL where it
// is exact, so a NULL column decides without computing it: a first
// migration costs no second evaluation of every value.
func unchanged(col string, v val) string {
	switch v.k {
	case kStr:
		return "(" + col + " IS NOT NULL AND typeof(" + col + ") = 'text' AND " + col + " = " + v.sql + " COLLATE BINARY)"
	case kInt, kNum, kBool:
		return "(" + col + " IS NOT NULL AND typeof(" + col + ") IN ('integer', 'real') AND " + col + " = " + v.sql + ")"
	case kNil:
		return "(" + col + " IS NULL)"
	}
	return "(" + col + " IS " + v.sql + " COLLATE BINARY AND " + category(col) + " IS " + category(v.sql) + ")"
}

// stored is the SQL of v as the per-row path stores it: lockstep writes
// an integral number as an INTEGER (expr-lang's 8/4 is the float 2,
// written as 2), so an integral REAL becomes one.
func stored(v val) string {
	if v.k != kNum && v.k != kAny {
		return v.sql
	}
	return "(CASE WHEN typeof(" + v.sql + ") = 'real' AND " + v.sql + " = CAST(" + v.sql + " AS INTEGER) THEN CAST(" +
		v.sql + " AS INTEGER) ELSE " + v.sql + " END)"
}
