package sqlexpr

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// The PostgreSQL dialect. PostgreSQL's columns have one type each and its
// expressions are typed when a statement is planned: text where a number
// is needed is a planning error for every row, not a NULL for one. So
// the translation into PostgreSQL needs the table's column types
// (Migrate.ForTypes, called by the store), and every value it builds has
// a static type: a column whose type does not fit what the expression
// does with it makes the translation fail, and the store runs the step's
// pages per row, whose items fail as expr-lang makes them fail.
//
// A column may still be NULL in a row: nil in expr-lang. What an
// expression does with nil (an error in arithmetic, false in ==) is in
// the OK condition, as in SQLite. The OK conditions and the values are
// built from CASE, never from AND and OR alone: PostgreSQL does not
// promise to evaluate AND's operands in order, and a cast or an
// arithmetic overflow on a row the condition excludes would fail the
// whole statement.

// Type is the class of a PostgreSQL column's type, as the translation
// uses it.
type Type int

// Column type classes. TypeOther is any type the translation does not
// compute with (numeric, dates, json, arrays, …): a column of it may be
// copied by rename and removed, not read by an expression.
const (
	TypeOther Type = iota
	TypeText       // text and unbounded character varying: read as string
	TypeInt        // smallint, integer, bigint: read as int
	TypeFloat      // double precision: read as float64
	TypeBool       // boolean
)

// Column is what the PostgreSQL translation knows of a column.
type Column struct {
	Type Type
	// MaxLen bounds a text column's characters (0: unbounded); IntBits
	// is an integer column's size: 16, 32 or 64.
	MaxLen, IntBits int
}

// ForTypes is the PostgreSQL translation of a step translated with
// Postgres, for a table whose column types types returns (ok false: no
// such column). Where column types do not fit the expressions it fails
// with ErrUntranslatable, naming the column.
func (m *Migrate) ForTypes(types func(col string) (Column, bool)) (*Migrate, error) {
	if m.pg == nil {
		return nil, fmt.Errorf("%w: not a PostgreSQL translation", ErrUntranslatable)
	}
	t := &pgTranslator{types: types, seps: map[string]pgSepTest{}}
	spec := m.pg.spec
	out := &Migrate{Where: "TRUE", WhereOK: "TRUE", Reads: m.Reads, Writes: m.Writes}
	if spec.Where != nil {
		w, err := walker{t}.where(spec.Where.Source)
		if err != nil {
			return nil, err
		}
		ok := w.ok
		if w.nullable {
			ok = append(ok, w.sql+" IS NOT NULL")
		}
		out.Where, out.WhereOK = w.sql, pgAnd(t.implied(ok))
	}
	var oks []string
	type setVal struct {
		col, sql string
		// cmp is col as compared: text byte by byte, as the per-row
		// path compares strings (see byBytes).
		cmp      string
		nullable bool
	}
	var sets []setVal
	for _, c := range spec.Set {
		v, err := walker{t}.expr(c.Expr.Source)
		if err != nil {
			return nil, fmt.Errorf("set %s: %w", c.Attr, err)
		}
		sql, vok, err := t.store(c.Attr, v)
		if err != nil {
			return nil, fmt.Errorf("set %s: %w", c.Attr, err)
		}
		out.Set = append(out.Set, Assign{Column: c.Attr, SQL: sql})
		oks = append(oks, v.ok...)
		oks = append(oks, vok...)
		col := Quote(c.Attr)
		cmp := col
		if v.k == kStr {
			cmp += byBytes
		}
		sets = append(sets, setVal{col, sql, cmp, v.nullable || v.k == kNil})
	}
	for _, from := range slices.Sorted(maps.Keys(spec.Rename)) {
		to := spec.Rename[from]
		fc, ok1 := types(from)
		tc, ok2 := types(to)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("rename %s: %w: the table lacks %q or %q", from, ErrUntranslatable, from, to)
		}
		if fc.Type == TypeOther || fc.Type != tc.Type || tc.MaxLen > 0 && (fc.MaxLen == 0 || fc.MaxLen > tc.MaxLen) ||
			fc.IntBits > tc.IntBits {
			return nil, fmt.Errorf("rename %s: %w: columns %q and %q hold different types", from, ErrUntranslatable, from, to)
		}
		out.Set = append(out.Set, renamed(from, to)...)
	}
	for _, col := range spec.Remove {
		out.Set = append(out.Set, Assign{Column: col, SQL: "NULL"})
	}
	out.SetOK = pgAnd(t.implied(oks))
	// Unchanged computes a value only where the values are exact, and
	// not at all where the column is NULL and the value cannot be (a
	// first migration): it may be evaluated on any row.
	var same []string
	for _, sv := range sets {
		c := "CASE WHEN NOT " + out.SetOK + " THEN FALSE ELSE (" + sv.cmp + " IS NOT DISTINCT FROM " + sv.sql + ") END"
		if !sv.nullable {
			c = "CASE WHEN " + sv.col + " IS NULL THEN FALSE WHEN NOT " + out.SetOK + " THEN FALSE ELSE (" + sv.cmp + " = " + sv.sql + ") END"
		}
		same = append(same, c)
	}
	for _, a := range out.Set[len(spec.Set):] {
		col := Quote(a.Column)
		// A rename's two columns may be of two collations; NULL (a
		// removed column, a renamed one's source) needs none.
		if c, _ := types(a.Column); c.Type == TypeText && a.SQL != "NULL" {
			col += byBytes
		}
		same = append(same, "("+col+" IS NOT DISTINCT FROM "+a.SQL+")")
	}
	out.Unchanged = pgAnd(same)
	return out, nil
}

// pgAnd joins conditions, each once, evaluated in order: a condition is
// evaluated only on rows that meet the ones before it.
func pgAnd(conds []string) string {
	uniq := uniq(conds)
	switch len(uniq) {
	case 0:
		return "TRUE"
	case 1:
		return "((" + uniq[0] + ") IS TRUE)"
	}
	var b strings.Builder
	b.WriteString("(CASE")
	for _, c := range uniq[:len(uniq)-1] {
		b.WriteString(" WHEN (" + c + ") IS NOT TRUE THEN FALSE")
	}
	b.WriteString(" ELSE (" + uniq[len(uniq)-1] + ") IS TRUE END)")
	return b.String()
}

// pgTranslator is the PostgreSQL dialect. Its values' kinds are their
// types: kStr text, kInt int8, kNum float8, kBool boolean.
type pgTranslator struct {
	types func(col string) (Column, bool)
	// seps are the separator tests made (pgSeparators), by their SQL.
	seps map[string]pgSepTest
}

// pgSepTest is a test that text holds sep at least n times.
type pgSepTest struct {
	text, sep string
	n         int
}

// pgSeparators is the test that text holds sep at least n times without
// overlaps, as split counts them: one LIKE of n separators between
// wildcards (escaped with "!", which needs no backslash whatever
// standard_conforming_strings says), in the "C" collation. A text holds n
// separators without overlaps exactly when it matches (the leftmost
// occurrences are as many as any choice of them), and LIKE, which
// matches a literal pattern without a regular expression or a copy of
// the text, costs a tenth of counting them by length(replace(…)).
func pgSeparators(text, sep string, n int) string {
	esc := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(sep)
	return "((" + text + ") COLLATE \"C\" LIKE " + literal("%"+strings.Repeat(esc+"%", n)) + " ESCAPE '!')"
}

// implied drops from conds, conditions that must all hold, the separator
// tests a stronger one among them implies: fields 1 and 2 of a split
// need two separators, tested once.
func (t *pgTranslator) implied(conds []string) []string {
	out := conds[:0:0]
	for _, c := range conds {
		a, ok := t.seps[c]
		weaker := false
		for _, d := range conds {
			b, ok2 := t.seps[d]
			weaker = weaker || ok && ok2 && a.text == b.text && a.sep == b.sep && b.n > a.n
		}
		if !weaker {
			out = append(out, c)
		}
	}
	return out
}

// store is the SQL of v written into column col, and the conditions for
// the column to hold it as the per-row path writes it.
func (t *pgTranslator) store(col string, v val) (string, []string, error) {
	if v.k == kNil {
		return "NULL", nil, nil
	}
	c, ok := t.types(col)
	if !ok {
		return "", nil, untranslatable("the table has no column %q", col)
	}
	within := func(cond string) []string { return []string{"(" + v.sql + " IS NULL OR (" + cond + "))"} }
	// nil is written as NULL, as the per-row path writes it.
	switch {
	case c.Type == TypeText && v.k == kStr:
		if c.MaxLen > 0 {
			return v.sql, within("char_length(" + v.sql + ") <= " + strconv.Itoa(c.MaxLen)), nil
		}
		return v.sql, nil, nil
	case c.Type == TypeInt && v.k == kInt:
		if c.IntBits > 0 && c.IntBits < 64 {
			lim := strconv.FormatInt(1<<(c.IntBits-1), 10)
			return v.sql, within(v.sql + " >= -" + lim + " AND " + v.sql + " < " + lim), nil
		}
		return v.sql, nil, nil
	case c.Type == TypeFloat && v.k == kNum, c.Type == TypeBool && v.k == kBool:
		return v.sql, nil, nil
	case c.Type == TypeFloat && v.k == kInt:
		return v.sql + "::float8", within(v.sql + " > -" + bound + " AND " + v.sql + " < " + bound), nil
	}
	return "", nil, untranslatable("column %q does not hold the expression's type", col)
}
