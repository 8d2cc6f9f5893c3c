package runbook

// storeRules are LS6xx: store-specific hazards.
func storeRules() []Rule {
	return []Rule{
		{Code: "LS601", Summary: "a sql step targets an environment whose store is not SQL", Guideline: 3,
			Hint:    "run it against a sqlite or postgres store, or give the step with: {path: ...}",
			Explain: "A sql step runs on the environment's SQL store. In an environment whose store is DynamoDB it fails at run time; the runbook is not reproducible in that environment.",
			check:   (*linter).sqlOnNoSQL},
		{Code: "LS602", Summary: "a protected environment shares its store with another environment", Guideline: 3,
			Hint:    "point each environment at its own table or database",
			Explain: "A rehearsal against an environment that shares production's table changes production: the rehearsal is not a rehearsal, and its throughput is not a measure.",
			check:   (*linter).sharedStore},
		{Code: "LS603", Summary: "a protected environment with a migrate step has no max_write_rate", Guideline: 2,
			Hint:    "max_write_rate: N (items/s the store absorbs next to live traffic)",
			Explain: "Unbounded, a migration writes as fast as the store accepts: it throttles or slows the live application and consumes the capacity other writers need.",
			check:   (*linter).writeRate},
	}
}

func (l *linter) sqlOnNoSQL() {
	for _, s := range l.steps() {
		if s.Kind != KindSQL || s.SQL == nil || s.SQL.Path != "" {
			continue
		}
		for _, e := range l.rb.Environments {
			if e.Store != nil && e.Store.Kind == "dynamodb" {
				l.report("LS601", s.Pos, s.ID, "sql step %q cannot run in environment %q: its store is dynamodb", s.ID, e.Name)
			}
		}
	}
}

// storeID identifies a store's data as written in the runbook.
func storeID(s *StoreSpec) string {
	return s.Kind + "|" + s.Path + "|" + s.DSN + "|" + s.Schema + "|" + s.Endpoint + "|" + s.Region + "|" + s.Table
}

func (l *linter) sharedStore() {
	for _, p := range l.protectedEnvs() {
		if p.Store == nil {
			continue
		}
		for _, e := range l.rb.Environments {
			if e != p && e.Store != nil && storeID(e.Store) == storeID(p.Store) {
				l.report("LS602", p.Pos, "", "protected environment %q uses the same store as %q", p.Name, e.Name)
			}
		}
	}
}

func (l *linter) writeRate() {
	if l.first(KindMigrate) < 0 {
		return
	}
	for _, e := range l.protectedEnvs() {
		if e.Store != nil && e.MaxWriteRate == 0 {
			l.report("LS603", e.Pos, "", "protected environment %q has no max_write_rate", e.Name)
		}
	}
}
