package runbook

import "fmt"

// The suppression codes: reported while applying `lint: {ignore: ...}`,
// never themselves suppressible.
const (
	codeIgnoreNoReason = "LS107"
	codeIgnoreUnused   = "LS108"
)

// ignoreAt is one ignore with where it applies ("" for the whole runbook).
type ignoreAt struct {
	Ignore
	step string
	used int
}

// suppress applies the runbook's and the steps' ignores to the findings.
// A step's ignore silences that code on that step only; a top-level one
// silences it everywhere. An ignore without a reason, for an unknown code
// or for a code that did not fire where it stands is a finding.
func (l *linter) suppress() (Errors, []Suppressed) {
	var igs []*ignoreAt
	add := func(spec *LintSpec, step string) {
		if spec == nil {
			return
		}
		for _, ig := range spec.Ignore {
			igs = append(igs, &ignoreAt{Ignore: ig, step: step})
		}
	}
	add(l.rb.Lint, "")
	for _, s := range l.steps() {
		add(s.Lint, s.ID)
		if s.Rollback != nil {
			add(s.Rollback.Lint, s.ID)
		}
	}
	var kept Errors
	for _, f := range l.out {
		if ig := matchIgnore(igs, f); ig != nil {
			ig.used++
			continue
		}
		kept = append(kept, f.err)
	}
	var sup []Suppressed
	for _, ig := range igs {
		kept = append(kept, l.checkIgnore(ig)...)
		if ig.used > 0 && ig.Reason != "" {
			sup = append(sup, Suppressed{Code: ig.Code, Reason: ig.Reason, Step: ig.step, Pos: ig.Pos, Count: ig.used})
		}
	}
	return kept, sup
}

// matchIgnore returns the ignore that silences f: the step's own first,
// then a runbook-wide one.
func matchIgnore(igs []*ignoreAt, f finding) *ignoreAt {
	var wide *ignoreAt
	for _, ig := range igs {
		if ig.Code != f.err.Code {
			continue
		}
		if ig.step != "" && ig.step == f.step {
			return ig
		}
		if ig.step == "" && wide == nil {
			wide = ig
		}
	}
	return wide
}

// checkIgnore reports an ignore that lacks a reason or silences nothing.
func (l *linter) checkIgnore(ig *ignoreAt) Errors {
	var out Errors
	warn := func(code, hint, format string, args ...any) {
		r, _ := l.rules.Rule(code)
		out = append(out, &Error{Pos: ig.Pos, Code: code, Msg: fmt.Sprintf(format, args...), Hint: orElse(hint, r.Hint), Severity: SeverityWarning})
	}
	where := "the runbook"
	if ig.step != "" {
		where = fmt.Sprintf("step %q", ig.step)
	}
	if ig.Reason == "" {
		warn(codeIgnoreNoReason, "", "ignore of %s on %s has no reason", ig.Code, where)
	}
	switch _, known := l.rules.Rule(ig.Code); {
	case !known:
		warn(codeIgnoreUnused, "lockstep lint --explain lists the codes in docs/lint.md", "ignore of %s on %s: no such lint code", ig.Code, where)
	case ig.Code == codeIgnoreNoReason || ig.Code == codeIgnoreUnused:
		warn(codeIgnoreUnused, "fix the ignore instead", "ignore of %s on %s: %s cannot be ignored", ig.Code, where, ig.Code)
	case ig.used == 0:
		warn(codeIgnoreUnused, "", "ignore of %s on %s: %s does not fire there", ig.Code, where, ig.Code)
	}
	return out
}
