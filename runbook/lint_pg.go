package runbook

import "slices"

// Finding is one finding of a rule checked outside this package (see
// Rule.WithCheck): where, for which top-level step ("" for the runbook),
// what, and a hint that replaces the rule's when not empty.
type Finding struct {
	Pos  Pos
	Step string
	Msg  string
	Hint string
}

// WithCheck returns r checking each runbook with find. It lets a package
// that must not be imported here (a SQL parser, say) contribute coded
// rules: its findings are suppressed, sorted and enforced like the
// built-in ones.
func (r Rule) WithCheck(find func(*Runbook) []Finding) Rule {
	code, hint := r.Code, r.Hint
	r.check = func(l *linter) {
		for _, f := range find(l.rb) {
			l.reportHint(code, f.Pos, f.Step, orElse(f.Hint, hint), "%s", f.Msg)
		}
	}
	return r
}

// With returns a new table holding rs's rules and extra. A code already
// in rs panics, as in DefaultRules.
func (rs *Rules) With(extra ...Rule) *Rules {
	return newRules(slices.Concat(rs.list, extra))
}

// GatedOnVerify reports whether the top-level step id sits in a contract
// phase gated on verification: a cleanup phase, or one holding a
// destructive step, whose requires names a phase that verifies (the same
// test as LS501 and LS504).
func (rb *Runbook) GatedOnVerify(id string) bool {
	l := &linter{rb: rb}
	p := l.phaseOf()[id]
	if p == nil || !l.contracts(p) {
		return false
	}
	verifies := l.verifyingPhases()
	return slices.ContainsFunc(p.Requires, func(r string) bool { return verifies[r] })
}
