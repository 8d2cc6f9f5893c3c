package pglint

import (
	"fmt"
	"slices"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// write returns the verb, table and WHERE of an UPDATE or DELETE, or ""
// when node is neither.
func write(node *pg.Node) (verb, table string, where *pg.Node) {
	if u := node.GetUpdateStmt(); u != nil {
		return "UPDATE", u.GetRelation().GetRelname(), u.GetWhereClause()
	}
	if d := node.GetDeleteStmt(); d != nil {
		return "DELETE", d.GetRelation().GetRelname(), d.GetWhereClause()
	}
	return "", "", nil
}

func noWhere(a *analysis, i int) []string {
	verb, table, where := write(a.stmts[i].node)
	if !a.protected || verb == "" || where != nil {
		return nil
	}
	return []string{fmt.Sprintf("%s of every row of %s in one statement", verb, table)}
}

func unbatched(a *analysis, i int) []string {
	verb, table, where := write(a.stmts[i].node)
	if !a.protected || verb == "" || where == nil || a.bounded(where) {
		return nil // no WHERE at all is LS620
	}
	return []string{fmt.Sprintf("%s of %s is bounded by no key range (%v) nor LIMIT: one statement for the whole selection", verb, table, a.keys)}
}

// bounded reports whether a WHERE limits a statement to a batch: the key
// equal to or in a list of values, between two values, both a lower and
// an upper bound on the key, or a subquery with LIMIT.
func (a *analysis) bounded(where *pg.Node) bool {
	var lower, upper, point bool
	walk(where, func(m proto.Message) {
		switch x := m.(type) {
		case *pg.SelectStmt:
			point = point || x.GetLimitCount() != nil
		case *pg.A_Expr:
			op := last(names(x.GetName()))
			left, right := column(x.GetLexpr()), column(x.GetRexpr())
			if !a.isKey(left) && a.isKey(right) {
				op = flip(op)
			} else if !a.isKey(left) {
				return
			}
			switch x.GetKind() {
			case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_IN:
				point = true
			case pg.A_Expr_Kind_AEXPR_OP:
				switch op {
				case "=":
					point = true
				case ">", ">=":
					lower = true
				case "<", "<=":
					upper = true
				}
			}
		}
	})
	return point || (lower && upper)
}

func (a *analysis) isKey(col string) bool { return col != "" && slices.Contains(a.keys, col) }

// flip mirrors a comparison: 5 < id is id > 5.
func flip(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}
