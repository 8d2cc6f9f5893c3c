// Package sqlexpr translates runbook expressions (expr-lang) into SQL, so
// that a migrate step on a SQL store can run as one guarded UPDATE per
// page (pushdown) instead of reading and writing row by row.
//
// A translation is exact or absent. Each translated expression comes with
// a condition, OK, under which its SQL value equals what expr-lang
// computes for the same row: the types the expression needs (a string
// where it calls trim, an integer where it multiplies), ASCII text where
// SQL's and Go's case and space rules differ, a separator present as
// often as an index into split needs. A row for which OK is false is left
// to the per-row path, which reports it as expr-lang does (an item
// failure); an expression the package does not know fails to translate
// and the whole step takes the per-row path.
//
// PostgreSQL (postgres.go) types its expressions when it plans them, so
// its translation is made for the table's column types, built on CASE
// where SQLite's is on AND, and uses its own functions (split_part,
// btrim, IS NOT DISTINCT FROM, ||, casts to int8 and float8).
//
// It imports the standard library, runbook and expr-lang's parser only.
package sqlexpr

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr/parser"
	"github.com/lockstep-run/lockstep/runbook"
)

// ErrUntranslatable marks an expression or step with no exact SQL
// translation; its text says which part and why.
var ErrUntranslatable = errors.New("no SQL translation")

// Dialect is the SQL dialect to translate into.
type Dialect int

// Dialects.
const (
	SQLite Dialect = iota + 1
	Postgres
)

// String names the dialect.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return fmt.Sprintf("dialect(%d)", int(d))
}

// Expr is one translated expression.
type Expr struct {
	SQL string // its value
	OK  string // true for the rows on which SQL equals expr-lang's value
}

// Assign sets Column to the value of SQL.
type Assign struct {
	Column string
	SQL    string
}

// Migrate is a migrate step's where, set, rename and remove in SQL.
type Migrate struct {
	// Where selects the rows to write ("1" without a where); WhereOK holds
	// on the rows where it is exact.
	Where, WhereOK string
	// Set are the SET clauses of set, rename and remove (a removed column
	// is set to NULL), in a stable order; SetOK holds on the rows where
	// every value is exact.
	Set   []Assign
	SetOK string
	// Unchanged holds on the rows Set leaves as they are (the per-row
	// path writes their version alone and counts them as unchanged).
	Unchanged string
	// Reads are the columns the expressions read; Writes the columns Set
	// assigns.
	Reads, Writes []string
	// pg, for the Postgres dialect, is what ForTypes translates: the SQL
	// fields above are empty until then.
	pg *pgSpec
}

// pgSpec is a step to translate into PostgreSQL once the column types
// are known.
type pgSpec struct {
	spec *runbook.MigrateSpec
}

// TranslateMigrate translates a forward migrate step. key and vattr are
// the key columns and the version column: a step writing one of them, or
// one that names an attribute twice across set, rename and remove, is not
// translated (the per-row path reports such conflicts item by item).
//
// Into Postgres, the step is checked as for SQLite (every construct has a
// PostgreSQL form) and its SQL is left to Migrate.ForTypes, which needs
// the table's column types.
func TranslateMigrate(spec *runbook.MigrateSpec, d Dialect, key []string, vattr string) (*Migrate, error) {
	switch d {
	case SQLite:
	case Postgres:
		m, err := TranslateMigrate(spec, SQLite, key, vattr)
		if err != nil {
			return nil, err
		}
		return &Migrate{Reads: m.Reads, Writes: m.Writes, pg: &pgSpec{spec: spec}}, nil
	default:
		return nil, fmt.Errorf("%w: the %s dialect is not supported", ErrUntranslatable, d)
	}
	if len(spec.Transform) > 0 {
		return nil, fmt.Errorf("%w: an external transform runs per row", ErrUntranslatable)
	}
	t := &translator{d: d}
	out := &Migrate{Where: "1", WhereOK: "1"}
	if spec.Where != nil {
		w, err := t.expr(spec.Where.Source)
		if err != nil {
			return nil, fmt.Errorf("where: %w", err)
		}
		if w.k != kBool {
			return nil, fmt.Errorf("where: %w: its value is not a comparison or a logical expression", ErrUntranslatable)
		}
		out.Where, out.WhereOK = w.sql, w.okSQL()
	}
	written := map[string]bool{vattr: true}
	for _, k := range key {
		written[k] = true
	}
	claim := func(col string) error {
		if written[col] {
			return fmt.Errorf("%w: %q is a key, the version or written twice", ErrUntranslatable, col)
		}
		written[col] = true
		out.Writes = append(out.Writes, col)
		return nil
	}
	// The set values are written only where all of their conditions
	// hold: translated once to learn those, then again knowing them, so
	// that a value is not computed for cases they rule out (see sure).
	first := &translator{d: d}
	if _, err := first.sets(spec); err != nil {
		return nil, err
	}
	t.sure = map[string]bool{}
	for _, v := range first.vals {
		for _, c := range v.ok {
			t.sure[c] = true
		}
	}
	vals, err := t.sets(spec)
	if err != nil {
		return nil, err
	}
	var oks, same []string
	for i, c := range spec.Set {
		if err := claim(c.Attr); err != nil {
			return nil, err
		}
		v := vals[i]
		out.Set = append(out.Set, Assign{Column: c.Attr, SQL: stored(v)})
		oks = append(oks, v.ok...)
		same = append(same, unchanged(Quote(c.Attr), v))
	}
	renames := mapsKeys(spec.Rename)
	slices.Sort(renames)
	for _, from := range renames {
		to := spec.Rename[from]
		if err := claim(from); err != nil {
			return nil, err
		}
		if err := claim(to); err != nil {
			return nil, err
		}
		f, tq := t.col(from), t.col(to)
		t.read(from)
		t.read(to)
		out.Set = append(out.Set, Assign{Column: to, SQL: "CASE WHEN " + f + " IS NULL THEN " + tq + " ELSE " + f + " END"},
			Assign{Column: from, SQL: "NULL"})
	}
	for _, col := range spec.Remove {
		if err := claim(col); err != nil {
			return nil, err
		}
		out.Set = append(out.Set, Assign{Column: col, SQL: "NULL"})
	}
	out.SetOK = and(oks)
	out.Reads = t.reads
	for _, a := range out.Set[len(spec.Set):] { // rename and remove
		same = append(same, unchanged(Quote(a.Column), val{sql: a.SQL, k: kAny}))
	}
	out.Unchanged = and(same)
	return out, nil
}

func mapsKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Translate translates one expression into SQLite (PostgreSQL needs the
// column types: see Migrate.ForTypes).
func Translate(src string, d Dialect) (Expr, error) {
	if d != SQLite {
		return Expr{}, fmt.Errorf("%w: one expression is translated into SQLite only", ErrUntranslatable)
	}
	t := &translator{d: d}
	v, err := t.expr(src)
	if err != nil {
		return Expr{}, err
	}
	return Expr{SQL: v.sql, OK: v.okSQL()}, nil
}

// Quote quotes an identifier.
func Quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// kind is what a translated value is known to hold.
type kind int

const (
	kAny  kind = iota // a column, or a mix: its SQL type is checked where it matters
	kStr              // text
	kInt              // an integer (abs < 2^31 where it came from a column)
	kNum              // a number, integer or real
	kBool             // 0 or 1, never NULL
	kNil              // NULL
)

// val is a translated subexpression: its SQL, its kind and the conditions
// under which it is exact.
type val struct {
	sql string
	k   kind
	ok  []string
	// root is the text a substring (split part, slice, trim) was cut
	// from: when it is ASCII so is the substring, and checking it once
	// costs less than computing every substring to check it.
	root string
}

func (v val) okSQL() string { return and(v.ok) }

// and joins conditions, each once.
func and(conds []string) string {
	var uniq []string
	for _, c := range conds {
		if !slices.Contains(uniq, c) {
			uniq = append(uniq, c)
		}
	}
	if len(uniq) == 0 {
		return "1"
	}
	return "(" + strings.Join(uniq, " AND ") + ")"
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

type translator struct {
	d     Dialect
	reads []string
	// sure are conditions that hold wherever the values being translated
	// are used: the top-level conditions of a step's set values, which
	// its UPDATE writes only where all of them hold. A split then skips a
	// test those imply (another field proves the separators present).
	// Never a where's: where is evaluated on every row.
	sure map[string]bool
	vals []val // the values sets translated
}

// sets translates the step's set values, in order.
func (t *translator) sets(spec *runbook.MigrateSpec) ([]val, error) {
	t.vals = t.vals[:0]
	for _, c := range spec.Set {
		v, err := t.expr(c.Expr.Source)
		if err != nil {
			return nil, fmt.Errorf("set %s: %w", c.Attr, err)
		}
		t.vals = append(t.vals, v)
	}
	return t.vals, nil
}

func (t *translator) read(col string) {
	if !slices.Contains(t.reads, col) {
		t.reads = append(t.reads, col)
	}
}

func (t *translator) col(name string) string { return Quote(name) }

func (t *translator) expr(src string) (val, error) {
	tree, err := parser.Parse(src)
	if err != nil {
		return val{}, fmt.Errorf("parse %q: %w", src, err)
	}
	return t.node(tree.Node)
}

func untranslatable(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUntranslatable}, args...)...)
}
