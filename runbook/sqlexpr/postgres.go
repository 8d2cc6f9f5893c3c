package sqlexpr

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/lockstep-run/lockstep/runbook"
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

// pgVal is a translated PostgreSQL subexpression.
type pgVal struct {
	sql      string
	t        Type // TypeOther: NULL
	null     bool // the literal nil
	nullable bool // may be NULL in a row (a column, or a value built on one)
	ok       []string
	root     string // see val.root
	computed bool   // arithmetic of operands: bounded again when used
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
		w, err := t.expr(spec.Where.Source)
		if err != nil {
			return nil, fmt.Errorf("where: %w", err)
		}
		if w.t != TypeBool || w.null {
			return nil, fmt.Errorf("where: %w: its value is not a comparison or a logical expression", ErrUntranslatable)
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
		nullable bool
	}
	var sets []setVal
	for _, c := range spec.Set {
		v, err := t.expr(c.Expr.Source)
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
		sets = append(sets, setVal{Quote(c.Attr), sql, v.nullable || v.null})
	}
	for _, from := range slices.Sorted(slices.Values(mapsKeys(spec.Rename))) {
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
		f, tq := Quote(from), Quote(to)
		out.Set = append(out.Set, Assign{Column: to, SQL: "CASE WHEN " + f + " IS NULL THEN " + tq + " ELSE " + f + " END"},
			Assign{Column: from, SQL: "NULL"})
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
		c := "CASE WHEN NOT " + out.SetOK + " THEN FALSE ELSE (" + sv.col + " IS NOT DISTINCT FROM " + sv.sql + ") END"
		if !sv.nullable {
			c = "CASE WHEN " + sv.col + " IS NULL THEN FALSE WHEN NOT " + out.SetOK + " THEN FALSE ELSE (" + sv.col + " = " + sv.sql + ") END"
		}
		same = append(same, c)
	}
	for _, a := range out.Set[len(spec.Set):] {
		same = append(same, "("+Quote(a.Column)+" IS NOT DISTINCT FROM "+a.SQL+")")
	}
	out.Unchanged = pgAnd(same)
	return out, nil
}

// pgAnd joins conditions, each once, evaluated in order: a condition is
// evaluated only on rows that meet the ones before it.
func pgAnd(conds []string) string {
	var uniq []string
	for _, c := range conds {
		if !slices.Contains(uniq, c) {
			uniq = append(uniq, c)
		}
	}
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

func (t *pgTranslator) expr(src string) (pgVal, error) {
	tree, err := parser.Parse(src)
	if err != nil {
		return pgVal{}, fmt.Errorf("parse %q: %w", src, err)
	}
	return t.node(tree.Node)
}

// store is the SQL of v written into column col, and the conditions for
// the column to hold it as the per-row path writes it.
func (t *pgTranslator) store(col string, v pgVal) (string, []string, error) {
	if v.null {
		return "NULL", nil, nil
	}
	c, ok := t.types(col)
	if !ok {
		return "", nil, untranslatable("the table has no column %q", col)
	}
	within := func(cond string) []string { return []string{"(" + v.sql + " IS NULL OR (" + cond + "))"} }
	// nil is written as NULL, as the per-row path writes it.
	switch {
	case c.Type == TypeText && v.t == TypeText:
		if c.MaxLen > 0 {
			return v.sql, within("char_length(" + v.sql + ") <= " + strconv.Itoa(c.MaxLen)), nil
		}
		return v.sql, nil, nil
	case c.Type == TypeInt && v.t == TypeInt:
		if c.IntBits > 0 && c.IntBits < 64 {
			lim := strconv.FormatInt(1<<(c.IntBits-1), 10)
			return v.sql, within(v.sql + " >= -" + lim + " AND " + v.sql + " < " + lim), nil
		}
		return v.sql, nil, nil
	case c.Type == TypeFloat && v.t == TypeFloat, c.Type == TypeBool && v.t == TypeBool:
		return v.sql, nil, nil
	case c.Type == TypeFloat && v.t == TypeInt:
		return v.sql + "::float8", within(v.sql + " > -" + bound + " AND " + v.sql + " < " + bound), nil
	}
	return "", nil, untranslatable("column %q does not hold the expression's type", col)
}

func (t *pgTranslator) node(n ast.Node) (pgVal, error) {
	switch n := n.(type) {
	case *ast.NilNode:
		return pgVal{sql: "NULL", null: true}, nil
	case *ast.BoolNode:
		if n.Value {
			return pgVal{sql: "TRUE", t: TypeBool}, nil
		}
		return pgVal{sql: "FALSE", t: TypeBool}, nil
	case *ast.IntegerNode:
		if n.Value <= -1<<31 || n.Value >= 1<<31 {
			return pgVal{}, untranslatable("integer %d beyond ±2^31", n.Value)
		}
		return pgVal{sql: strconv.Itoa(n.Value) + "::int8", t: TypeInt}, nil
	case *ast.FloatNode:
		return pgVal{sql: "'" + strconv.FormatFloat(n.Value, 'g', -1, 64) + "'::float8", t: TypeFloat}, nil
	case *ast.StringNode:
		return pgVal{sql: "(" + literal(n.Value) + "::text)", t: TypeText}, nil
	case *ast.MemberNode:
		return t.member(n)
	case *ast.UnaryNode:
		return t.unary(n)
	case *ast.BinaryNode:
		return t.binary(n)
	case *ast.ConditionalNode:
		return t.conditional(n)
	case *ast.BuiltinNode:
		return t.builtin(n)
	case *ast.SliceNode:
		return t.slice(n)
	}
	return pgVal{}, untranslatable("%T is not translated", n)
}

func (t *pgTranslator) member(n *ast.MemberNode) (pgVal, error) {
	if id, ok := n.Node.(*ast.IdentifierNode); ok && id.Value == runbook.EnvItem {
		p, ok := n.Property.(*ast.StringNode)
		if !ok {
			return pgVal{}, untranslatable("item[…] with a computed name")
		}
		col, ok := t.types(p.Value)
		if !ok {
			return pgVal{}, untranslatable("the table has no column %q", p.Value)
		}
		c := Quote(p.Value)
		switch col.Type {
		case TypeText:
			return pgVal{sql: c + "::text", t: TypeText, nullable: true}, nil
		case TypeInt:
			return pgVal{sql: c + "::int8", t: TypeInt, nullable: true,
				ok: []string{"(" + c + " IS NULL OR (" + c + " > -" + bound + " AND " + c + " < " + bound + "))"}}, nil
		case TypeFloat: // NaN and infinities read as text
			return pgVal{sql: c + "::float8", t: TypeFloat, nullable: true,
				ok: []string{"(" + c + " IS NULL OR (" + c + " > -" + bound + " AND " + c + " < " + bound + "))"}}, nil
		case TypeBool:
			return pgVal{sql: c, t: TypeBool, nullable: true}, nil
		}
		return pgVal{}, untranslatable("column %q has a type expressions are not translated for", p.Value)
	}
	if b, ok := n.Node.(*ast.BuiltinNode); ok && b.Name == "split" && len(b.Arguments) == 2 && !n.Optional {
		i, ok := n.Property.(*ast.IntegerNode)
		if !ok || i.Value < 0 || i.Value > maxSplitIndex {
			return pgVal{}, untranslatable("split(…)[i] needs i a literal in 0..%d", maxSplitIndex)
		}
		s, err := t.node(b.Arguments[0])
		if err != nil {
			return pgVal{}, err
		}
		sepv, ok := b.Arguments[1].(*ast.StringNode)
		if !ok || sepv.Value == "" {
			return pgVal{}, untranslatable("split needs a non-empty literal separator")
		}
		s, ok = pgStr(s)
		if !ok {
			return pgVal{}, untranslatable("split of a non-string")
		}
		sep := literal(sepv.Value)
		if i.Value > 0 { // the separator present at least i times (counted without overlaps, as split does)
			c := pgSeparators(s.sql, sepv.Value, i.Value)
			t.seps[c] = pgSepTest{text: s.sql, sep: sepv.Value, n: i.Value}
			s.ok = append(s.ok, c)
		}
		return pgVal{sql: "split_part(" + s.sql + ", " + sep + ", " + strconv.Itoa(i.Value+1) + ")", t: TypeText, ok: s.ok, root: pgRoot(s)}, nil
	}
	return pgVal{}, untranslatable("member access other than item.X and split(…)[i]")
}

func pgRoot(v pgVal) string {
	if v.root != "" {
		return v.root
	}
	return v.sql
}

// notNil adds "v is not nil" to v's conditions: what expr-lang needs of an
// operand that is not compared with ==.
func notNil(v pgVal) pgVal {
	if v.nullable {
		v.ok = append(slices.Clip(v.ok), v.sql+" IS NOT NULL")
		v.nullable = false
	}
	return v
}

func pgStr(v pgVal) (pgVal, bool) {
	if v.t != TypeText || v.null {
		return v, false
	}
	return notNil(v), true
}

// pgASCII is pgStr on printable ASCII text (see asASCII).
func pgASCII(v pgVal) (pgVal, bool) {
	v, ok := pgStr(v)
	if ok {
		v.ok = append(v.ok, pgRoot(v)+" !~ '[^ -~]'")
	}
	return v, ok
}

// pgNum is v as a number operand: not nil, and bounded when computed.
func pgNum(v pgVal, intOnly bool) (pgVal, bool) {
	if v.null || !(v.t == TypeInt || v.t == TypeFloat && !intOnly) {
		return v, false
	}
	v = notNil(v)
	if v.computed {
		v.ok = append(v.ok, v.sql+" > -"+bound, v.sql+" < "+bound)
	}
	return v, true
}

func (t *pgTranslator) unary(n *ast.UnaryNode) (pgVal, error) {
	v, err := t.node(n.Node)
	if err != nil {
		return pgVal{}, err
	}
	switch n.Operator {
	case "not", "!":
		if v.t != TypeBool || v.null {
			return pgVal{}, untranslatable("%s of a non-boolean", n.Operator)
		}
		v = notNil(v)
		return pgVal{sql: "(NOT " + v.sql + ")", t: TypeBool, ok: v.ok}, nil
	case "-", "+":
		v, ok := pgNum(v, false)
		if !ok {
			return pgVal{}, untranslatable("%s of a non-number", n.Operator)
		}
		return pgVal{sql: "(" + n.Operator + v.sql + ")", t: v.t, ok: v.ok, computed: true}, nil
	}
	return pgVal{}, untranslatable("operator %s", n.Operator)
}

func (t *pgTranslator) binary(n *ast.BinaryNode) (pgVal, error) {
	a, err := t.node(n.Left)
	if err != nil {
		return pgVal{}, err
	}
	b, err := t.node(n.Right)
	if err != nil {
		return pgVal{}, err
	}
	both := func(x, y pgVal) []string { return append(append([]string{}, x.ok...), y.ok...) }
	switch n.Operator {
	case "and", "&&", "or", "||":
		if a.t != TypeBool || b.t != TypeBool || a.null || b.null {
			return pgVal{}, untranslatable("%s of a non-boolean", n.Operator)
		}
		a, b = notNil(a), notNil(b)
		// The right operand is evaluated, and needs to be exact, only
		// when the left one does not decide.
		if n.Operator == "and" || n.Operator == "&&" {
			return pgVal{sql: "(CASE WHEN " + a.sql + " THEN " + b.sql + " ELSE FALSE END)", t: TypeBool,
				ok: append(slices.Clip(a.ok), "CASE WHEN "+a.sql+" THEN "+pgAnd(b.ok)+" ELSE TRUE END")}, nil
		}
		return pgVal{sql: "(CASE WHEN " + a.sql + " THEN TRUE ELSE " + b.sql + " END)", t: TypeBool,
			ok: append(slices.Clip(a.ok), "CASE WHEN "+a.sql+" THEN TRUE ELSE "+pgAnd(b.ok)+" END")}, nil
	case "==", "!=":
		return pgEqual(n.Operator == "!=", a, b)
	case "<", "<=", ">", ">=":
		switch {
		case a.t == TypeText && b.t == TypeText && !a.null && !b.null:
			a, b = notNil(a), notNil(b)
			return pgVal{sql: "(" + a.sql + " " + n.Operator + " " + b.sql + " COLLATE \"C\")", t: TypeBool, ok: both(a, b)}, nil
		default:
			x, ok1 := pgNum(a, false)
			y, ok2 := pgNum(b, false)
			if !ok1 || !ok2 {
				return pgVal{}, untranslatable("%s of mismatched types", n.Operator)
			}
			return pgVal{sql: "(" + x.sql + " " + n.Operator + " " + y.sql + ")", t: TypeBool, ok: both(x, y)}, nil
		}
	case "+":
		if a.t == TypeText || b.t == TypeText {
			x, ok1 := pgStr(a)
			y, ok2 := pgStr(b)
			if !ok1 || !ok2 {
				return pgVal{}, untranslatable("+ of a string and a non-string")
			}
			return pgVal{sql: "(" + x.sql + " || " + y.sql + ")", t: TypeText, ok: both(x, y)}, nil
		}
		fallthrough
	case "-", "*":
		x, ok1 := pgNum(a, false)
		y, ok2 := pgNum(b, false)
		if !ok1 || !ok2 {
			return pgVal{}, untranslatable("%s of a non-number", n.Operator)
		}
		typ := TypeFloat
		if x.t == TypeInt && y.t == TypeInt {
			typ = TypeInt
		} else {
			x.sql, y.sql = x.sql+"::float8", y.sql+"::float8"
		}
		return pgVal{sql: "(" + x.sql + " " + n.Operator + " " + y.sql + ")", t: typ, ok: both(x, y), computed: true}, nil
	case "/":
		x, ok1 := pgNum(a, false)
		y, ok2 := pgNum(b, false)
		if !ok1 || !ok2 {
			return pgVal{}, untranslatable("/ of a non-number")
		}
		return pgVal{sql: "(" + x.sql + "::float8 / " + y.sql + "::float8)", t: TypeFloat,
			ok: append(both(x, y), y.sql+" <> 0"), computed: true}, nil
	case "%":
		x, ok1 := pgNum(a, true)
		y, ok2 := pgNum(b, true)
		if !ok1 || !ok2 {
			return pgVal{}, untranslatable("%% of a non-integer")
		}
		return pgVal{sql: "(" + x.sql + " % " + y.sql + ")", t: TypeInt, ok: append(both(x, y), y.sql+" <> 0"), computed: true}, nil
	case "??":
		switch {
		case a.null:
			return b, nil
		case b.null:
			return a, nil
		case a.t != b.t:
			return pgVal{}, untranslatable("?? of values of different types")
		}
		// b is evaluated, and needs to be exact, only where a is nil.
		ok := append(slices.Clip(a.ok), "("+a.sql+" IS NOT NULL OR "+pgAnd(b.ok)+")")
		return pgVal{sql: "coalesce(" + a.sql + ", " + b.sql + ")", t: a.t, nullable: b.nullable, ok: ok}, nil
	}
	return pgVal{}, untranslatable("operator %s", n.Operator)
}

// pgEqual is == and != as expr-lang has them: nil equals nil alone,
// numbers compare by value, values of different types differ.
func pgEqual(not bool, a, b pgVal) (pgVal, error) {
	neg := func(s string) string {
		if not {
			return "(NOT " + s + ")"
		}
		return s
	}
	ok := append(append([]string{}, a.ok...), b.ok...)
	switch {
	case a.null && b.null:
		return pgVal{sql: neg("TRUE"), t: TypeBool}, nil
	case a.null || b.null:
		other := a
		if a.null {
			other = b
		}
		return pgVal{sql: neg("(" + other.sql + " IS NULL)"), t: TypeBool, ok: other.ok}, nil
	case a.t == b.t:
		cmp := "(" + a.sql + " IS NOT DISTINCT FROM " + b.sql + ")"
		if a.t == TypeText {
			cmp = "(" + a.sql + " COLLATE \"C\" IS NOT DISTINCT FROM " + b.sql + " COLLATE \"C\")"
		}
		return pgVal{sql: neg(cmp), t: TypeBool, ok: ok}, nil
	case (a.t == TypeInt || a.t == TypeFloat) && (b.t == TypeInt || b.t == TypeFloat):
		return pgVal{sql: neg("(" + a.sql + "::float8 IS NOT DISTINCT FROM " + b.sql + "::float8)"), t: TypeBool,
			ok: append(ok, "("+a.sql+" IS NULL OR ("+a.sql+" > -"+bound+" AND "+a.sql+" < "+bound+"))",
				"("+b.sql+" IS NULL OR ("+b.sql+" > -"+bound+" AND "+b.sql+" < "+bound+"))")}, nil
	}
	// Different types: equal only when both are nil.
	return pgVal{sql: neg("(" + a.sql + " IS NULL AND " + b.sql + " IS NULL)"), t: TypeBool, ok: ok}, nil
}

func (t *pgTranslator) conditional(n *ast.ConditionalNode) (pgVal, error) {
	c, err := t.node(n.Cond)
	if err != nil {
		return pgVal{}, err
	}
	if c.t != TypeBool || c.null {
		return pgVal{}, untranslatable("a condition that is not boolean")
	}
	c = notNil(c)
	a, err := t.node(n.Exp1)
	if err != nil {
		return pgVal{}, err
	}
	b, err := t.node(n.Exp2)
	if err != nil {
		return pgVal{}, err
	}
	typ := a.t
	switch {
	case a.null:
		typ = b.t
	case b.null:
	case a.t != b.t:
		return pgVal{}, untranslatable("a conditional whose branches have different types")
	}
	ok := append(slices.Clip(c.ok), "CASE WHEN "+c.sql+" THEN "+pgAnd(a.ok)+" ELSE "+pgAnd(b.ok)+" END")
	return pgVal{sql: "(CASE WHEN " + c.sql + " THEN " + a.sql + " ELSE " + b.sql + " END)", t: typ,
		nullable: a.nullable || b.nullable || a.null || b.null, ok: ok, computed: a.computed || b.computed}, nil
}

func (t *pgTranslator) builtin(n *ast.BuiltinNode) (pgVal, error) {
	args := make([]pgVal, len(n.Arguments))
	for i, a := range n.Arguments {
		v, err := t.node(a)
		if err != nil {
			return pgVal{}, err
		}
		args[i] = v
	}
	switch {
	case (n.Name == "lower" || n.Name == "upper") && len(args) == 1:
		s, ok := pgASCII(args[0])
		if !ok {
			return pgVal{}, untranslatable("%s of a non-string", n.Name)
		}
		return pgVal{sql: n.Name + "(" + s.sql + ")", t: TypeText, ok: s.ok}, nil
	case n.Name == "trim" && len(args) == 1:
		s, ok := pgASCII(args[0])
		if !ok {
			return pgVal{}, untranslatable("trim of a non-string")
		}
		return pgVal{sql: "btrim(" + s.sql + ")", t: TypeText, ok: s.ok, root: pgRoot(s)}, nil
	case n.Name == "trim" && len(args) == 2:
		s, ok1 := pgStr(args[0])
		cut, ok2 := pgASCII(args[1])
		if !ok1 || !ok2 {
			return pgVal{}, untranslatable("trim of a non-string")
		}
		return pgVal{sql: "btrim(" + s.sql + ", " + cut.sql + ")", t: TypeText, ok: append(s.ok, cut.ok...)}, nil
	case n.Name == "replace" && len(args) == 3:
		var oks []string
		for i := range args {
			s, ok := pgStr(args[i])
			if !ok {
				return pgVal{}, untranslatable("replace of a non-string")
			}
			args[i], oks = s, append(oks, s.ok...)
		}
		oks = append(oks, "length("+args[1].sql+") > 0") // see the SQLite translation
		return pgVal{sql: "replace(" + args[0].sql + ", " + args[1].sql + ", " + args[2].sql + ")", t: TypeText, ok: oks}, nil
	}
	return pgVal{}, untranslatable("function %s/%d", n.Name, len(args))
}

// slice is s[from:to] on ASCII text with literal bounds within it.
func (t *pgTranslator) slice(n *ast.SliceNode) (pgVal, error) {
	s, err := t.node(n.Node)
	if err != nil {
		return pgVal{}, err
	}
	s, ok := pgASCII(s)
	if !ok {
		return pgVal{}, untranslatable("a slice of a non-string")
	}
	from, to := 0, -1
	if n.From != nil {
		f, ok := n.From.(*ast.IntegerNode)
		if !ok || f.Value < 0 {
			return pgVal{}, untranslatable("a slice needs non-negative literal bounds")
		}
		from = f.Value
	}
	if n.To != nil {
		e, ok := n.To.(*ast.IntegerNode)
		if !ok || e.Value < from {
			return pgVal{}, untranslatable("a slice needs non-negative literal bounds")
		}
		to = e.Value
	}
	if to < 0 {
		s.ok = append(s.ok, "length("+s.sql+") >= "+strconv.Itoa(from))
		return pgVal{sql: "substr(" + s.sql + ", " + strconv.Itoa(from+1) + ")", t: TypeText, ok: s.ok}, nil
	}
	s.ok = append(s.ok, "length("+s.sql+") >= "+strconv.Itoa(to))
	return pgVal{sql: "substr(" + s.sql + ", " + strconv.Itoa(from+1) + ", " + strconv.Itoa(to-from) + ")", t: TypeText, ok: s.ok}, nil
}
