package sqlexpr

import (
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
)

// The PostgreSQL dialect's values and operators: every value has its
// column's or its literal's type, and conditions are built on CASE (see
// postgres.go).

func (t *pgTranslator) and(conds []string) string { return pgAnd(conds) }

func (t *pgTranslator) lit(n ast.Node) val {
	switch n := n.(type) {
	case *ast.BoolNode:
		if n.Value {
			return val{sql: "TRUE", k: kBool}
		}
		return val{sql: "FALSE", k: kBool}
	case *ast.IntegerNode:
		return val{sql: strconv.Itoa(n.Value) + "::int8", k: kInt}
	case *ast.FloatNode:
		return val{sql: "'" + strconv.FormatFloat(n.Value, 'g', -1, 64) + "'::float8", k: kNum}
	case *ast.StringNode:
		return val{sql: "(" + literal(n.Value) + "::text)", k: kStr}
	}
	return val{sql: "NULL", k: kNil}
}

func (t *pgTranslator) column(name string) (val, error) {
	col, ok := t.types(name)
	if !ok {
		return val{}, untranslatable("the table has no column %q", name)
	}
	c := Quote(name)
	switch col.Type {
	case TypeText:
		return val{sql: c + "::text", k: kStr, nullable: true}, nil
	case TypeInt:
		return val{sql: c + "::int8", k: kInt, nullable: true, ok: []string{nilOrBounded(c)}}, nil
	case TypeFloat: // NaN and infinities read as text
		return val{sql: c + "::float8", k: kNum, nullable: true, ok: []string{nilOrBounded(c)}}, nil
	case TypeBool:
		return val{sql: c, k: kBool, nullable: true}, nil
	}
	return val{}, untranslatable("column %q has a type expressions are not translated for", name)
}

// nilOrBounded is the condition that a number is nil or below bound.
func nilOrBounded(sql string) string {
	return "(" + sql + " IS NULL OR (" + sql + " > -" + bound + " AND " + sql + " < " + bound + "))"
}

func (t *pgTranslator) computed(v val) val {
	v.computed = true
	return v
}

func (t *pgTranslator) collate(k kind) string {
	if k == kStr {
		return byBytes
	}
	return ""
}

// ascii: in "C", as PostgreSQL matches no regular expression in a
// non-deterministic collation (SQLSTATE 0A000, failing the statement).
func (t *pgTranslator) ascii(text string) []string {
	return []string{text + byBytes + " !~ '[^ -~]'"}
}

// byBytes names the "C" collation: its text operations compare, search
// and map text byte by byte, as Go's strings do, whatever the collation
// of the columns in it. Each text comparison, search and case mapping
// takes it (a collation named on one operand decides the operation's),
// as no other is exact: a locale's orders 'a' < 'B', a Turkish one maps
// i to İ, a non-deterministic one finds 'A' equal to 'a' and refuses
// substring searches and regular expressions, and two columns of
// different collations cannot be compared without one named.
const byBytes = ` COLLATE "C"`

// call: btrim removes ' ' alone, as SQLite's trim. lower and upper map
// letters, and replace searches text, in byBytes.
func (t *pgTranslator) call(name string, args ...string) string {
	switch name {
	case "trim":
		name = "btrim"
	case "lower", "upper", "replace":
		args[0] += byBytes
	}
	return name + "(" + strings.Join(args, ", ") + ")"
}

// trimmable: on printable ASCII, spaces are ' ' alone.
func (t *pgTranslator) trimmable(text string) []string { return t.ascii(text) }

// splitPart is split_part, after a test that the separator is present at
// least i times (counted without overlaps, as split does).
func (t *pgTranslator) splitPart(s val, sep string, i int) val {
	if i > 0 {
		c := pgSeparators(s.sql, sep, i)
		t.seps[c] = pgSepTest{text: s.sql, sep: sep, n: i}
		s.ok = append(s.ok, c)
	}
	return val{sql: "split_part(" + s.sql + byBytes + ", " + literal(sep) + ", " + strconv.Itoa(i+1) + ")", k: kStr, ok: s.ok, root: rootOf(s)}
}

// logical: the right operand is evaluated, and needs to be exact, only
// when the left one does not decide.
func (t *pgTranslator) logical(isAnd bool, a, b val) val {
	if isAnd {
		return val{sql: "(CASE WHEN " + a.sql + " THEN " + b.sql + " ELSE FALSE END)", k: kBool,
			ok: append(slices.Clip(a.ok), "CASE WHEN "+a.sql+" THEN "+pgAnd(b.ok)+" ELSE TRUE END")}
	}
	return val{sql: "(CASE WHEN " + a.sql + " THEN TRUE ELSE " + b.sql + " END)", k: kBool,
		ok: append(slices.Clip(a.ok), "CASE WHEN "+a.sql+" THEN TRUE ELSE "+pgAnd(b.ok)+" END")}
}

// equal is == and != as expr-lang has them: nil equals nil alone,
// numbers compare by value, values of different types differ.
func (t *pgTranslator) equal(not bool, a, b val) (val, error) {
	neg := func(s string) string {
		if not {
			return "(NOT " + s + ")"
		}
		return s
	}
	ok := both(a, b)
	num := func(k kind) bool { return k == kInt || k == kNum }
	switch {
	case a.k == kNil && b.k == kNil:
		return val{sql: neg("TRUE"), k: kBool}, nil
	case a.k == kNil || b.k == kNil:
		other := a
		if a.k == kNil {
			other = b
		}
		return val{sql: neg("(" + other.sql + " IS NULL)"), k: kBool, ok: other.ok}, nil
	case a.k == b.k:
		cmp := "(" + a.sql + " IS NOT DISTINCT FROM " + b.sql + ")"
		if a.k == kStr {
			cmp = "(" + a.sql + byBytes + " IS NOT DISTINCT FROM " + b.sql + byBytes + ")"
		}
		return val{sql: neg(cmp), k: kBool, ok: ok}, nil
	case num(a.k) && num(b.k):
		return val{sql: neg("(" + a.sql + "::float8 IS NOT DISTINCT FROM " + b.sql + "::float8)"), k: kBool,
			ok: append(ok, nilOrBounded(a.sql), nilOrBounded(b.sql))}, nil
	}
	// Different types: equal only when both are nil.
	return val{sql: neg("(" + a.sql + " IS NULL AND " + b.sql + " IS NULL)"), k: kBool, ok: ok}, nil
}

// arith: an integer result is an int8; any other is a float8, and so are
// its operands.
func (t *pgTranslator) arith(op string, x, y val) val {
	k := kNum
	if x.k == kInt && y.k == kInt && op != "/" {
		k = kInt
	} else {
		x.sql, y.sql = x.sql+"::float8", y.sql+"::float8"
	}
	return val{sql: "(" + x.sql + " " + op + " " + y.sql + ")", k: k, ok: both(x, y), computed: true}
}

// coalesce: b is evaluated, and needs to be exact, only where a is nil;
// nil ?? b is b, a ?? nil is a.
func (t *pgTranslator) coalesce(a, b val) (val, error) {
	switch {
	case a.k == kNil:
		return b, nil
	case b.k == kNil:
		return a, nil
	case a.k != b.k:
		return val{}, untranslatable("?? of values of different types")
	}
	ok := append(slices.Clip(a.ok), "("+a.sql+" IS NOT NULL OR "+pgAnd(b.ok)+")")
	return val{sql: "coalesce(" + a.sql + ", " + b.sql + ")", k: a.k, nullable: b.nullable, ok: ok}, nil
}

// branches: both of one type, or nil.
func (t *pgTranslator) branches(a, b val) (val, error) {
	v := val{k: a.k, nullable: a.nullable || b.nullable || a.k == kNil || b.k == kNil, computed: a.computed || b.computed}
	switch {
	case a.k == kNil:
		v.k = b.k
	case b.k == kNil:
	case a.k != b.k:
		return val{}, untranslatable("a conditional whose branches have different types")
	}
	if v.k == kNil {
		v.k = kNone
	}
	return v, nil
}
