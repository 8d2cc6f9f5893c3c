package runbook

import (
	"fmt"
	"slices"
	"strings"
)

// validate checks what spans the whole runbook: unique step ids and phase
// names, and every cross-reference recorded while decoding.
func validate(d *decoder, rb *Runbook) {
	steps := rb.Steps()
	stepAt := map[string]int{}
	for i, s := range steps {
		if s.ID == "" {
			continue
		}
		if j, dup := stepAt[s.ID]; dup {
			d.errs = append(d.errs, &Error{Pos: s.Pos, Msg: fmt.Sprintf("duplicate step id %q", s.ID),
				Hint: "first at " + shortPos(steps[j].Pos), Severity: SeverityError})
			continue
		}
		stepAt[s.ID] = i
	}
	phaseAt := map[string]int{}
	for i, p := range rb.Phases {
		if p.Name == "" {
			continue
		}
		if j, dup := phaseAt[p.Name]; dup {
			d.errs = append(d.errs, &Error{Pos: p.Pos, Msg: fmt.Sprintf("duplicate phase %q", p.Name),
				Hint: "first at " + shortPos(rb.Phases[j].Pos), Severity: SeverityError})
			continue
		}
		phaseAt[p.Name] = i
	}
	v := &validator{d: d, rb: rb, steps: steps, stepAt: stepAt, phaseAt: phaseAt}
	for _, r := range d.refs {
		v.check(r)
	}
}

// validator resolves cross-references against the decoded runbook.
type validator struct {
	d       *decoder
	rb      *Runbook
	steps   []*Step
	stepAt  map[string]int
	phaseAt map[string]int
}

// check resolves one reference.
func (v *validator) check(r ref) {
	switch r.kind {
	case refStep:
		v.earlier(r, v.stepAt, "step", v.stepIDs())
	case refPhase:
		v.earlier(r, v.phaseAt, "phase", v.phaseNames())
	case refBackup:
		if v.earlier(r, v.stepAt, "step", v.backupIDs()) {
			if s := v.steps[v.stepAt[r.name]]; s.Kind != KindBackup {
				v.d.errorf(r.node, "", "step %q is a %s step, not a backup", r.name, s.Kind)
			}
		}
	case refRole:
		switch {
		case !slices.Contains(roleNames, r.name):
			v.d.errorf(r.node, orElse(didYouMean(r.name, roleNames), strings.Join(roleNames, ", ")), "unknown role %q", r.name)
		case len(v.rb.Roles.Holders(r.name)) == 0:
			v.d.errorf(r.node, "name its holders under roles:", "role %q has no holders", r.name)
		}
	case refResult, refVar, refEnvField:
		v.checkName(r)
	case refWrite:
		for _, va := range v.versionAttrs() {
			if r.name == va {
				v.d.errorf(r.node, "lockstep sets it to the runbook version", "migrate must not change the version attribute %q", va)
			}
		}
	}
}

// earlier reports whether r names an entry of at that comes before r.at.
func (v *validator) earlier(r ref, at map[string]int, what string, candidates []string) bool {
	i, ok := at[r.name]
	switch {
	case !ok:
		v.d.errorf(r.node, didYouMean(r.name, candidates), "unknown %s %q", what, r.name)
	case i >= r.at && r.kind == refPhase:
		v.d.errorf(r.node, "requires names earlier phases", "phase %q is not before this one", r.name)
	case i > r.at || (i == r.at && r.kind != refBackup):
		v.d.errorf(r.node, "only earlier steps can be named", "step %q is not before this one", r.name)
	default:
		return true
	}
	return false
}

// versionAttrs lists the version attribute of every environment's store.
func (v *validator) versionAttrs() []string {
	seen := map[string]bool{orElse(v.rb.VersionAttribute, DefaultVersionAttribute): true}
	for _, e := range v.rb.Environments {
		if e.Store != nil && e.Store.VersionAttribute != "" {
			seen[e.Store.VersionAttribute] = true
		}
	}
	return sortedKeys(seen)
}

func (v *validator) stepIDs() []string {
	out := make([]string, 0, len(v.steps))
	for _, s := range v.steps {
		out = append(out, s.ID)
	}
	return out
}

func (v *validator) backupIDs() []string {
	var out []string
	for _, s := range v.steps {
		if s.Kind == KindBackup {
			out = append(out, s.ID)
		}
	}
	return out
}

func (v *validator) phaseNames() []string {
	out := make([]string, 0, len(v.rb.Phases))
	for _, p := range v.rb.Phases {
		out = append(out, p.Name)
	}
	return out
}

// shortPos renders a position without its file, as line:col.
func shortPos(p Pos) string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }
