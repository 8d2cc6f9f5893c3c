package runbook

import (
	"fmt"
	"slices"
)

// cleanupPhases are the phase names where a multi-step runbook may remove
// attributes (the "contract" of expand/contract).
var cleanupPhases = []string{"cleanup", "contract"}

// Lint returns advisory findings on a valid runbook, sorted by position.
// They are warnings: the runbook runs, but departs from the method of
// DESIGN.md (backups before writes, verification before removal, …).
func Lint(rb *Runbook) []*Error {
	l := &linter{rb: rb}
	l.strategy()
	l.environments()
	l.steps()
	es := Errors(l.out)
	es.Sort()
	return es
}

// linter collects warnings.
type linter struct {
	rb  *Runbook
	out []*Error
}

func (l *linter) warn(p Pos, hint, format string, args ...any) {
	l.out = append(l.out, &Error{Pos: p, Msg: fmt.Sprintf(format, args...), Hint: hint, Severity: SeverityWarning})
}

// top is the position of the runbook's first line.
func (l *linter) top() Pos { return Pos{File: orElse(l.rb.file, l.rb.Path), Line: 1, Col: 1} }

func (l *linter) strategy() {
	if l.rb.Strategy == "" {
		l.warn(l.top(), "strategy: big-bang or multi-step", "no strategy chosen for the transition state")
	}
	if l.rb.Strategy != "big-bang" {
		return
	}
	for _, s := range l.rb.Steps() {
		if s.Kind == KindLock {
			return
		}
	}
	l.warn(l.top(), "add a lock step before the migration", "big-bang runbook without a lock step")
}

func (l *linter) environments() {
	if len(l.rb.Environments) == 0 {
		l.warn(l.top(), "environments: {local: {store: {...}}}", "no environments: lockstep run needs --env ENV")
	}
	for _, e := range l.rb.Environments {
		if e.Protected && e.Window == nil {
			l.warn(e.Pos, "window: {days: [...], from: \"22:00\", to: \"02:00\", tz: ...}", "protected environment %q has no window", e.Name)
		}
		if e.Store == nil && l.needsStore() {
			l.warn(e.Pos, "data steps need store: {kind: ..., ...}", "environment %q has no store", e.Name)
		}
	}
}

func (l *linter) steps() {
	phaseOf := map[string]*Phase{}
	for _, p := range l.rb.Phases {
		for _, s := range p.Steps {
			phaseOf[s.ID] = p
		}
	}
	seen := map[Kind]bool{}
	for i, s := range l.rb.Steps() {
		p := phaseOf[s.ID]
		if s.Destructive && len(p.Requires) == 0 {
			l.warn(s.Pos, "requires: [verify] on the phase", "destructive step %q is in phase %q, which requires no earlier phase", s.ID, p.Name)
		}
		if s.Kind == KindMigrate {
			l.migrate(s, p, seen, l.rb.Steps()[i+1:])
		}
		if s.Kind == KindNotify {
			l.recipients(s)
		}
		if s.Kind == KindBackup && !l.later(l.rb.Steps()[i+1:], KindRestoreDrill) {
			l.warn(s.Pos, "add a restore-drill step from it", "backup %q is never restored in a drill", s.ID)
		}
		seen[s.Kind] = true
	}
}

// migrate checks one migrate step.
func (l *linter) migrate(s *Step, p *Phase, seen map[Kind]bool, after []*Step) {
	m := s.Migrate
	if !seen[KindBackup] {
		l.warn(s.Pos, "add a backup step before it", "migrate step %q has no backup before it", s.ID)
	}
	if (len(m.Set) > 0 || len(m.Rename) > 0 || len(m.Transform) > 0) && !l.later(after, KindVerify) {
		l.warn(s.Pos, "add a verify step after it", "migrate step %q is never verified", s.ID)
	}
	if len(m.Remove) > 0 && !s.Destructive {
		l.warn(s.Pos, "destructive: true asks for extra confirmation", "migrate step %q removes attributes but is not destructive", s.ID)
	}
	if len(m.Remove) > 0 && l.rb.Strategy == "multi-step" && !slices.Contains(cleanupPhases, p.Name) {
		l.warn(s.Pos, "remove old attributes in a cleanup phase that requires verify", "multi-step runbook removes attributes in phase %q", p.Name)
	}
	if s.Rollback == nil && !s.Destructive {
		l.warn(s.Pos, "rollback: a down migration, or the backup as plan B", "migrate step %q has no rollback", s.ID)
	}
}

// recipients flags notify recipients that look like a misspelt role.
func (l *linter) recipients(s *Step) {
	for _, to := range s.Notify.To {
		if slices.Contains(roleNames, to) {
			if len(l.rb.Roles.Holders(to)) == 0 {
				l.warn(s.Pos, "name its holders under roles:", "notify step %q: role %q has no holders", s.ID, to)
			}
			continue
		}
		if hint := didYouMean(to, roleNames); hint != "" {
			l.warn(s.Pos, hint, "notify step %q: %q is not a role", s.ID, to)
		}
	}
}

// needsStore reports whether a step works on the environment's store.
func (l *linter) needsStore() bool {
	for _, s := range l.rb.Steps() {
		switch s.Kind {
		case KindEstimate, KindBackup, KindRestoreDrill, KindMigrate, KindVerify, KindLock, KindUnlock:
			return true
		}
	}
	return false
}

// later reports whether a step of kind is among steps.
func (l *linter) later(steps []*Step, kind Kind) bool {
	for _, s := range steps {
		if s.Kind == kind {
			return true
		}
	}
	return false
}
