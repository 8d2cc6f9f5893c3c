package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// column is one column of the table and how its values are read and
// written.
type column struct {
	name     string
	typ      string // format_type, e.g. "numeric(10,2)", "text[]"
	category byte   // pg_type.typcategory of the column's type
	elemCat  byte   // for arrays: the element type's category
	kind     kind
	// collatable: the column has a collation (text, varchar, arrays of
	// them, domains over them), which its comparisons follow unless
	// another is named.
	collatable bool
	// citext: the column is citext, whose comparisons fold case
	// whatever the collation named; a guard compares its text.
	citext bool
}

// kind says how a column's values map to item values.
type kind int

const (
	kindText kind = iota // read as text; written as text cast to the type
	kindNumber
	kindBool
	kindBytes
	kindTime
	kindJSON
	kindArray
)

// schema is what the store knows of its table.
type schema struct {
	cols       []column
	byName     map[string]int
	key        []string
	selectList string // every column, as the reader wants it
}

func (sc *schema) has(name string) bool { _, ok := sc.byName[name]; return ok }

func (sc *schema) col(name string) (column, bool) {
	i, ok := sc.byName[name]
	if !ok {
		return column{}, false
	}
	return sc.cols[i], true
}

// currentSchema returns the cached schema, loading it when there is none.
func (s *Store) currentSchema(ctx context.Context) (*schema, error) {
	s.mu.Lock()
	sc := s.sc
	s.mu.Unlock()
	if sc != nil {
		return sc, nil
	}
	return s.loadSchema(ctx)
}

// loadSchema reads the table's columns and key and caches them.
func (s *Store) loadSchema(ctx context.Context) (*schema, error) {
	sc, err := readSchema(ctx, s.pool, s.schemaName, s.table, s.specKey)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.sc = sc
	s.mu.Unlock()
	return sc, nil
}

// forget drops the cached schema (after DDL).
func (s *Store) forget() {
	s.mu.Lock()
	s.sc = nil
	s.mu.Unlock()
}

// querier is what a pool, a connection and a transaction share.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// readSchema reads table's columns (in order) and its key: specKey, or
// the primary key.
func readSchema(ctx context.Context, q querier, schemaName, table string, specKey []string) (*schema, error) {
	rows, err := q.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory::text,
			coalesce(et.typcategory::text, ' '), t.typname::text, coalesce(et.typname::text, ''), a.attcollation <> 0
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
		WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, schemaName, table)
	if err != nil {
		return nil, translate(err)
	}
	sc := &schema{byName: map[string]int{}}
	for rows.Next() {
		var c column
		var cat, ecat, tname, ename string
		if err := rows.Scan(&c.name, &c.typ, &cat, &ecat, &tname, &ename, &c.collatable); err != nil {
			rows.Close()
			return nil, translate(err)
		}
		c.category, c.elemCat = cat[0], ecat[0]
		c.citext = tname == "citext"
		if c.kind, err = kindOf(c.category, tname, c.elemCat, ename); err != nil {
			rows.Close()
			return nil, fmt.Errorf("column %q of type %s: %w", c.name, c.typ, err)
		}
		sc.byName[c.name] = len(sc.cols)
		sc.cols = append(sc.cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if len(sc.cols) == 0 {
		return nil, fmt.Errorf("table %s.%s: %w", schemaName, table, ErrNoTable)
	}
	if len(specKey) > 0 {
		for _, k := range specKey {
			if !sc.has(k) {
				return nil, fmt.Errorf("key column %q: %w in %s.%s", k, ErrNoColumn, schemaName, table)
			}
		}
		sc.key = slices.Clone(specKey)
	} else {
		krows, err := q.Query(ctx, `SELECT a.attname FROM pg_index i
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
			WHERE i.indrelid = $1::regclass AND i.indisprimary
			ORDER BY array_position(i.indkey::int2[], a.attnum)`, quote(schemaName)+"."+quote(table))
		if err != nil {
			return nil, translate(err)
		}
		sc.key, err = pgx.CollectRows(krows, pgx.RowTo[string])
		if err != nil {
			return nil, translate(err)
		}
		if len(sc.key) == 0 {
			return nil, fmt.Errorf("table %s.%s: %w; add one or name the key with `key:`", schemaName, table, ErrNoKey)
		}
	}
	sel := make([]string, len(sc.cols))
	for i, c := range sc.cols {
		sel[i] = c.selectExpr()
	}
	sc.selectList = strings.Join(sel, ", ")
	return sc, nil
}

// kindOf maps a PostgreSQL type (category and name) to how lockstep reads
// it; geometric, range, composite, pseudo and unknown types are refused.
func kindOf(cat byte, name string, elemCat byte, elemName string) (kind, error) {
	switch cat {
	case 'N':
		return kindNumber, nil
	case 'B':
		return kindBool, nil
	case 'D':
		if name == "date" {
			return kindText, nil // a date is a day, not an instant
		}
		return kindTime, nil
	case 'S', 'E', 'I', 'T', 'V': // strings, enums, network addresses, intervals, bit strings
		return kindText, nil
	case 'U':
		switch name {
		case "bytea":
			return kindBytes, nil
		case "json", "jsonb":
			return kindJSON, nil
		case "uuid", "xml", "tsvector", "tsquery", "pg_lsn", "txid_snapshot", "pg_snapshot":
			return kindText, nil
		}
	case 'A':
		if _, err := kindOf(elemCat, elemName, ' ', ""); err != nil {
			return 0, fmt.Errorf("arrays of %s: %w", elemName, err)
		}
		return kindArray, nil
	}
	return 0, fmt.Errorf("%w (lockstep maps text, numbers, booleans, bytea, timestamps, json/jsonb and arrays of them)", ErrUnsupportedType)
}

// selectExpr is how the column is selected: as text where lockstep
// parses the text form (numbers keep every digit; json keeps its
// numbers exact), natively otherwise.
func (c column) selectExpr() string { return c.selectValue() + " AS " + quote(c.name) }

// selectValue is selectExpr's expression.
func (c column) selectValue() string { return c.selectOf(quote(c.name)) }

// selectOf is selectValue of the expression q, a value of c's type.
func (c column) selectOf(q string) string {
	switch c.kind {
	case kindNumber, kindText, kindJSON:
		return q + "::text"
	case kindArray:
		return "to_jsonb(" + q + ")::text"
	}
	return q
}

// keyList is the quoted key columns, comma-separated.
func (sc *schema) keyList() string {
	keys := make([]string, len(sc.key))
	for i, k := range sc.key {
		keys[i] = quote(k)
	}
	return strings.Join(keys, ", ")
}
