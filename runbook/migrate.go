package runbook

import (
	"fmt"
	"sort"

	"go.yaml.in/yaml/v3"
)

// migrate decodes a migrate step's spec and applies its defaults.
func (d *decoder) migrate(f fields, what string) *MigrateSpec {
	sp := &MigrateSpec{
		ErrorBudget: DefaultErrorBudget, MaxRetries: DefaultMaxRetries}
	if !f.has("set") && !f.has("remove") && !f.has("rename") && !f.has("transform") && !f.has("into") {
		d.errorf(f.node, "a migrate step changes items with set, remove, rename or transform", "%s: nothing to do", what)
	}
	if v := f.get("where"); v != nil {
		sp.Where = d.expr(v, "where")
	}
	written := map[string]*yaml.Node{} // attribute → first node writing it
	claim := func(attr string, n *yaml.Node) {
		if first, dup := written[attr]; dup {
			d.errorf(n, fmt.Sprintf("first at line %d", first.Line), "attribute %q is changed twice", attr)
			return
		}
		written[attr] = n
		d.refer(refWrite, attr, n)
	}
	if v := f.get("set"); v != nil {
		if sf, ok := d.mapping(v, "set", nil); ok {
			for _, attr := range sf.keys {
				e := sf.by[attr]
				claim(attr, e.key)
				sp.Set = append(sp.Set, SetClause{Attr: attr, Expr: d.expr(e.val, "set."+attr)})
			}
		}
	}
	if v := f.get("remove"); v != nil {
		var nodes []*yaml.Node
		sp.Remove, nodes = d.listNodes(v, "remove", true)
		for i, attr := range sp.Remove {
			claim(attr, nodes[i])
		}
	}
	if v := f.get("rename"); v != nil {
		if rf, ok := d.mapping(v, "rename", nil); ok {
			sp.Rename = make(map[string]string, len(rf.keys))
			for _, from := range rf.keys {
				e := rf.by[from]
				to := d.nonEmpty(e.val, "rename."+from)
				claim(from, e.key)
				claim(to, e.val)
				sp.Rename[from] = to
			}
		}
	}
	if v := f.get("transform"); v != nil {
		sp.Transform = d.transform(v)
	}
	if v := f.get("into"); v != nil {
		sp.Into = d.into(v, what, claim)
		d.intoConflicts(f)
	}
	if v := f.get("fleet"); v != nil {
		sp.Fleet = d.fleet(v, what)
	}
	for key, dst := range map[string]*int{"batch_size": &sp.BatchSize, "segments": &sp.Segments,
		"error_budget": &sp.ErrorBudget, "max_retries": &sp.MaxRetries} {
		if v := f.get(key); v != nil {
			lo := 1
			if key == "error_budget" || key == "max_retries" {
				lo = 0
			}
			*dst = d.integer(v, key, lo)
		}
	}
	return sp
}

// transform reads an external command: an argv list, or a string run with sh -c.
func (d *decoder) transform(n *yaml.Node) []string {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []string{"sh", "-c", d.nonEmpty(n, "transform")}
	}
	argv := d.list(n, "transform", false)
	if n.Kind == yaml.SequenceNode && len(argv) == 0 {
		d.errorf(n, "", "transform must not be empty")
	}
	return argv
}

// Reads returns the item attributes the migration reads: those read by
// where and by every set expression, plus the sources of renames. Sorted,
// unique. The migrate executor binds them for its expressions and guards
// its conditional write on them; ReadsWholeItem says when that is not all.
func (m *MigrateSpec) Reads() []string {
	seen := map[string]bool{}
	for _, e := range m.Exprs() {
		for _, a := range e.Reads() {
			seen[a] = true
		}
	}
	for from := range m.Rename {
		seen[from] = true
	}
	return sortedKeys(seen)
}

// Writes returns the attributes the migration changes (set, remove and both
// sides of renames), sorted and unique. The version attribute is not listed.
func (m *MigrateSpec) Writes() []string {
	seen := map[string]bool{}
	for _, c := range m.Set {
		seen[c.Attr] = true
	}
	for _, a := range m.Remove {
		seen[a] = true
	}
	for from, to := range m.Rename {
		seen[from], seen[to] = true, true
	}
	return sortedKeys(seen)
}

// ReadsWholeItem reports whether an expression of the migration uses
// `item` in a way that may read any attribute (passing it whole to a
// function, indexing it with a computed key), beyond those Reads lists.
func (m *MigrateSpec) ReadsWholeItem() bool {
	for _, e := range m.Exprs() {
		if e != nil && e.Program != nil && e.UsesWholeItem() {
			return true
		}
	}
	return false
}

// Exprs returns the migration's expressions: where, then every set
// expression in order, then a copy's key expressions. Where is nil when
// the step has none.
func (m *MigrateSpec) Exprs() []*Expr {
	out := []*Expr{m.Where}
	for _, c := range m.Set {
		out = append(out, c.Expr)
	}
	if m.Into != nil {
		for _, c := range m.Into.Key {
			out = append(out, c.Expr)
		}
	}
	return out
}

// sortedKeys returns the keys of m in order, nil when m is empty.
func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
