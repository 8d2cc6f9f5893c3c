package runbook

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	phaseKeys = []string{"name", "requires", "steps"}
	stepKeys  = []string{"id", "kind", "text", "checklist", "with", "rollback", "idempotent",
		"timeout", "requires", "destructive", "when", "lint"}
	// notInRollback are the step keys a rollback step may not have: it takes
	// its id from its step, runs when rolled back, and has no rollback itself.
	notInRollback = map[string]string{"id": "its id is the step's id + " + RollbackSuffix,
		"requires": "it runs when its step is rolled back", "rollback": "a rollback has no rollback"}
	kindNames = func() []string {
		out := make([]string, len(Kinds))
		for i, k := range Kinds {
			out[i] = string(k)
		}
		return out
	}()
)

// MaxSteps bounds the steps of a runbook (aliases could otherwise repeat
// phases of steps without end).
const MaxSteps = 2000

// RollbackSuffix is appended to a step's id to form its rollback step's id.
const RollbackSuffix = ".rollback"

// phases decodes the `phases:` list.
func (d *decoder) phases(n *yaml.Node) []*Phase {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.errorf(n, "", "phases must be a non-empty list")
		return nil
	}
	out := make([]*Phase, 0, len(n.Content))
	for _, pn := range n.Content {
		d.phaseIdx = len(out)
		if p := d.decodePhase(resolve(pn)); p != nil {
			out = append(out, p)
		}
	}
	return out
}

// decodePhase decodes one phase.
func (d *decoder) decodePhase(n *yaml.Node) *Phase {
	p := &Phase{Pos: d.pos(n)}
	f, ok := d.mapping(n, "phase", phaseKeys)
	if !ok {
		return nil
	}
	d.require(f, "phase", "name", "steps")
	if v := f.get("name"); v != nil {
		p.Name = d.nonEmpty(v, "phase name")
	}
	if v := f.get("requires"); v != nil {
		var nodes []*yaml.Node
		p.Requires, nodes = d.listNodes(v, "phase requires", true)
		for i, name := range p.Requires {
			d.refer(refPhase, name, nodes[i])
		}
	}
	if v := f.get("steps"); v != nil {
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			d.errorf(v, "", "phase steps must be a non-empty list")
			return p
		}
		for _, sn := range v.Content {
			if d.stepIdx >= MaxSteps {
				d.errorf(sn, "split the runbook", "more than %d steps", MaxSteps)
				return p
			}
			s := d.step(resolve(sn), "")
			if s == nil {
				continue
			}
			d.stepIdx++
			s.Phase = p.Name
			p.Steps = append(p.Steps, s)
		}
	}
	return p
}

// step decodes a step. A rollback step (of is its step's id, "" for a
// top-level step) gets the id of its step + RollbackSuffix.
func (d *decoder) step(n *yaml.Node, of string) *Step {
	rollback, what := of != "", "step"
	if rollback {
		what = "rollback step"
	}
	defer func(was bool) { d.inRollback = was }(d.inRollback)
	d.inRollback = rollback
	f, ok := d.mapping(n, what, stepKeys)
	if !ok {
		return nil
	}
	if rollback {
		for _, k := range f.keys {
			if hint, no := notInRollback[k]; no {
				d.errorf(f.by[k].key, hint, "a rollback step takes no %q", k)
				delete(f.by, k)
			}
		}
	}
	s := &Step{Pos: d.pos(f.node)}
	if rollback {
		s.ID = of + RollbackSuffix
		d.require(f, what, "kind")
	} else {
		d.require(f, what, "id", "kind")
	}
	if v := f.get("id"); v != nil {
		s.ID = d.nonEmpty(v, "step id")
		if s.ID != "" && !stepIDRe().MatchString(s.ID) {
			d.errorf(v, "use letters, digits, '-' and '_'", "invalid step id %q", s.ID)
		}
	}
	if v := f.get("kind"); v != nil {
		s.Kind = Kind(d.str(v, "kind"))
		if s.Kind != "" && !slices.Contains(kindNames, string(s.Kind)) {
			d.errorf(v, orElse(didYouMean(string(s.Kind), kindNames), "one of "+strings.Join(kindNames, ", ")), "unknown step kind %q", s.Kind)
		}
	}
	d.stepCommon(s, f)
	d.spec(s, f.get("with"), f.node)
	if v := f.get("rollback"); v != nil {
		s.Rollback = d.step(v, orElse(s.ID, "?"))
	}
	return s
}

// stepCommon decodes the keys every kind shares.
func (d *decoder) stepCommon(s *Step, f fields) {
	s.Idempotent = DefaultIdempotent(s.Kind)
	if v := f.get("text"); v != nil {
		s.Text = d.str(v, "text")
	}
	if v := f.get("checklist"); v != nil {
		s.Checklist = d.list(v, "checklist", false)
	}
	if v := f.get("idempotent"); v != nil {
		s.Idempotent = d.boolean(v, "idempotent")
	}
	if v := f.get("timeout"); v != nil {
		s.Timeout = d.duration(v, "timeout")
	}
	if v := f.get("requires"); v != nil {
		var nodes []*yaml.Node
		s.Requires, nodes = d.listNodes(v, "requires", true)
		for i, id := range s.Requires {
			d.refer(refStep, id, nodes[i])
		}
	}
	if v := f.get("destructive"); v != nil {
		s.Destructive = d.boolean(v, "destructive")
	}
	if v := f.get("when"); v != nil {
		s.When = d.expr(v, "when")
	}
	if v := f.get("lint"); v != nil {
		s.Lint = d.lintSpec(v, "step lint")
	}
}

// DefaultIdempotent reports whether a step of kind may be re-run after a
// crash without asking, when it does not say `idempotent:`. Shell, SQL and
// notify steps (side effects outside lockstep's control) and the human
// steps default to false; the data steps, which are idempotent by
// construction, default to true.
func DefaultIdempotent(kind Kind) bool {
	switch kind {
	case KindEstimate, KindBackup, KindRestoreDrill, KindRestore, KindMigrate, KindVerify,
		KindLock, KindUnlock, KindWait:
		return true
	}
	return false
}
