package runbook

// rollbackRules are LS3xx: rollback, backups and restore drills.
func rollbackRules() []Rule {
	return []Rule{
		{Code: "LS301", Summary: "a migrate step has no backup before it", Guideline: 5,
			Hint:    "add a backup step before it",
			Explain: "A migration that goes wrong without a backup can only be repaired by hand, item by item. The backup is the plan B of every write.",
			check:   (*linter).migrateBackup},
		{Code: "LS302", Summary: "a backup is never restored in a drill", Guideline: 5,
			Hint:    "add a restore-drill step from it",
			Explain: "A backup that was never restored is a hope, not a plan: the drill proves it restorable (count and checksum) before anything is changed.",
			check:   (*linter).backupDrill},
		{Code: "LS303", Summary: "a migrate step has no rollback", Guideline: 5,
			Hint:    "rollback: a down migration, or the backup as plan B: {kind: restore, with: {from: BACKUP}}",
			Explain: "Without a rollback, undoing the migration under pressure means improvising. A down migration (or restoring the backup, written as the step's rollback) makes the way back part of the protocol.",
			check:   (*linter).migrateRollback},
		{Code: "LS304", Summary: "a shell or sql step writes with no backup before it", Guideline: 5,
			Hint:    "add a backup (and its restore-drill) step before it",
			Explain: "A script that changes data is as risky as a migrate step, and lockstep cannot guard its writes: a backup taken before it is the only way back.",
			check:   (*linter).scriptBackup},
		{Code: "LS305", Summary: "a shell or sql step writes with no rollback", Guideline: 5,
			Hint:    "rollback: {kind: shell|sql, ...} that undoes it, or a manual step that restores the backup",
			Explain: "Every writing step needs a way back written in advance: a down script, or restoring the backup. Destructive steps are exempt (their way back is the backup).",
			check:   (*linter).scriptRollback},
		{Code: "LS306", Summary: "a restore drill runs after the data was changed", Guideline: 5,
			Hint:    "move the restore-drill right after its backup, before the first write",
			Explain: "The drill proves the backup restorable. Run after the first write, a failed drill is discovered when the data has already changed and there is no proven way back.",
			check:   (*linter).drillOrder},
		{Code: "LS307", Summary: "a restore undoes a migrate step it cannot recompute", Guideline: 5,
			Hint:    "use a down migration, or restore: {native: true} into a new table",
			Explain: "A restore puts an item back only if it is still exactly what the migration wrote, which it knows by running the migration's where and set again on the backed-up item. An external transform cannot be run again that way, so the restore would refuse to start exactly when it is needed.",
			check:   (*linter).restoreRecomputable},
	}
}

func (l *linter) migrateBackup() {
	backup := l.first(KindBackup)
	for i, s := range l.steps() {
		if s.Kind == KindMigrate && (backup < 0 || backup > i) {
			l.report("LS301", s.Pos, s.ID, "migrate step %q has no backup before it", s.ID)
		}
	}
}

func (l *linter) backupDrill() {
	drilled := map[string]bool{}
	for _, s := range l.steps() {
		if s.Kind == KindRestoreDrill && s.RestoreDrill != nil {
			drilled[s.RestoreDrill.From] = true
		}
	}
	for _, s := range l.steps() {
		if s.Kind == KindBackup && !drilled[s.ID] {
			l.report("LS302", s.Pos, s.ID, "backup %q is never restored in a drill", s.ID)
		}
	}
}

func (l *linter) migrateRollback() {
	for _, s := range l.steps() {
		if s.Kind == KindMigrate && s.Rollback == nil && !s.Destructive {
			l.report("LS303", s.Pos, s.ID, "migrate step %q has no rollback", s.ID)
		}
	}
}

func (l *linter) scriptBackup() {
	backup := l.first(KindBackup)
	for i, s := range l.steps() {
		if scriptWrites(s) && (backup < 0 || backup > i) {
			l.report("LS304", s.Pos, s.ID, "%s step %q writes with no backup before it", s.Kind, s.ID)
		}
	}
}

func (l *linter) scriptRollback() {
	for _, s := range l.steps() {
		if scriptWrites(s) && s.Rollback == nil && !s.Destructive {
			l.report("LS305", s.Pos, s.ID, "%s step %q writes with no rollback", s.Kind, s.ID)
		}
	}
}

func (l *linter) drillOrder() {
	w := l.firstWrite()
	if w < 0 {
		return
	}
	for i, s := range l.steps() {
		if s.Kind == KindRestoreDrill && i > w {
			l.report("LS306", s.Pos, s.ID, "restore-drill %q runs after step %q already changed the data", s.ID, l.steps()[w].ID)
		}
	}
}

func (l *linter) restoreRecomputable() {
	var external []string // migrate steps so far with an external transform
	for _, s := range l.steps() {
		if s.Kind == KindMigrate && s.Migrate != nil && len(s.Migrate.Transform) > 0 {
			external = append(external, s.ID)
			if r := s.Rollback; r != nil && r.Kind == KindRestore && r.Restore != nil && !r.Restore.Native {
				l.report("LS307", r.Pos, s.ID, "the rollback of %q restores a backup, but cannot recompute what its external transform wrote", s.ID)
			}
		}
		if s.Kind == KindRestore && s.Restore != nil && !s.Restore.Native && len(external) > 0 {
			l.report("LS307", s.Pos, s.ID, "restore %q cannot recompute what the external transform of %q wrote", s.ID, external[0])
		}
	}
}
