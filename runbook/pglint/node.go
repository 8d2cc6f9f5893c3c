package pglint

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pganalyze/pg_query_go/v6/parser"
)

// node is one object of a parse tree in libpg_query's JSON form, with the
// protobuf field names (relname, whereClause, skip_validation). A node
// field holds a wrapper naming its type ({"AlterTableStmt": {…}}); a
// field of a fixed type (relation, typeName) holds the object itself.
// Absent fields, false, 0 and the first value of an enum are left out.
//
// The JSON form, rather than pg_query_go's protobuf types, keeps the
// protobuf runtime and its 2.4k-message descriptor table out of the
// binary: the package initialised them at every start of every command,
// ~2.5 ms and 0.5 MB before main, for a few lint rules.
type node map[string]any

// parse parses sql into its statements' nodes (each a type wrapper).
func parse(sql string) ([]node, error) {
	out, err := parser.ParseToJSON(sql)
	if err != nil {
		return nil, err
	}
	var tree struct {
		Stmts []struct {
			Stmt node `json:"stmt"`
		} `json:"stmts"`
	}
	if err := json.Unmarshal([]byte(out), &tree); err != nil {
		return nil, fmt.Errorf("decode parse tree: %w", err)
	}
	var stmts []node
	for _, s := range tree.Stmts {
		stmts = append(stmts, s.Stmt)
	}
	return stmts, nil
}

// as returns the object of type typ n wraps, or nil when n is not one.
func (n node) as(typ string) node { return n.obj(typ) }

// obj returns the object in field name, or nil.
func (n node) obj(name string) node {
	m, _ := n[name].(map[string]any)
	return m
}

// list returns the objects of list field name.
func (n node) list(name string) []node {
	l, _ := n[name].([]any)
	out := make([]node, 0, len(l))
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// str returns the string (or enum name) in field name, or "".
func (n node) str(name string) string {
	s, _ := n[name].(string)
	return s
}

// flag returns the boolean in field name (false when absent).
func (n node) flag(name string) bool {
	b, _ := n[name].(bool)
	return b
}

// relname returns the table name of the RangeVar in field name.
func (n node) relname(name string) string { return n.obj(name).str("relname") }

// walk calls fn with the type and object of every node wrapper at or
// under n, depth first.
func walk(n node, fn func(typ string, x node)) {
	var visit func(v any)
	visit = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) { // a stable order: the first finding is always the same
				child := x[k]
				if m, ok := child.(map[string]any); ok && isTypeName(k) {
					fn(k, m)
				}
				visit(child)
			}
		case []any:
			for _, child := range x {
				visit(child)
			}
		}
	}
	if n != nil {
		visit(map[string]any(n))
	}
}

// isTypeName reports whether a key names a node type (AlterTableStmt,
// A_Expr) rather than a field (relation, lexpr): types start upper case.
func isTypeName(k string) bool { return k != "" && k[0] >= 'A' && k[0] <= 'Z' }

// names joins a list of String nodes (a qualified name) with dots,
// lowercased: pg_catalog.int4, public.users.
func names(list []node) string {
	var parts []string
	for _, n := range list {
		if s := n.as("String"); s != nil {
			parts = append(parts, strings.ToLower(s.str("sval")))
		}
	}
	return strings.Join(parts, ".")
}
