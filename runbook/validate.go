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
	markContracts(d, rb.Version, steps)
	checkIntos(d, rb)
}

// markContracts makes every migrate step after the runbook's first one a
// contract step. The first moves items below the runbook's version to it;
// a later one (a clean-up that removes the old attribute, a second pass)
// would find them all at that version and do nothing, so it works on the
// items at the version instead and leaves it unchanged. Its writes are
// then guarded by the version being equal, not below: applied again after
// a crash they must change nothing, so a contract step may not set an
// attribute it reads, nor run an external transform.
func markContracts(d *decoder, version int, steps []*Step) {
	first := ""
	for _, s := range steps {
		if s.Kind != KindMigrate || s.Migrate == nil || s.Migrate.Copy() {
			continue // a copy writes another table: no contract with this one's steps
		}
		if first == "" {
			first = s.ID
			continue
		}
		m := s.Migrate
		m.After = first
		fix := fmt.Sprintf("do it in %s, or in a runbook of its own with version %d", first, version+1)
		if len(m.Transform) > 0 {
			d.errs = append(d.errs, &Error{Pos: s.Pos, Severity: SeverityError, Hint: fix,
				Msg: fmt.Sprintf("migrate %s runs after %s on items already at version %d, so applying it twice must change nothing; an external transform cannot promise that", s.ID, first, version)})
			continue
		}
		reads := map[string]bool{}
		whole := false
		for _, e := range append([]*Expr{m.Where}, setExprs(m)...) {
			for _, a := range e.Reads() {
				reads[a] = true
			}
			whole = whole || e.UsesWholeItem()
		}
		for _, c := range m.Set {
			if reads[c.Attr] || whole {
				d.errs = append(d.errs, &Error{Pos: c.Expr.Pos, Severity: SeverityError, Hint: fix,
					Msg: fmt.Sprintf("migrate %s runs after %s on items already at version %d, so applying it twice must change nothing; it sets %s from what it reads, which a second time would change it again", s.ID, first, version, c.Attr)})
				break
			}
		}
	}
}

func setExprs(m *MigrateSpec) []*Expr {
	out := make([]*Expr, 0, len(m.Set))
	for _, c := range m.Set {
		out = append(out, c.Expr)
	}
	return out
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
	case refCopy:
		if v.earlier(r, v.stepAt, "step", v.stepIDs()) {
			if s := v.steps[v.stepAt[r.name]]; !s.Migrate.Copy() {
				v.d.errorf(r.node, "copy names a migrate step with into", "step %q is a %s step that copies nothing", r.name, s.Kind)
			}
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
		v.d.errorf(r.node, didYouMeanOrList(r.name, candidates), "unknown %s %q", what, r.name)
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
