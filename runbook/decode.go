package runbook

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder walks the YAML node tree, converting values and collecting every
// problem instead of stopping at the first.
type decoder struct {
	file     string
	errs     Errors
	refs     []ref // cross-references resolved by validate
	stepIdx  int   // index of the top-level step being decoded
	phaseIdx int   // index of the phase being decoded
	// inRollback: a rollback step is being decoded (it may read its own
	// step's result).
	inRollback bool
	// dir is what relative paths are resolved against (Runbook.Dir).
	dir string
}

// refKind says what a cross-reference names.
type refKind int

const (
	refStep     refKind = iota // step requires: an earlier step id
	refPhase                   // phase requires: an earlier phase
	refBackup                  // restore-drill from / verify backup: an earlier backup step
	refRole                    // approval role: a role with holders
	refWrite                   // migrate writes: not the version attribute
	refResult                  // steps.X in an expression or template: an earlier step
	refVar                     // vars.X in an expression or template: a declared var
	refEnvField                // env.X in an expression: one of EnvFields
	refCopy                    // verify copy: an earlier migrate step with into
)

// ref is one cross-reference, checked once the whole runbook is decoded.
type ref struct {
	kind refKind
	name string
	node *yaml.Node
	at   int // index of the referring step (or phase)
	// For name references (refResult, refVar, refEnvField):
	what string // "when: steps.x", the key and the reference as written
	self bool   // the referring step is a rollback: its own step has run
}

// refer records a cross-reference from the current step or phase.
func (d *decoder) refer(kind refKind, name string, n *yaml.Node) {
	at := d.stepIdx
	if kind == refPhase {
		at = d.phaseIdx
	}
	if name != "" {
		d.refs = append(d.refs, ref{kind: kind, name: name, node: n, at: at})
	}
}

// pos returns the position of n.
func (d *decoder) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: d.file, Line: 1, Col: 1}
	}
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

// errorf records a problem at n.
func (d *decoder) errorf(n *yaml.Node, hint, format string, args ...any) {
	d.errs = append(d.errs, &Error{Pos: d.pos(n), Msg: fmt.Sprintf(format, args...), Hint: hint, Severity: SeverityError})
}

// entry is one key/value pair of a mapping.
type entry struct{ key, val *yaml.Node }

// fields is a mapping's entries by key, in the order they were written.
type fields struct {
	node *yaml.Node
	by   map[string]entry
	keys []string
}

// has reports whether key is present.
func (f fields) has(key string) bool { _, ok := f.by[key]; return ok }

// get returns the value of key, or nil.
func (f fields) get(key string) *yaml.Node { return f.by[key].val }

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// mapping reads n as a mapping whose keys must be among known (nil: any);
// unknown and duplicate keys are reported. YAML merge keys (<<: *anchor)
// are honoured: merged entries never override explicit ones. what names the
// mapping in messages.
func (d *decoder) mapping(n *yaml.Node, what string, known []string) (fields, bool) {
	f := fields{node: n, by: map[string]entry{}}
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		d.errorf(n, "", "%s must be a mapping", what)
		return f, false
	}
	f.node = n
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			d.errorf(n.Content[i], "", "%s keys must be strings", what)
			continue
		}
		if k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		d.add(&f, k, v, what, known)
	}
	for _, m := range merges {
		d.merge(&f, m, what, known)
	}
	return f, true
}

// add records one entry of a mapping.
func (d *decoder) add(f *fields, k, v *yaml.Node, what string, known []string) {
	if first, dup := f.by[k.Value]; dup {
		d.errorf(k, fmt.Sprintf("first at line %d", first.key.Line), "duplicate key %q in %s", k.Value, what)
		return
	}
	if known != nil && !slices.Contains(known, k.Value) {
		d.errorf(k, didYouMean(k.Value, known), "unknown key %q in %s", k.Value, what)
		return
	}
	f.by[k.Value] = entry{key: k, val: resolve(v)}
	f.keys = append(f.keys, k.Value)
}

// merge adds the entries of a merged mapping (or list of mappings) that f
// does not already have.
func (d *decoder) merge(f *fields, m *yaml.Node, what string, known []string) {
	m = resolve(m)
	var sources []*yaml.Node
	switch {
	case m != nil && m.Kind == yaml.MappingNode:
		sources = []*yaml.Node{m}
	case m != nil && m.Kind == yaml.SequenceNode:
		for _, c := range m.Content {
			sources = append(sources, resolve(c))
		}
	}
	for _, src := range sources {
		if src == nil || src.Kind != yaml.MappingNode {
			d.errorf(m, "<<: *anchor or <<: [*a, *b]", "%s: merge needs mappings", what)
			return
		}
		for i := 0; i+1 < len(src.Content); i += 2 {
			k := resolve(src.Content[i])
			if k == nil || k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				continue
			}
			if _, has := f.by[k.Value]; !has {
				d.add(f, k, src.Content[i+1], what, known)
			}
		}
	}
}

// require reports each key of keys missing from f.
func (d *decoder) require(f fields, what string, keys ...string) bool {
	ok := true
	for _, k := range keys {
		if !f.has(k) {
			d.errorf(f.node, "", "%s: missing required key %q", what, k)
			ok = false
		}
	}
	return ok
}

// scalar reports whether n is a non-null scalar, recording an error if not.
func (d *decoder) scalar(n *yaml.Node, what string) bool {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, "", "%s must be a single value", what)
		return false
	}
	return true
}

// str reads a string scalar. Any scalar is accepted as its text.
func (d *decoder) str(n *yaml.Node, what string) string {
	if !d.scalar(n, what) {
		return ""
	}
	return n.Value
}

// nonEmpty reads a string scalar that must not be blank.
func (d *decoder) nonEmpty(n *yaml.Node, what string) string {
	s := d.str(n, what)
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null" && strings.TrimSpace(s) == "" {
		d.errorf(n, "", "%s must not be empty", what)
	}
	return s
}

// integer reads an integer scalar no smaller than lo.
func (d *decoder) integer(n *yaml.Node, what string, lo int) int {
	if !d.scalar(n, what) {
		return 0
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if n.Tag != "!!int" || err != nil || v > math.MaxInt32 {
		d.errorf(n, "", "%s must be an integer, got %q", what, n.Value)
		return 0
	}
	if int(v) < lo {
		d.errorf(n, "", "%s must be at least %d, got %d", what, lo, v)
		return 0
	}
	return int(v)
}

// boolean reads true or false.
func (d *decoder) boolean(n *yaml.Node, what string) bool {
	if !d.scalar(n, what) {
		return false
	}
	if n.Tag != "!!bool" {
		d.errorf(n, "use true or false", "%s must be a boolean, got %q", what, n.Value)
		return false
	}
	v, _ := strconv.ParseBool(strings.ToLower(n.Value))
	return v
}

// duration reads a positive Go duration such as 30s or 1h30m.
func (d *decoder) duration(n *yaml.Node, what string) time.Duration {
	if !d.scalar(n, what) {
		return 0
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		d.errorf(n, "use a duration such as 30s, 5m or 1h30m", "%s: invalid duration %q", what, n.Value)
		return 0
	}
	if v <= 0 {
		d.errorf(n, "", "%s must be positive, got %s", what, n.Value)
		return 0
	}
	return v
}

// list reads a sequence of string scalars; a single scalar is accepted as a
// one-element list when single is true.
func (d *decoder) list(n *yaml.Node, what string, single bool) []string {
	out, _ := d.listNodes(n, what, single)
	return out
}

// listNodes is list that also returns the node of each value.
func (d *decoder) listNodes(n *yaml.Node, what string, single bool) ([]string, []*yaml.Node) {
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null" && single {
		return []string{n.Value}, []*yaml.Node{n}
	}
	if n == nil || n.Kind != yaml.SequenceNode {
		hint := ""
		if single {
			hint = "a single value is also accepted"
		}
		d.errorf(n, hint, "%s must be a list", what)
		return nil, nil
	}
	out := make([]string, 0, len(n.Content))
	nodes := make([]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		c = resolve(c)
		if d.scalar(c, what+" entries") {
			out = append(out, c.Value)
			nodes = append(nodes, c)
		}
	}
	return out, nodes
}

// stringMap reads a mapping of scalars, keeping source order in keys.
func (d *decoder) stringMap(n *yaml.Node, what string) (map[string]string, []string) {
	f, ok := d.mapping(n, what, nil)
	if !ok {
		return nil, nil
	}
	out := make(map[string]string, len(f.keys))
	for _, k := range f.keys {
		out[k] = d.str(f.get(k), what+"."+k)
	}
	return out, f.keys
}
