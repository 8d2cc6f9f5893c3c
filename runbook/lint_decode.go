package runbook

import (
	"go.yaml.in/yaml/v3"
)

// LintSpec is a `lint:` mapping, at the top of a runbook or on a step.
type LintSpec struct {
	Pos    Pos
	Ignore []Ignore // in source order
}

// Ignore suppresses one lint code where it is written, with a reason.
// An empty Reason or a code that does not fire there is itself a finding
// (LS107, LS108): a suppression must say why, and must still be needed.
type Ignore struct {
	Pos    Pos
	Code   string
	Reason string
}

// lintKeys are the keys of a `lint:` mapping.
var lintKeys = []string{"ignore"}

// codeRe is the shape of a lint code.
var codeRe = lazyRegexp(`^LS[1-6][0-9][0-9]$`)

// lintSpec decodes `lint: {ignore: {CODE: "reason"}}`. A missing or empty
// reason is not a parse error: lint reports it (LS107), so the runbook
// still loads and the operator sees every finding at once.
func (d *decoder) lintSpec(n *yaml.Node, what string) *LintSpec {
	f, ok := d.mapping(n, what, lintKeys)
	if !ok {
		return nil
	}
	spec := &LintSpec{Pos: d.pos(f.node)}
	v := f.get("ignore")
	if v == nil {
		return spec
	}
	ig, ok := d.mapping(v, what+" ignore", nil)
	if !ok {
		return spec
	}
	for _, code := range ig.keys {
		e := ig.by[code]
		if !codeRe().MatchString(code) {
			d.errorf(e.key, "a lint code such as LS203 (lockstep lint --explain CODE)", "%s: %q is not a lint code", what, code)
			continue
		}
		val := resolve(e.val)
		reason := ""
		switch {
		case val == nil || val.Tag == "!!null":
		case val.Kind == yaml.ScalarNode:
			reason = val.Value
		default:
			d.errorf(e.val, `the reason as one string: {LS203: "why it is safe here"}`, "%s: the reason for %s must be a string", what, code)
			continue
		}
		spec.Ignore = append(spec.Ignore, Ignore{Pos: d.pos(e.key), Code: code, Reason: reason})
	}
	return spec
}
