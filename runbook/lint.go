package runbook

import (
	"fmt"
	"slices"
	"strings"
)

// Rule is one lint rule: a stable code, what it checks, the safe
// alternative and why it matters. The table of rules is built by
// DefaultRules; docs/lint.md is generated from it.
type Rule struct {
	Code      string // LS1xx structure … LS6xx store-specific
	Summary   string // one line: what the rule flags
	Hint      string // the safe alternative, shown with each finding
	Guideline int    // the guideline of DESIGN.md it comes from (1–6)
	Explain   string // the hazard, in a few sentences
	check     func(*linter)
}

// Guidelines are the six guidelines of DESIGN.md, by number.
func Guidelines() []string {
	return []string{"",
		"a protocol defined in advance (who, when, what)",
		"a strategy for the transition state (estimate, big-bang or multi-step)",
		"reproducible in every environment (idempotent, rehearsed, dry-runnable)",
		"communication with stakeholders (risks, the right moment)",
		"rollback (backups taken, restore practised, a down migration or plan B)",
		"a final check (verify before removing old data, audit after)",
	}
}

// Explanation renders the rule for `lockstep lint --explain CODE` and
// docs/lint.md: summary, hazard, guideline and hint.
func (r Rule) Explanation() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n\n%s\n\nGuideline %d: %s.\n\nFix: %s\n", r.Code, r.Summary, r.Explain, r.Guideline, Guidelines()[r.Guideline], r.Hint)
	return b.String()
}

// Rules is an immutable table of lint rules, indexed by code. Build it
// with DefaultRules and pass it where linting happens.
type Rules struct {
	list   []Rule
	byCode map[string]int
}

// All returns the rules in code order (a copy).
func (rs *Rules) All() []Rule { return slices.Clone(rs.list) }

// Rule returns the rule with code, if there is one.
func (rs *Rules) Rule(code string) (Rule, bool) {
	i, ok := rs.byCode[strings.ToUpper(code)]
	if !ok {
		return Rule{}, false
	}
	return rs.list[i], true
}

// newRules indexes a table and sorts it by code; a duplicate code panics
// (a programming error the tests catch).
func newRules(list []Rule) *Rules {
	slices.SortFunc(list, func(a, b Rule) int { return strings.Compare(a.Code, b.Code) })
	rs := &Rules{list: list, byCode: make(map[string]int, len(list))}
	for i, r := range list {
		if _, dup := rs.byCode[r.Code]; dup {
			panic("duplicate lint code " + r.Code)
		}
		rs.byCode[r.Code] = i
	}
	return rs
}

// DefaultRules returns the built-in rule table.
func DefaultRules() *Rules {
	return newRules(slices.Concat(structureRules(), writeRules(), rollbackRules(),
		timingRules(), verifyRules(), storeRules(), fleetRules()))
}

// Suppressed is a finding a `lint: {ignore: {CODE: reason}}` silenced.
type Suppressed struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
	Step   string `json:"step,omitempty"` // "" for a runbook-wide ignore
	Pos    Pos    `json:"-"`              // the ignore's position
	Count  int    `json:"count"`          // findings it silenced
}

// LintReport is the result of linting one runbook.
type LintReport struct {
	// Findings are the unsuppressed warnings, sorted by position.
	Findings Errors
	// Suppressed lists every ignore that silenced at least one finding.
	Suppressed []Suppressed
}

// Enforced returns the findings as env enforces them: in a protected
// environment every unsuppressed warning refuses a live or rehearsal run,
// so each is returned with SeverityError; elsewhere they stay warnings.
func (r *LintReport) Enforced(env *Environment) Errors {
	out := make(Errors, len(r.Findings))
	for i, e := range r.Findings {
		c := *e
		if env != nil && env.Protected {
			c.Severity = SeverityError
		}
		out[i] = &c
	}
	return out
}

// Lint returns the unsuppressed findings of the built-in rules on a valid
// runbook, sorted by position. They are warnings: the runbook runs (except
// in a protected environment), but departs from the method of DESIGN.md.
func Lint(rb *Runbook) []*Error { return DefaultRules().Check(rb).Findings }

// Check runs every rule on rb and applies its suppressions.
func (rs *Rules) Check(rb *Runbook) *LintReport {
	l := &linter{rb: rb, rules: rs}
	for _, r := range rs.list {
		if r.check != nil {
			r.check(l)
		}
	}
	rep := &LintReport{}
	rep.Findings, rep.Suppressed = l.suppress()
	rep.Findings.Sort()
	return rep
}

// finding is a rule's finding before suppression.
type finding struct {
	err  *Error
	step string // the top-level step it concerns, "" for the runbook
}

// linter collects the findings of one runbook.
type linter struct {
	rb    *Runbook
	rules *Rules
	out   []finding
}

// report records a finding of code at p with the rule's hint.
func (l *linter) report(code string, p Pos, step string, format string, args ...any) {
	r, _ := l.rules.Rule(code)
	l.reportHint(code, p, step, r.Hint, format, args...)
}

// reportHint records a finding with its own hint.
func (l *linter) reportHint(code string, p Pos, step, hint, format string, args ...any) {
	l.out = append(l.out, finding{step: step, err: &Error{Pos: p, Code: code, Msg: fmt.Sprintf(format, args...), Hint: hint, Severity: SeverityWarning}})
}

// top is the position of the runbook's first line.
func (l *linter) top() Pos { return Pos{File: orElse(l.rb.file, l.rb.Path), Line: 1, Col: 1} }

// steps returns the top-level steps in run order.
func (l *linter) steps() []*Step { return l.rb.Steps() }
