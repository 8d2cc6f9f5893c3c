package runbook

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// IntoSpec makes a migrate step a copy: every selected item of the
// environment's table, transformed by the step's set, remove and rename,
// is written whole into another table under a new key. It is how a
// DynamoDB table changes its partition or sort key, which DynamoDB cannot
// alter in place. The source table is only read.
type IntoSpec struct {
	Pos Pos
	// Table is the table the items are copied into: an existing table of
	// the same account and region whose key schema is Key's attributes.
	// It may hold ${VAR} references, expanded at run time.
	Table string
	// Key computes each key attribute of the new table from the source
	// item: the partition key first, then the sort key when there is one.
	Key []SetClause
}

// intoKeys are the keys of a migrate step's `into:`.
var intoKeys = []string{"table", "key"}

// intoHint says what into is for and where it runs.
const intoHint = "into copies into another DynamoDB table under a new key; on a SQL store create the new table and copy with a sql step (INSERT INTO … SELECT …)"

// into decodes a migrate step's `into:`; claim records each key
// attribute as written by the step.
func (d *decoder) into(n *yaml.Node, what string, claim func(string, *yaml.Node)) *IntoSpec {
	f, ok := d.mapping(n, what+" into", intoKeys)
	if !ok {
		return nil
	}
	sp := &IntoSpec{Pos: d.pos(f.node)}
	d.require(f, what+" into", "table", "key")
	if v := f.get("table"); v != nil {
		sp.Table = d.nonEmpty(v, "into table")
		d.checkRefs(v, sp.Table)
	}
	v := f.get("key")
	if v == nil {
		return sp
	}
	kf, ok := d.mapping(v, "into key", nil)
	if !ok {
		return sp
	}
	switch {
	case len(kf.keys) == 0:
		d.errorf(kf.node, "{pk: 'expression'} or {pk: '…', sk: '…'}: the partition key first", "into key must name the new table's key attributes")
	case len(kf.keys) > 2:
		d.errorf(kf.by[kf.keys[2]].key, "a DynamoDB key is a partition key and at most a sort key", "into key has %d attributes, at most 2", len(kf.keys))
	}
	for _, attr := range kf.keys {
		e := kf.by[attr]
		claim(attr, e.key)
		sp.Key = append(sp.Key, SetClause{Attr: attr, Expr: d.expr(e.val, "into.key."+attr)})
	}
	return sp
}

// intoConflicts reports the migrate keys a copy does not take with into.
func (d *decoder) intoConflicts(f fields) {
	for key, why := range map[string]string{
		"transform": "a copy transforms with set, remove and rename",
		"fleet":     "a copy runs in the session; split a large copy with segments",
	} {
		if f.has(key) {
			d.errorf(f.by[key].key, why, "a migrate step with into takes no %s", key)
		}
	}
}

// KeyAttrs returns the new key's attribute names, partition key first.
func (in *IntoSpec) KeyAttrs() []string {
	if in == nil {
		return nil
	}
	out := make([]string, 0, len(in.Key))
	for _, c := range in.Key {
		out = append(out, c.Attr)
	}
	return out
}

// Copy reports whether the migrate step copies into another table.
func (m *MigrateSpec) Copy() bool { return m != nil && m.Into != nil }

// checkIntos refuses `into` in a runbook with an environment whose store
// cannot take it (only DynamoDB can), naming the environment, and a copy
// step whose target table is its source table.
func checkIntos(d *decoder, rb *Runbook) {
	for _, s := range rb.Steps() {
		for _, st := range []*Step{s, s.Rollback} {
			if st == nil || st.Migrate == nil || st.Migrate.Into == nil {
				continue
			}
			in := st.Migrate.Into
			what := fmt.Sprintf("migrate %s copies into table %s", st.ID, in.Table)
			if in.Table == "" {
				what = fmt.Sprintf("migrate %s copies into another table", st.ID)
			}
			for _, e := range rb.Environments {
				switch {
				case e.Store == nil:
					d.errs = append(d.errs, &Error{Pos: in.Pos, Severity: SeverityError, Hint: intoHint,
						Msg: fmt.Sprintf("%s, but environment %s (line %d) has no store", what, e.Name, e.Pos.Line)})
				case e.Store.Kind != StoreDynamoDB && !strings.Contains(e.Store.Kind, "${"):
					d.errs = append(d.errs, &Error{Pos: in.Pos, Severity: SeverityError, Hint: intoHint,
						Msg: fmt.Sprintf("%s: into needs a DynamoDB store, environment %s (line %d) uses %s", what, e.Name, e.Store.Pos.Line, e.Store.Kind)})
				case e.Store.Table != "" && e.Store.Table == in.Table:
					d.errs = append(d.errs, &Error{Pos: in.Pos, Severity: SeverityError, Hint: "name the new table: a copy reads one table and writes another",
						Msg: fmt.Sprintf("%s, the table of environment %s itself", what, e.Name)})
				}
			}
		}
	}
}
