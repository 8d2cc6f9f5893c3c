package pglint

import (
	"fmt"
	"slices"
)

// alterCmds returns the table an ALTER TABLE statement changes and its
// commands, or "" when node is not one.
func alterCmds(n node) (string, []node) {
	alt := n.as("AlterTableStmt")
	if alt == nil {
		return "", nil
	}
	var cmds []node
	for _, c := range alt.list("cmds") {
		if cmd := c.as("AlterTableCmd"); cmd != nil {
			cmds = append(cmds, cmd)
		}
	}
	return alt.relname("relation"), cmds
}

// createdBefore reports whether a statement before i creates table: a
// table created by the runbook is empty, so locking it harms no one.
func (a *analysis) createdBefore(i int, table string) bool {
	for _, st := range a.stmts[:i] {
		if c := st.node.as("CreateStmt"); c != nil && c.relname("relation") == table {
			return true
		}
	}
	return false
}

// newColumns returns the columns an ALTER TABLE of an existing table adds.
func (a *analysis) newColumns(i int) (string, []node) {
	table, cmds := alterCmds(a.stmts[i].node)
	if table == "" || a.createdBefore(i, table) {
		return "", nil
	}
	var out []node
	for _, cmd := range cmds {
		if def := cmd.obj("def").as("ColumnDef"); cmd.str("subtype") == "AT_AddColumn" && def != nil {
			out = append(out, def)
		}
	}
	return table, out
}

func plainIndex(a *analysis, i int) []string {
	idx := a.stmts[i].node.as("IndexStmt")
	if idx == nil || idx.flag("concurrent") || a.createdBefore(i, idx.relname("relation")) {
		return nil
	}
	return []string{fmt.Sprintf("CREATE INDEX without CONCURRENTLY blocks every write to %s until the index is built", idx.relname("relation"))}
}

func concurrentAlone(a *analysis, i int) []string {
	st := a.stmts[i]
	concurrent := st.node.as("IndexStmt").flag("concurrent") || st.node.as("DropStmt").flag("concurrent")
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
		for _, c := range col.list("constraints") {
			switch c.as("Constraint").str("contype") {
			case "CONSTR_NOTNULL", "CONSTR_PRIMARY":
				notNull = true
			case "CONSTR_DEFAULT", "CONSTR_IDENTITY", "CONSTR_GENERATED":
				dflt = true
			}
		}
		if notNull && !dflt {
			out = append(out, fmt.Sprintf("adds column %s.%s NOT NULL without a default: it fails on a table with rows", table, col.str("colname")))
		}
	}
	return out
}

func volatileDefault(a *analysis, i int) []string {
	table, cols := a.newColumns(i)
	var out []string
	for _, col := range cols {
		why := ""
		if t := last(names(col.obj("typeName").list("names"))); slices.Contains(serialTypes, t) {
			why = "type " + t + " (a nextval() default)"
		}
		for _, c := range col.list("constraints") {
			con := c.as("Constraint")
			switch con.str("contype") {
			case "CONSTR_DEFAULT":
				if f := volatileCall(con.obj("raw_expr")); f != "" {
					why = "the volatile default " + f
				}
			case "CONSTR_IDENTITY":
				why = "an identity (a nextval() per row)"
			case "CONSTR_GENERATED":
				why = "a stored generated value"
			}
		}
		if why != "" {
			out = append(out, fmt.Sprintf("adds column %s.%s with %s: PostgreSQL rewrites %s under an ACCESS EXCLUSIVE lock", table, col.str("colname"), why, table))
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
		if cmd.str("subtype") == "AT_AlterColumnType" {
			out = append(out, fmt.Sprintf("changes the type of %s.%s: a rewrite of the table under an ACCESS EXCLUSIVE lock", table, cmd.str("name")))
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
		con := cmd.obj("def").as("Constraint")
		if cmd.str("subtype") != "AT_AddConstraint" || con == nil || con.flag("skip_validation") {
			continue
		}
		switch con.str("contype") {
		case "CONSTR_CHECK":
			out = append(out, fmt.Sprintf("adds check constraint %s to %s and validates it while blocking writes", orName(con.str("conname")), table))
		case "CONSTR_FOREIGN":
			out = append(out, fmt.Sprintf("adds foreign key %s to %s and validates it while blocking writes to %s and %s", orName(con.str("conname")), table, table, con.relname("pktable")))
		}
	}
	return out
}

// notNullCheck returns the column a CHECK (col IS NOT NULL) constraint
// proves not null, or "".
func notNullCheck(con node) string {
	if con == nil || con.str("contype") != "CONSTR_CHECK" {
		return ""
	}
	if t := con.obj("raw_expr").as("NullTest"); t != nil && t.str("nulltesttype") == "IS_NOT_NULL" {
		return column(t.obj("arg"))
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
			switch cmd.str("subtype") {
			case "AT_AddConstraint":
				con := cmd.obj("def").as("Constraint")
				if col := notNullCheck(con); col != "" {
					byName[con.str("conname")] = table + "." + col
					proven[table+"."+col] = !con.flag("skip_validation")
				}
			case "AT_ValidateConstraint":
				if tc, ok := byName[cmd.str("name")]; ok {
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
		if name := cmd.str("name"); cmd.str("subtype") == "AT_SetNotNull" && !a.provenNotNull(i)[table+"."+name] {
			out = append(out, fmt.Sprintf("SET NOT NULL on %s.%s scans the table under an ACCESS EXCLUSIVE lock: no validated CHECK (%s IS NOT NULL) comes before it", table, name, name))
		}
	}
	return out
}

func dropOutsideContract(a *analysis, i int) []string {
	st := a.stmts[i]
	what := ""
	if d := st.node.as("DropStmt"); d != nil && d.str("removeType") == "OBJECT_TABLE" {
		what = "drops a table"
	}
	if table, cmds := alterCmds(st.node); table != "" {
		for _, cmd := range cmds {
			if cmd.str("subtype") == "AT_DropColumn" {
				what = fmt.Sprintf("drops column %s.%s", table, cmd.str("name"))
			}
		}
	}
	if what == "" || a.rb.GatedOnVerify(st.step.ID) {
		return nil
	}
	return []string{what + " outside a contract phase gated on verify"}
}

func renames(a *analysis, i int) []string {
	r := a.stmts[i].node.as("RenameStmt")
	if r == nil {
		return nil
	}
	switch r.str("renameType") {
	case "OBJECT_COLUMN":
		return []string{fmt.Sprintf("renames column %s.%s to %s: readers of the old name break at once", r.relname("relation"), r.str("subname"), r.str("newname"))}
	case "OBJECT_TABLE":
		return []string{fmt.Sprintf("renames table %s to %s: readers of the old name break at once", r.relname("relation"), r.str("newname"))}
	}
	return nil
}

func orName(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return s
}
