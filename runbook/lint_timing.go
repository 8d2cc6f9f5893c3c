package runbook

// timingRules are LS4xx: communication, approvals, estimates and windows.
func timingRules() []Rule {
	return []Rule{
		{Code: "LS401", Summary: "a protected environment has no window", Guideline: 4,
			Hint:    `window: {days: [...], from: "22:00", to: "02:00", tz: ...}`,
			Explain: "A window makes lockstep refuse to run a protected environment at peak time or when the team is away; without one nothing stops a production run at the worst moment.",
			check:   (*linter).protectedWindow},
		{Code: "LS402", Summary: "no estimate before a migrate step, with a protected environment", Guideline: 2,
			Hint:    "add an estimate step before the first migrate step",
			Explain: "Without an estimate nobody knows whether the migration fits the window, nor what load it puts on the store; it is discovered in production.",
			check:   (*linter).protectedEstimate},
		{Code: "LS403", Summary: "no notify step before the first write, with a protected environment", Guideline: 4,
			Hint:    "add a notify step to [informed] before the first write",
			Explain: "Stakeholders (support, dependent teams) must know a production migration is starting, and when: a notify step before the first write tells them.",
			check:   (*linter).protectedNotify},
		{Code: "LS404", Summary: "a destructive step has no approval by the accountable role before it", Guideline: 1,
			Hint:    "add {kind: approval, with: {role: accountable}} before it",
			Explain: "Destroying data is the accountable person's decision, not the operator's alone: an approval step records who approved it and why.",
			check:   (*linter).destructiveApproval},
		{Code: "LS405", Summary: "a protected environment with writes has no approval step", Guideline: 1,
			Hint:    "add a go/no-go {kind: approval, with: {role: accountable}} before the first write",
			Explain: "A production migration starts on a recorded go/no-go from the accountable role; without it the operator alone decides.",
			check:   (*linter).protectedApproval},
		{Code: "LS406", Summary: "a big-bang runbook has no window", Guideline: 2,
			Hint:    `window: {days: [...], from: "22:00", to: "02:00", tz: ...} on the environments`,
			Explain: "Big-bang interrupts the service: it must happen in an announced, off-peak window. No environment with a window means the interruption can start at any time.",
			check:   (*linter).bigBangWindow},
		{Code: "LS407", Summary: "a writing shell step has no timeout", Guideline: 2,
			Hint:    "timeout: 10m (a bound above its expected duration)",
			Explain: "A hung script holds the lock and the window with no end; a timeout turns it into a failure the operator can act on.",
			check:   (*linter).shellTimeout},
		{Code: "LS408", Summary: "a notify template reads the estimate, but no estimate step comes before it", Guideline: 4,
			Hint:    "add an estimate step before the notify step",
			Explain: "Without an estimate, {{.Estimate.Duration}} renders \"unknown\": stakeholders are told a migration starts without being told for how long.",
			check:   (*linter).notifyEstimate},
	}
}

// protectedEnvs returns the protected environments.
func (l *linter) protectedEnvs() []*Environment {
	var out []*Environment
	for _, e := range l.rb.Environments {
		if e.Protected {
			out = append(out, e)
		}
	}
	return out
}

func (l *linter) protectedWindow() {
	for _, e := range l.protectedEnvs() {
		if e.Window == nil {
			l.report("LS401", e.Pos, "", "protected environment %q has no window", e.Name)
		}
	}
}

func (l *linter) protectedEstimate() {
	m := l.first(KindMigrate)
	if m < 0 {
		return
	}
	if est := l.first(KindEstimate); est >= 0 && est < m {
		return
	}
	for _, e := range l.protectedEnvs() {
		l.report("LS402", e.Pos, "", "protected environment %q: no estimate before migrate step %q", e.Name, l.steps()[m].ID)
	}
}

func (l *linter) protectedNotify() {
	w := l.firstWrite()
	if w < 0 {
		return
	}
	if n := l.first(KindNotify); n >= 0 && n < w {
		return
	}
	for _, e := range l.protectedEnvs() {
		l.report("LS403", e.Pos, "", "protected environment %q: nobody is notified before step %q writes", e.Name, l.steps()[w].ID)
	}
}

// accountableApproval returns the index of the first approval by the
// accountable role, or -1.
func (l *linter) accountableApproval() int {
	for i, s := range l.steps() {
		if s.Kind == KindApproval && s.Approval != nil && s.Approval.Role == "accountable" {
			return i
		}
	}
	return -1
}

func (l *linter) destructiveApproval() {
	a := l.accountableApproval()
	for i, s := range l.steps() {
		if s.Destructive && (a < 0 || a > i) {
			l.report("LS404", s.Pos, s.ID, "destructive step %q has no approval by the accountable role before it", s.ID)
		}
	}
}

func (l *linter) protectedApproval() {
	w := l.firstWrite()
	if w < 0 || l.first(KindApproval) >= 0 {
		return
	}
	for _, e := range l.protectedEnvs() {
		l.report("LS405", e.Pos, "", "protected environment %q: no approval step (go/no-go)", e.Name)
	}
}

func (l *linter) bigBangWindow() {
	if l.rb.Strategy != "big-bang" || len(l.rb.Environments) == 0 {
		return
	}
	for _, e := range l.rb.Environments {
		if e.Window != nil {
			return
		}
	}
	l.report("LS406", l.top(), "", "big-bang runbook without a window: the interruption can start at any time")
}

func (l *linter) shellTimeout() {
	for _, s := range l.steps() {
		if s.Kind == KindShell && writes(s) && s.Timeout == 0 {
			l.report("LS407", s.Pos, s.ID, "shell step %q has no timeout", s.ID)
		}
	}
}

func (l *linter) notifyEstimate() {
	est := l.first(KindEstimate)
	for i, s := range l.steps() {
		if s.Kind != KindNotify || s.Notify == nil || s.Notify.Template == nil || (est >= 0 && est < i) {
			continue
		}
		for _, f := range rootFieldChains(s.Notify.Template.tree()) {
			if f[0] == "Estimate" {
				l.report("LS408", s.Notify.Template.Pos, s.ID, "notify step %q reads .Estimate, but no estimate step runs before it", s.ID)
				break
			}
		}
	}
}
