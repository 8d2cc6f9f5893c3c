package pglint

import (
	"fmt"
	"slices"
)

// write returns the verb, table and WHERE of an UPDATE or DELETE, or ""
// when node is neither.
func write(n node) (verb, table string, where node) {
	if u := n.as("UpdateStmt"); u != nil {
		return "UPDATE", u.relname("relation"), u.obj("whereClause")
	}
	if d := n.as("DeleteStmt"); d != nil {
		return "DELETE", d.relname("relation"), d.obj("whereClause")
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
func (a *analysis) bounded(where node) bool {
	var lower, upper, point bool
	walk(where, func(typ string, x node) {
		switch typ {
		case "SelectStmt":
			point = point || x.obj("limitCount") != nil
		case "A_Expr":
			op := last(names(x.list("name")))
			left, right := column(x.obj("lexpr")), column(x.obj("rexpr"))
			if !a.isKey(left) && a.isKey(right) {
				op = flip(op)
			} else if !a.isKey(left) {
				return
			}
			switch x.str("kind") {
			case "AEXPR_BETWEEN", "AEXPR_IN":
				point = true
			case "AEXPR_OP":
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
