package runbook

import (
	"strings"
)

// writeRules are LS2xx: the safety of the writes themselves.
func writeRules() []Rule {
	return []Rule{
		{Code: "LS201", Summary: "a migrate step removes attributes but is not destructive", Guideline: 6,
			Hint:    "destructive: true asks for extra confirmation",
			Explain: "Removing attributes loses data that only a backup can bring back. A destructive step asks the operator to confirm by typing its id, so it never runs by a stray keypress.",
			check:   (*linter).removeNotDestructive},
		{Code: "LS202", Summary: "a big-bang runbook has no lock step", Guideline: 2,
			Hint:    "add a lock step before the migration",
			Explain: "Big-bang means the backend is locked while data moves: without a lock step another session, or the application, can write to the items being migrated.",
			check:   (*linter).bigBangLock},
		{Code: "LS203", Summary: "a sql statement is not idempotent and nothing guards it", Guideline: 3,
			Hint:    "guard it with a WHERE on the version (WHERE v < 3 … SET v = 3), use INSERT … ON CONFLICT, or move it to a migrate step",
			Explain: "A sql step is re-run after a crash or a retry. `UPDATE t SET counter = counter + 1` with no WHERE, or a plain INSERT, applies twice when it is re-run: the data is silently wrong. A statement must reach the same result however often it runs. A step with a `when:` guard is not flagged: the guard is what decides whether it runs again.",
			check:   (*linter).sqlIdempotent},
		{Code: "LS204", Summary: "a step drops or deletes data but is not destructive", Guideline: 6,
			Hint:    "destructive: true, in a phase that requires verify",
			Explain: "DROP, TRUNCATE, a DELETE without WHERE or `rm -rf` cannot be undone without a backup. Marking the step destructive asks the operator to confirm it and lets lint check that it waits for verification.",
			check:   (*linter).destructiveStatements},
		{Code: "LS205", Summary: "a big-bang runbook writes outside its lock", Guideline: 2,
			Hint:    "move the write between the lock and unlock steps",
			Explain: "In a big-bang migration the lock is what keeps the application out while data moves. A write before the lock or after the unlock races with live traffic.",
			check:   (*linter).writeOutsideLock},
	}
}

func (l *linter) removeNotDestructive() {
	for _, s := range l.steps() {
		if s.Kind == KindMigrate && s.Migrate != nil && len(s.Migrate.Remove) > 0 && !s.Destructive {
			l.report("LS201", s.Pos, s.ID, "migrate step %q removes attributes but is not destructive", s.ID)
		}
	}
}

func (l *linter) bigBangLock() {
	if l.rb.Strategy == "big-bang" && l.first(KindLock) < 0 {
		l.report("LS202", l.top(), "", "big-bang runbook without a lock step")
	}
}

var (
	// selfIncrement matches `x = x + …` / `x = x - …` / `x = x || …`.
	selfIncrement = lazyRegexp(`(?i)\b([a-z_][a-z0-9_]*)\s*=\s*([a-z_][a-z0-9_]*\.)?([a-z_][a-z0-9_]*)\s*(\+|-|\|\|)`)
	whereClause   = lazyRegexp(`(?i)\bwhere\b`)
	plainInsert   = lazyRegexp(`(?i)^\s*insert\s+into\b`)
	conflictSafe  = lazyRegexp(`(?i)\bon\s+conflict\b|^\s*insert\s+or\s+(ignore|replace)\b|\bwhere\s+not\s+exists\b`)
	dropStatement = lazyRegexp(`(?i)^\s*(drop\s+(table|column|index)|truncate\b|alter\s+table\s+\S+\s+drop\b)`)
	deleteAll     = lazyRegexp(`(?i)^\s*delete\s+from\s+\S+\s*;?\s*$`)
	rmRecursive   = lazyRegexp(`\brm\s+-[a-zA-Z]*r`)
	queryStart    = lazyRegexp(`(?i)^\s*(select|with|pragma|explain)\b`)
	writeWord     = lazyRegexp(`(?i)\b(update|insert|delete|drop|alter|create)\b`)
)

// nonIdempotent returns why stmt applies twice when re-run, or "".
func nonIdempotent(stmt string) string {
	if m := selfIncrement().FindStringSubmatch(stmt); m != nil && strings.EqualFold(m[1], m[3]) && !whereClause().MatchString(stmt) {
		return "sets " + m[1] + " from itself"
	}
	if plainInsert().MatchString(stmt) && !conflictSafe().MatchString(stmt) {
		return "inserts without ON CONFLICT"
	}
	return ""
}

func (l *linter) sqlIdempotent() {
	for _, s := range l.steps() {
		if s.Kind != KindSQL || s.SQL == nil || s.When != nil {
			continue
		}
		for _, st := range s.SQL.Statements {
			if why := nonIdempotent(st); why != "" {
				l.report("LS203", s.Pos, s.ID, "sql step %q: %q %s: a re-run applies it twice", s.ID, st, why)
			}
		}
	}
}

func (l *linter) destructiveStatements() {
	for _, s := range l.steps() {
		if s.Destructive {
			continue
		}
		for _, cmd := range commandsOf(s) {
			if dropStatement().MatchString(cmd) || deleteAll().MatchString(cmd) || (s.Kind == KindShell && rmRecursive().MatchString(cmd)) {
				l.report("LS204", s.Pos, s.ID, "%s step %q destroys data (%q) but is not destructive", s.Kind, s.ID, cmd)
				break
			}
		}
	}
}

// commandsOf returns a shell step's command or a sql step's statements.
func commandsOf(s *Step) []string {
	switch {
	case s.Kind == KindSQL && s.SQL != nil:
		return s.SQL.Statements
	case s.Kind == KindShell && s.Shell != nil:
		if s.Shell.Run != "" {
			return []string{s.Shell.Run}
		}
		return []string{strings.Join(s.Shell.Argv, " ")}
	}
	return nil
}

func (l *linter) writeOutsideLock() {
	if l.rb.Strategy != "big-bang" {
		return
	}
	lock, unlock := l.first(KindLock), l.first(KindUnlock)
	if lock < 0 {
		return // LS202
	}
	for i, s := range l.steps() {
		if writes(s) && (i < lock || (unlock >= 0 && i > unlock)) {
			l.report("LS205", s.Pos, s.ID, "step %q writes outside the lock of this big-bang runbook", s.ID)
		}
	}
}

// writes reports whether a step changes data: a migrate step, a sql step
// with a statement that is not a query, or a shell step (unless it is
// declared safe to run in a dry-run, `dry_run: run`).
func writes(s *Step) bool {
	switch s.Kind {
	case KindMigrate:
		return true
	case KindSQL:
		if s.SQL == nil {
			return false
		}
		for _, st := range s.SQL.Statements {
			if !queryStart().MatchString(st) || writeWord().MatchString(st) {
				return true
			}
		}
	case KindShell:
		return s.Shell == nil || s.Shell.DryRun != "run"
	}
	return false
}

// scriptWrites reports whether s writes through a script (shell or sql).
func scriptWrites(s *Step) bool { return (s.Kind == KindShell || s.Kind == KindSQL) && writes(s) }

// first returns the index of the first step of kind, or -1.
func (l *linter) first(kind Kind) int {
	for i, s := range l.steps() {
		if s.Kind == kind {
			return i
		}
	}
	return -1
}

// firstWrite returns the index of the first writing step, or -1.
func (l *linter) firstWrite() int {
	for i, s := range l.steps() {
		if writes(s) {
			return i
		}
	}
	return -1
}

// phaseOf maps step ids to their phase.
func (l *linter) phaseOf() map[string]*Phase {
	out := map[string]*Phase{}
	for _, p := range l.rb.Phases {
		for _, s := range p.Steps {
			out[s.ID] = p
		}
	}
	return out
}
