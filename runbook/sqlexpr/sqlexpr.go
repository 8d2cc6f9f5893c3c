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
// Both dialects share one walk of the expression's AST (walk.go,
// operands.go); what differs between them is behind its dialect
// interface, in sqlite*.go and postgres*.go.
//
// It imports the standard library, runbook and expr-lang's parser only.
package sqlexpr

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

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
	t := &translator{}
	out := &Migrate{Where: "1", WhereOK: "1"}
	if spec.Where != nil {
		w, err := walker{t}.where(spec.Where.Source)
		if err != nil {
			return nil, err
		}
		out.Where, out.WhereOK = w.sql, and(w.ok)
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
	first := &translator{}
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
	for _, from := range slices.Sorted(maps.Keys(spec.Rename)) {
		to := spec.Rename[from]
		if err := claim(from); err != nil {
			return nil, err
		}
		if err := claim(to); err != nil {
			return nil, err
		}
		t.read(from)
		t.read(to)
		out.Set = append(out.Set, renamed(from, to)...)
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

// renamed are the SET clauses of a rename: the value moves, a NULL
// leaving what the target holds.
func renamed(from, to string) []Assign {
	f, tq := Quote(from), Quote(to)
	return []Assign{{Column: to, SQL: "CASE WHEN " + f + " IS NULL THEN " + tq + " ELSE " + f + " END"}, {Column: from, SQL: "NULL"}}
}

// Translate translates one expression into SQLite (PostgreSQL needs the
// column types: see Migrate.ForTypes).
func Translate(src string, d Dialect) (Expr, error) {
	if d != SQLite {
		return Expr{}, fmt.Errorf("%w: one expression is translated into SQLite only", ErrUntranslatable)
	}
	v, err := walker{&translator{}}.expr(src)
	if err != nil {
		return Expr{}, err
	}
	return Expr{SQL: v.sql, OK: and(v.ok)}, nil
}

// Quote quotes an identifier.
func Quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// kind is what a translated value is known to hold.
type kind int

const (
	kAny  kind = iota // SQLite: a column, or a mix: its SQL type is checked where it matters
	kStr              // text
	kInt              // an integer (abs < 2^31 where it came from a column)
	kNum              // a number: SQLite's integer or real, PostgreSQL's float8
	kBool             // a boolean: in SQLite 0 or 1, never NULL
	kNil              // the literal nil: NULL
	// kNone is PostgreSQL's conditional between two nils: a value of no
	// type, which no column holds and only ==, ?? and ?: take (SQLite's
	// is kNil).
	kNone
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
	// PostgreSQL's alone (SQLite's values are never NULL where they are
	// exact, but for kAny, and its arith bounds its operands instead):
	// nullable, a value that may be NULL in a row (a column, or a value
	// built on one); computed, arithmetic of operands, bounded again
	// where it is used.
	nullable, computed bool
}

// uniq is conds without repeats, in order.
func uniq(conds []string) []string {
	var out []string
	for _, c := range conds {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
