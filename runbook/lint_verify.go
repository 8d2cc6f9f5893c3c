package runbook

import "slices"

// verifyRules are LS5xx: verification before contract, final checks.
func verifyRules() []Rule {
	return []Rule{
		{Code: "LS501", Summary: "a destructive step is in a phase that requires no earlier phase", Guideline: 6,
			Hint:    "requires: [verify] on the phase",
			Explain: "Old data is removed only after complete validation. A phase's `requires:` makes lockstep refuse to start it until the phases it names completed; without it a destructive step can run before anything was checked.",
			check:   (*linter).destructivePhase},
		{Code: "LS502", Summary: "a migrate step is never verified", Guideline: 6,
			Hint:    "add a verify step after it",
			Explain: "A migration is done when a verify step found no item left to migrate and the sampled items pass their assertions, not when the scan ended. A copy into a new table (`into`) is done when a verify step's `copy` check found every item under its new key.",
			check:   (*linter).migrateVerified},
		{Code: "LS503", Summary: "a multi-step runbook removes attributes outside a cleanup phase", Guideline: 2,
			Hint:    "remove old attributes in a cleanup phase that requires verify",
			Explain: "Expand/contract keeps both shapes valid while data moves: the old attribute goes only in the contract (cleanup) phase, once readers moved and the data is verified.",
			check:   (*linter).removeOutsideCleanup},
		{Code: "LS504", Summary: "a cleanup phase or destructive step is not gated on a verify phase", Guideline: 6,
			Hint:    "requires: [verify] (the phase named verify or holding the verify step), not only the backup",
			Explain: "A contract gated on `backup` starts as soon as the backup is taken, even if the migration was never verified: old data is removed on the strength of an unchecked migration.",
			check:   (*linter).contractGate},
		{Code: "LS505", Summary: "a shell or sql step writes and nothing verifies it", Guideline: 6,
			Hint:    "add a verify step (or a read-only sql/shell check) after it",
			Explain: "A script migration needs the same final check as a migrate step: something after it that proves the data reached its new shape.",
			check:   (*linter).scriptVerified},
	}
}

func (l *linter) destructivePhase() {
	phaseOf := l.phaseOf()
	for _, s := range l.steps() {
		if p := phaseOf[s.ID]; s.Destructive && p != nil && len(p.Requires) == 0 {
			l.report("LS501", s.Pos, s.ID, "destructive step %q is in phase %q, which requires no earlier phase", s.ID, p.Name)
		}
	}
}

// verifiedAfter reports whether a verify step follows index i.
func (l *linter) verifiedAfter(i int) bool {
	for _, s := range l.steps()[i+1:] {
		if s.Kind == KindVerify {
			return true
		}
	}
	return false
}

// copyVerifiedAfter reports whether a verify step checking the copy made
// by step id follows index i.
func (l *linter) copyVerifiedAfter(i int, id string) bool {
	for _, s := range l.steps()[i+1:] {
		if s.Kind == KindVerify && s.Verify != nil && s.Verify.Copy == id {
			return true
		}
	}
	return false
}

func (l *linter) migrateVerified() {
	for i, s := range l.steps() {
		if s.Kind != KindMigrate || s.Migrate == nil {
			continue
		}
		m := s.Migrate
		if m.Copy() {
			if !l.copyVerifiedAfter(i, s.ID) {
				l.report("LS502", s.Pos, s.ID, "the copy of migrate step %q is never verified (no verify step with copy: %s after it)", s.ID, s.ID)
			}
			continue
		}
		if (len(m.Set) > 0 || len(m.Rename) > 0 || len(m.Transform) > 0) && !l.verifiedAfter(i) {
			l.report("LS502", s.Pos, s.ID, "migrate step %q is never verified", s.ID)
		}
	}
}

func (l *linter) removeOutsideCleanup() {
	if l.rb.Strategy != "multi-step" {
		return
	}
	phaseOf := l.phaseOf()
	for _, s := range l.steps() {
		p := phaseOf[s.ID]
		// A copy's remove drops attributes from the new table's items only.
		if s.Kind == KindMigrate && s.Migrate != nil && !s.Migrate.Copy() && len(s.Migrate.Remove) > 0 && p != nil && !slices.Contains(cleanupPhases, p.Name) {
			l.report("LS503", s.Pos, s.ID, "multi-step runbook removes attributes in phase %q", p.Name)
		}
	}
}

// contractGate flags a cleanup phase, or a phase with a destructive step,
// whose requires name phases but none that verifies.
func (l *linter) contractGate() {
	verifies := l.verifyingPhases()
	for _, p := range l.rb.Phases {
		if len(p.Requires) == 0 || !l.contracts(p) {
			continue // LS501 covers a phase that requires nothing
		}
		if !slices.ContainsFunc(p.Requires, func(r string) bool { return verifies[r] }) {
			l.report("LS504", p.Pos, "", "phase %q removes data but requires %v, where nothing is verified", p.Name, p.Requires)
		}
	}
}

// verifyingPhases returns the names of the phases that verify: those
// holding a verify step, and the one named verify (a removal-only
// runbook verifies by hand: readers gone, checklists).
func (l *linter) verifyingPhases() map[string]bool {
	verifies := map[string]bool{"verify": true}
	for _, p := range l.rb.Phases {
		for _, s := range p.Steps {
			if s.Kind == KindVerify {
				verifies[p.Name] = true
			}
		}
	}
	return verifies
}

// contracts reports whether phase p removes data: a cleanup phase or a
// destructive step in it.
func (l *linter) contracts(p *Phase) bool {
	if slices.Contains(cleanupPhases, p.Name) {
		return true
	}
	return slices.ContainsFunc(p.Steps, func(s *Step) bool { return s.Destructive })
}

func (l *linter) scriptVerified() {
	steps := l.steps()
	for i, s := range steps {
		if !scriptWrites(s) || s.Destructive {
			continue
		}
		checked := slices.ContainsFunc(steps[i+1:], func(t *Step) bool {
			return t.Kind == KindVerify || ((t.Kind == KindSQL || t.Kind == KindShell) && !writes(t))
		})
		if !checked {
			l.report("LS505", s.Pos, s.ID, "%s step %q writes and no later step verifies it", s.Kind, s.ID)
		}
	}
}
