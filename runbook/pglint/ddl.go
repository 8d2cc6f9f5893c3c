package pglint

import (
	"fmt"
	"slices"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// alterCmds returns the table an ALTER TABLE statement changes and its
// commands, or "" when node is not one.
func alterCmds(node *pg.Node) (string, []*pg.AlterTableCmd) {
	alt := node.GetAlterTableStmt()
	if alt == nil {
		return "", nil
	}
	var cmds []*pg.AlterTableCmd
	for _, c := range alt.GetCmds() {
		if cmd := c.GetAlterTableCmd(); cmd != nil {
			cmds = append(cmds, cmd)
		}
	}
	return alt.GetRelation().GetRelname(), cmds
}

// createdBefore reports whether a statement before i creates table: a
// table created by the runbook is empty, so locking it harms no one.
func (a *analysis) createdBefore(i int, table string) bool {
	for _, st := range a.stmts[:i] {
		if c := st.node.GetCreateStmt(); c != nil && c.GetRelation().GetRelname() == table {
			return true
		}
	}
	return false
}

// newColumns returns the columns an ALTER TABLE of an existing table adds.
func (a *analysis) newColumns(i int) (string, []*pg.ColumnDef) {
	table, cmds := alterCmds(a.stmts[i].node)
	if table == "" || a.createdBefore(i, table) {
		return "", nil
	}
	var out []*pg.ColumnDef
	for _, cmd := range cmds {
		if cmd.GetSubtype() == pg.AlterTableType_AT_AddColumn && cmd.GetDef().GetColumnDef() != nil {
			out = append(out, cmd.GetDef().GetColumnDef())
		}
	}
	return table, out
}

func plainIndex(a *analysis, i int) []string {
	idx := a.stmts[i].node.GetIndexStmt()
	if idx == nil || idx.GetConcurrent() || a.createdBefore(i, idx.GetRelation().GetRelname()) {
		return nil
	}
	return []string{fmt.Sprintf("CREATE INDEX without CONCURRENTLY blocks every write to %s until the index is built", idx.GetRelation().GetRelname())}
}

func concurrentAlone(a *analysis, i int) []string {
	st := a.stmts[i]
	concurrent := st.node.GetIndexStmt().GetConcurrent() || st.node.GetDropStmt().GetConcurrent()
	if !concurrent {
		return nil
	}
	n := 0
	for _, o := range a.stmts {
		if o.step == st.step {
			n++
		}
	}
	switch {
	case !st.step.SQL.NoTransaction:
		return []string{"CONCURRENTLY cannot run inside the step's transaction: the step fails"}
	case n > 1:
		return []string{fmt.Sprintf("CONCURRENTLY must be the only statement of its step, which has %d", n)}
	}
	return nil
}

func notNullNoDefault(a *analysis, i int) []string {
	table, cols := a.newColumns(i)
	var out []string
	for _, col := range cols {
		var notNull, dflt bool
		for _, c := range col.GetConstraints() {
			switch c.GetConstraint().GetContype() {
			case pg.ConstrType_CONSTR_NOTNULL, pg.ConstrType_CONSTR_PRIMARY:
				notNull = true
			case pg.ConstrType_CONSTR_DEFAULT, pg.ConstrType_CONSTR_IDENTITY, pg.ConstrType_CONSTR_GENERATED:
				dflt = true
			}
		}
		if notNull && !dflt {
			out = append(out, fmt.Sprintf("adds column %s.%s NOT NULL without a default: it fails on a table with rows", table, col.GetColname()))
		}
	}
	return out
}

func volatileDefault(a *analysis, i int) []string {
	table, cols := a.newColumns(i)
	var out []string
	for _, col := range cols {
		why := ""
		if t := last(names(col.GetTypeName().GetNames())); slices.Contains(serialTypes, t) {
			why = "type " + t + " (a nextval() default)"
		}
		for _, c := range col.GetConstraints() {
			con := c.GetConstraint()
			switch con.GetContype() {
			case pg.ConstrType_CONSTR_DEFAULT:
				if f := volatileCall(con.GetRawExpr()); f != "" {
					why = "the volatile default " + f
				}
			case pg.ConstrType_CONSTR_IDENTITY:
				why = "an identity (a nextval() per row)"
			case pg.ConstrType_CONSTR_GENERATED:
				why = "a stored generated value"
			}
		}
		if why != "" {
			out = append(out, fmt.Sprintf("adds column %s.%s with %s: PostgreSQL rewrites %s under an ACCESS EXCLUSIVE lock", table, col.GetColname(), why, table))
		}
	}
	return out
}

func alterType(a *analysis, i int) []string {
	table, cmds := alterCmds(a.stmts[i].node)
	if table == "" || a.createdBefore(i, table) {
		return nil
	}
	var out []string
	for _, cmd := range cmds {
		if cmd.GetSubtype() == pg.AlterTableType_AT_AlterColumnType {
			out = append(out, fmt.Sprintf("changes the type of %s.%s: a rewrite of the table under an ACCESS EXCLUSIVE lock", table, cmd.GetName()))
		}
	}
	return out
}

func constraintValidated(a *analysis, i int) []string {
	table, cmds := alterCmds(a.stmts[i].node)
	if table == "" || a.createdBefore(i, table) {
		return nil
	}
	var out []string
	for _, cmd := range cmds {
		con := cmd.GetDef().GetConstraint()
		if cmd.GetSubtype() != pg.AlterTableType_AT_AddConstraint || con == nil || con.GetSkipValidation() {
			continue
		}
		switch con.GetContype() {
		case pg.ConstrType_CONSTR_CHECK:
			out = append(out, fmt.Sprintf("adds check constraint %s to %s and validates it while blocking writes", orName(con.GetConname()), table))
		case pg.ConstrType_CONSTR_FOREIGN:
			out = append(out, fmt.Sprintf("adds foreign key %s to %s and validates it while blocking writes to %s and %s", orName(con.GetConname()), table, table, con.GetPktable().GetRelname()))
		}
	}
	return out
}

// notNullCheck returns the column a CHECK (col IS NOT NULL) constraint
// proves not null, or "".
func notNullCheck(con *pg.Constraint) string {
	if con == nil || con.GetContype() != pg.ConstrType_CONSTR_CHECK {
		return ""
	}
	if t := con.GetRawExpr().GetNullTest(); t != nil && t.GetNulltesttype() == pg.NullTestType_IS_NOT_NULL {
		return column(t.GetArg())
	}
	return ""
}

// provenNotNull returns the table.column pairs that a validated
// CHECK (col IS NOT NULL) proves before statement i.
func (a *analysis) provenNotNull(i int) map[string]bool {
	byName := map[string]string{} // constraint → table.column
	proven := map[string]bool{}
	for _, st := range a.stmts[:i] {
		table, cmds := alterCmds(st.node)
		for _, cmd := range cmds {
			switch cmd.GetSubtype() {
			case pg.AlterTableType_AT_AddConstraint:
				con := cmd.GetDef().GetConstraint()
				if col := notNullCheck(con); col != "" {
					byName[con.GetConname()] = table + "." + col
					proven[table+"."+col] = !con.GetSkipValidation()
				}
			case pg.AlterTableType_AT_ValidateConstraint:
				if tc, ok := byName[cmd.GetName()]; ok {
					proven[tc] = true
				}
			}
		}
	}
	return proven
}

func setNotNull(a *analysis, i int) []string {
	table, cmds := alterCmds(a.stmts[i].node)
	if table == "" || a.createdBefore(i, table) {
		return nil
	}
	var out []string
	for _, cmd := range cmds {
		if cmd.GetSubtype() == pg.AlterTableType_AT_SetNotNull && !a.provenNotNull(i)[table+"."+cmd.GetName()] {
			out = append(out, fmt.Sprintf("SET NOT NULL on %s.%s scans the table under an ACCESS EXCLUSIVE lock: no validated CHECK (%s IS NOT NULL) comes before it", table, cmd.GetName(), cmd.GetName()))
		}
	}
	return out
}

func dropOutsideContract(a *analysis, i int) []string {
	st := a.stmts[i]
	what := ""
	if d := st.node.GetDropStmt(); d != nil && d.GetRemoveType() == pg.ObjectType_OBJECT_TABLE {
		what = "drops a table"
	}
	if table, cmds := alterCmds(st.node); table != "" {
		for _, cmd := range cmds {
			if cmd.GetSubtype() == pg.AlterTableType_AT_DropColumn {
				what = fmt.Sprintf("drops column %s.%s", table, cmd.GetName())
			}
		}
	}
	if what == "" || a.rb.GatedOnVerify(st.step.ID) {
		return nil
	}
	return []string{what + " outside a contract phase gated on verify"}
}

func renames(a *analysis, i int) []string {
	r := a.stmts[i].node.GetRenameStmt()
	if r == nil {
		return nil
	}
	switch r.GetRenameType() {
	case pg.ObjectType_OBJECT_COLUMN:
		return []string{fmt.Sprintf("renames column %s.%s to %s: readers of the old name break at once", r.GetRelation().GetRelname(), r.GetSubname(), r.GetNewname())}
	case pg.ObjectType_OBJECT_TABLE:
		return []string{fmt.Sprintf("renames table %s to %s: readers of the old name break at once", r.GetRelation().GetRelname(), r.GetNewname())}
	}
	return nil
}

func orName(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return s
}
