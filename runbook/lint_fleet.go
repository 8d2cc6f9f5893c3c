package runbook

// fleetRules are the LS6xx rules of fleet mode.
func fleetRules() []Rule {
	return []Rule{
		{Code: "LS604", Summary: "a fleet is declared for a store that is not DynamoDB", Guideline: 3,
			Hint:    "remove fleet: here, or run the step against a dynamodb store",
			Explain: "Fleet workers split a DynamoDB parallel scan into segments claimed in a DynamoDB control table. On a SQL store there is no segment scan to share: the step would fail when it starts in that environment.",
			check:   (*linter).fleetOnNoDynamo},
	}
}

func (l *linter) fleetOnNoDynamo() {
	for _, e := range l.rb.Environments {
		if e.Fleet != nil && e.Store != nil && e.Store.Kind != StoreDynamoDB {
			l.report("LS604", e.Fleet.Pos, "", "environment %q declares a fleet but its store is %s", e.Name, e.Store.Kind)
		}
	}
	for _, s := range l.steps() {
		if s.Kind != KindMigrate || s.Migrate == nil || s.Migrate.Fleet == nil {
			continue
		}
		for _, e := range l.rb.Environments {
			if e.Store != nil && e.Store.Kind != StoreDynamoDB {
				l.report("LS604", s.Migrate.Fleet.Pos, s.ID, "migrate step %q runs on a fleet, which environment %q (%s) cannot host", s.ID, e.Name, e.Store.Kind)
			}
		}
	}
}
