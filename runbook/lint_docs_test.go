package runbook_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/runbook/pglint"
)

// lintDocPath is the lint reference, generated from the rule table.
const lintDocPath = "../docs/lint.md"

// lintDocIntro is docs/lint.md up to the rules.
const lintDocIntro = `# Lint rules

<!-- Generated from the rule table (runbook.DefaultRules and pglint.Rules) by
     go test ./runbook -run TestLintReferenceIsCurrent -update; do not edit. -->

` + "`lockstep lint RUNBOOK...`" + ` parses and validates each runbook, then runs the
lint rules on the valid ones. Errors make a runbook unusable (exit 2). Lint
findings are warnings: departures from the six guidelines of the method
(DESIGN.md). Each has a stable code:

| codes | area |
|---|---|
| LS1xx | structure: strategy, environments, roles, templates, suppressions |
| LS2xx | safety of writes |
| LS3xx | rollback and backup |
| LS4xx | communication and timing |
| LS5xx | verification and contract |
| LS6xx | store-specific; LS610–LS621 PostgreSQL |

The PostgreSQL rules (LS610–LS621) judge the statements of the ` + "`sql`" + ` steps
that run on a postgres store (an environment's store is ` + "`kind: postgres`" + ` and
the step has no ` + "`path:`" + ` of its own). Statements are parsed with
PostgreSQL's own parser (libpg_query), so a statement that does not parse is
a finding (LS610) with the parser's message and position. LS620 and LS621
apply when a protected environment's store is postgres.

` + "`lockstep lint --explain CODE`" + ` prints a rule's section of this page.

## Severity by environment

In a **protected** environment every unsuppressed warning refuses to start a
live or rehearsal run: ` + "`lockstep run`" + ` lists them with their codes and
exits 2 before the journal is touched (a dry-run still starts). Elsewhere
warnings do not stop a run. ` + "`lockstep lint --env ENV`" + ` shows what ENV
enforces: in a protected environment each warning is reported as an error
and lint exits 2.

## Suppressing a warning

` + "`lint: {ignore: {CODE: \"reason\"}}`" + ` at the top of a runbook silences CODE
everywhere; on a step, on that step only. The reason is mandatory: when a
session starts, the ignores that silenced a warning are journaled in
` + "`session.start`" + `'s data as ` + "`lint_ignored: [{code, reason, step, count}]`" + `
(` + "`step`" + ` absent for a runbook-wide ignore, ` + "`count`" + ` the warnings it
silenced). An ignore without a reason (LS107), for an unknown code or for a
code that does not fire there (LS108) is a warning itself, and cannot be
ignored.

## JSON output

` + "`lockstep lint --format json`" + ` prints one array, sorted by position
(file, line, column, code):

` + "```json" + `
[
  {
    "file": "split.yaml",
    "line": 42,
    "col": 9,
    "code": "LS203",
    "severity": "warning",
    "message": "sql step \"bump\": \"UPDATE t SET n = n + 1\" sets n from itself: a re-run applies it twice",
    "hint": "guard it with a WHERE on the version ..."
  }
]
` + "```" + `

` + "`code`" + ` is "" for a parse or validation error; ` + "`severity`" + ` is ` + "`error`" + `
or ` + "`warning`" + ` (` + "`error`" + ` for every finding under ` + "`--env`" + ` of a protected
environment); ` + "`hint`" + ` is "" when there is none; no problems is ` + "`[]`" + `.

## Rules
`

// lintReference renders docs/lint.md from the rule table.
func lintReference(rules []runbook.Rule) string {
	var b strings.Builder
	b.WriteString(lintDocIntro)
	for _, r := range rules {
		fmt.Fprintf(&b, "\n### %s\n\n%s.\n\n%s\n\n- Guideline %d: %s.\n- Fix: %s\n",
			r.Code, upperFirst(r.Summary), r.Explain, r.Guideline, runbook.Guidelines()[r.Guideline], "`"+r.Hint+"`")
	}
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// TestLintReferenceIsCurrent keeps docs/lint.md generated from the rules.
func TestLintReferenceIsCurrent(t *testing.T) {
	want := lintReference(runbook.DefaultRules().With(pglint.Rules()...).All())
	if *update {
		if err := os.WriteFile(lintDocPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(lintDocPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date with the rule table: go test ./runbook -run TestLintReferenceIsCurrent -update", lintDocPath)
	}
}
