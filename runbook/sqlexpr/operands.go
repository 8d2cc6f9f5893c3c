package sqlexpr

import (
	"fmt"
	"slices"
	"strings"
)

// Operands: a value made a boolean, a string or a number, by the rules
// both dialects share, with the conditions that takes.

// asASCII is asStr on printable ASCII text.
func (w walker) asASCII(v val) (val, bool) {
	v, ok := asStr(v)
	if ok {
		v.ok = append(v.ok, w.ascii(rootOf(v))...)
	}
	return v, ok
}

// notNil adds "v is not nil" to v's conditions: what expr-lang needs of an
// operand that is not compared with ==.
func notNil(v val) val {
	if v.nullable {
		v.ok = append(slices.Clip(v.ok), v.sql+" IS NOT NULL")
		v.nullable = false
	}
	return v
}

// asBool makes v a boolean operand.
func asBool(v val) (val, bool) {
	if v.k != kBool {
		return v, false
	}
	return notNil(v), true
}

// asStr makes v a string operand: a column of any type (SQLite) must
// hold text.
func asStr(v val) (val, bool) {
	switch v.k {
	case kStr:
		return notNil(v), true
	case kAny:
		v.ok = append(v.ok, "typeof("+v.sql+") = 'text'")
		v.k = kStr
		return v, true
	}
	return v, false
}

// asNum makes v a number operand: a computed number (PostgreSQL) is
// bounded again, a column of any type (SQLite) must hold a number below
// bound.
func asNum(v val, intOnly bool) (val, bool) {
	switch {
	case v.k == kInt, v.k == kNum && !intOnly:
		v = notNil(v)
		if v.computed {
			v.ok = append(v.ok, v.sql+" > -"+bound, v.sql+" < "+bound)
		}
		return v, true
	case v.k == kAny:
		types := "('integer', 'real')"
		v.k = kNum
		if intOnly {
			types, v.k = "('integer')", kInt
		}
		v.ok = append(v.ok, "typeof("+v.sql+") IN "+types, v.sql+" > -"+bound, v.sql+" < "+bound)
		return v, true
	}
	return v, false
}

// both are the conditions of a and of b, in a new slice.
func both(a, b val) []string { return append(append([]string{}, a.ok...), b.ok...) }

// rootOf is the text v was cut from: its root, or v itself.
func rootOf(v val) string {
	if v.root != "" {
		return v.root
	}
	return v.sql
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func untranslatable(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUntranslatable}, args...)...)
}
