package runbook

import (
	"slices"
	"text/template/parse"
)

// cleanupPhases are the phase names where a multi-step runbook may remove
// attributes (the "contract" of expand/contract).
var cleanupPhases = []string{"cleanup", "contract"}

// structureRules are LS1xx: the runbook's shape and references.
func structureRules() []Rule {
	return []Rule{
		{Code: "LS101", Summary: "no strategy chosen for the transition state", Guideline: 2,
			Hint:    "strategy: big-bang or multi-step",
			Explain: "Without a strategy nobody decided how the service lives through the migration: locked (big-bang) or with both shapes valid (multi-step). Lint then cannot check that removals wait for verification or that writes happen under a lock.",
			check:   (*linter).noStrategy},
		{Code: "LS102", Summary: "the runbook declares no environment", Guideline: 3,
			Hint:    "environments: {local: {store: {...}}}",
			Explain: "`lockstep run` needs `--env ENV`. A runbook with no environment cannot be rehearsed anywhere before production.",
			check:   (*linter).noEnvironments},
		{Code: "LS103", Summary: "an environment has no store although data steps need one", Guideline: 3,
			Hint:    "data steps need store: {kind: ..., ...}",
			Explain: "Estimate, backup, migrate, verify and lock steps work on the environment's store; without one they fail at run time, in the middle of the runbook.",
			check:   (*linter).noStore},
		{Code: "LS104", Summary: "a notify recipient looks like a misspelt role", Guideline: 4,
			Hint:    "name a RACI role: responsible, accountable, consulted or informed",
			Explain: "A misspelt role is sent as a literal recipient: the people who should hear about the migration never do.",
			check:   (*linter).notifyRecipients},
		{Code: "LS105", Summary: "a notify step names a role that has no holders", Guideline: 1,
			Hint:    "name its holders under roles:",
			Explain: "A role nobody holds notifies nobody: the people the protocol meant to tell are missing.",
			check:   (*linter).roleHolders},
		{Code: "LS106", Summary: "a notify template reads a field its data does not have", Guideline: 4,
			Hint:    "fields: .Title .Name .Version .Env .Mode .Operator .Vars .Steps .Estimate .Window (.Start .End .Open)",
			Explain: "A template is rendered only when its step runs: a typo such as {{.Titel}} fails the notify step in production, at the moment stakeholders should be told.",
			check:   (*linter).templateFields},
		{Code: codeIgnoreNoReason, Summary: "a lint ignore has no reason", Guideline: 1,
			Hint:    `lint: {ignore: {LS203: "why it is safe here"}}`,
			Explain: "A suppression is a decision: its reason is journaled when a run starts so that a reviewer can judge it. An ignore without one hides a hazard without saying why."},
		{Code: codeIgnoreUnused, Summary: "a lint ignore names an unknown code or one that does not fire there", Guideline: 1,
			Hint:    "remove the ignore, or move it to the step the warning is on",
			Explain: "An ignore that silences nothing is stale: it would later hide a new warning nobody reviewed. Step ignores apply to their step only."},
		{Code: "LS109", Summary: "no accountable role", Guideline: 1,
			Hint:    "roles: {accountable: [name]}",
			Explain: "RACI names one person accountable for the migration: who approves the start and destructive steps. Without one nobody owns the decision to go ahead.",
			check:   (*linter).noAccountable},
	}
}

func (l *linter) noStrategy() {
	if l.rb.Strategy == "" {
		l.report("LS101", l.top(), "", "no strategy chosen for the transition state")
	}
}

func (l *linter) noEnvironments() {
	if len(l.rb.Environments) == 0 {
		l.report("LS102", l.top(), "", "no environments: lockstep run needs --env ENV")
	}
}

func (l *linter) noStore() {
	if !l.needsStore() {
		return
	}
	for _, e := range l.rb.Environments {
		if e.Store == nil {
			l.report("LS103", e.Pos, "", "environment %q has no store", e.Name)
		}
	}
}

func (l *linter) noAccountable() {
	if len(l.rb.Roles.Accountable) == 0 {
		l.report("LS109", l.top(), "", "no one is accountable for the migration")
	}
}

// notifyRecipients flags notify recipients that look like a misspelt role.
func (l *linter) notifyRecipients() {
	for _, s := range l.steps() {
		if s.Kind != KindNotify || s.Notify == nil {
			continue
		}
		for _, to := range s.Notify.To {
			if slices.Contains(roleNames, to) {
				continue
			}
			if hint := didYouMean(to, roleNames); hint != "" {
				l.reportHint("LS104", s.Pos, s.ID, hint, "notify step %q: %q is not a role", s.ID, to)
			}
		}
	}
}

// roleHolders flags notify steps naming a role nobody holds (an approval
// role without holders is already a validation error).
func (l *linter) roleHolders() {
	for _, s := range l.steps() {
		if s.Kind != KindNotify || s.Notify == nil {
			continue
		}
		for _, to := range s.Notify.To {
			if slices.Contains(roleNames, to) && len(l.rb.Roles.Holders(to)) == 0 {
				l.report("LS105", s.Pos, s.ID, "%s step %q: role %q has no holders", s.Kind, s.ID, to)
			}
		}
	}
}

// notifyFields are the fields a notify template's data has (engine/steps.NotifyData),
// and those of its Window; an engine test keeps them equal.
var (
	notifyFields = []string{"Title", "Name", "Version", "Env", "Mode", "Operator", "Vars", "Steps", "Estimate", "Window"}
	windowFields = []string{"Start", "End", "Open"}
)

// NotifyTemplateFields returns the fields lint expects a notify
// template's data to have, and those of its .Window (copies).
func NotifyTemplateFields() (data, window []string) {
	return slices.Clone(notifyFields), slices.Clone(windowFields)
}

// templateFields checks the root fields each notify template reads.
func (l *linter) templateFields() {
	for _, s := range l.steps() {
		if s.Kind != KindNotify || s.Notify == nil || s.Notify.Template == nil {
			continue
		}
		t := s.Notify.Template
		for _, f := range rootFieldChains(t.tree()) {
			bad, known := f[0], notifyFields
			if slices.Contains(notifyFields, f[0]) {
				if f[0] != "Window" || len(f) < 2 || slices.Contains(windowFields, f[1]) {
					continue
				}
				bad, known = f[1], windowFields
			}
			hint := orElse(didYouMean(bad, known), l.ruleHint("LS106"))
			l.reportHint("LS106", t.Pos, s.ID, hint, "notify step %q: template reads .%s, which its data does not have", s.ID, joinDots(f))
		}
	}
}

func (l *linter) ruleHint(code string) string { r, _ := l.rules.Rule(code); return r.Hint }

func joinDots(f []string) string {
	out := f[0]
	for _, s := range f[1:] {
		out += "." + s
	}
	return out
}

// tree is the template's parse tree, nil when it was not compiled.
func (t *Template) tree() *parse.Tree {
	if t == nil || t.tmpl == nil {
		return nil
	}
	return t.tmpl.Tree
}

// rootFieldChains returns the field chains a template reads from its data
// (.A.B at the top level and $.A.B anywhere), as written.
func rootFieldChains(tree *parse.Tree) [][]string {
	if tree == nil {
		return nil
	}
	var out [][]string
	var list func(*parse.ListNode, bool)
	var pipe func(*parse.PipeNode, bool)
	pipe = func(p *parse.PipeNode, root bool) {
		if p == nil {
			return
		}
		for _, c := range p.Cmds {
			for _, a := range c.Args {
				switch a := a.(type) {
				case *parse.FieldNode:
					if root {
						out = append(out, a.Ident)
					}
				case *parse.VariableNode:
					if len(a.Ident) > 1 && a.Ident[0] == "$" {
						out = append(out, a.Ident[1:])
					}
				case *parse.PipeNode:
					pipe(a, root)
				}
			}
		}
	}
	branch := func(b *parse.BranchNode, root, body bool) {
		pipe(b.Pipe, root)
		list(b.List, body)
		list(b.ElseList, root)
	}
	list = func(l *parse.ListNode, root bool) {
		if l == nil {
			return
		}
		for _, n := range l.Nodes {
			switch n := n.(type) {
			case *parse.ActionNode:
				pipe(n.Pipe, root)
			case *parse.IfNode:
				branch(&n.BranchNode, root, root)
			case *parse.RangeNode:
				branch(&n.BranchNode, root, false)
			case *parse.WithNode:
				branch(&n.BranchNode, root, false)
			case *parse.TemplateNode:
				pipe(n.Pipe, root)
			}
		}
	}
	list(tree.Root, true)
	return out
}

// needsStore reports whether a step works on the environment's store.
func (l *linter) needsStore() bool {
	for _, s := range l.steps() {
		switch s.Kind {
		case KindEstimate, KindBackup, KindRestoreDrill, KindRestore, KindMigrate, KindVerify, KindLock, KindUnlock:
			return true
		}
	}
	return false
}
