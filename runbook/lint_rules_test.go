package runbook_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
)

// ruleBase follows every rule: each case breaks it in one way (bad) and
// shows the fix (good, the base itself when nil).
const ruleBase = `lockstep: 1
name: base
title: Base
version: 2
strategy: big-bang
roles: {responsible: [al], accountable: [bo], informed: ["#ops"]}
environments:
  staging: {store: {kind: sqlite, path: "${STAGING_DB}", table: t, key: [id]}, window: {from: "22:00", to: "02:00"}}
  prod:
    store: {kind: sqlite, path: "${PROD_DB}", table: t, key: [id]}
    protected: true
    window: {from: "22:00", to: "02:00"}
    max_write_rate: 500
phases:
  - name: prepare
    steps:
      - {id: size, kind: estimate}
      - {id: lock, kind: lock}
      - {id: dump, kind: backup}
      - {id: drill, kind: restore-drill, with: {from: dump}}
      - {id: tell, kind: notify, with: {channel: stdout, to: [informed], template: "{{.Title}} starts"}}
      - {id: go, kind: approval, with: {role: accountable}}
  - name: run
    requires: [prepare]
    steps:
      - {id: fill, kind: migrate, with: {set: {x: "1"}}, rollback: {kind: migrate, with: {remove: [x]}, destructive: true}}
      - {id: bump, kind: sql, with: {statements: ["UPDATE t SET n = n + 1, v = 2 WHERE v < 2"]}, rollback: {kind: sql, with: {statements: ["UPDATE t SET n = n - 1, v = 1 WHERE v = 2"]}}}
      - {id: script, kind: shell, timeout: 5m, with: {run: "./fix.sh"}, rollback: {kind: shell, with: {run: "./unfix.sh"}}}
      - {id: check, kind: verify, with: {expect_none: "item.x == nil"}}
  - name: cleanup
    requires: [run]
    steps:
      - {id: drop, kind: migrate, with: {remove: [y]}, destructive: true}
      - {id: check2, kind: verify, with: {expect_none: "item.y != nil"}}
      - {id: unlock, kind: unlock}
`

const (
	backupLines = "      - {id: dump, kind: backup}\n      - {id: drill, kind: restore-drill, with: {from: dump}}\n"
	drillLine   = "      - {id: drill, kind: restore-drill, with: {from: dump}}\n"
	checkLine   = "      - {id: check, kind: verify, with: {expect_none: \"item.x == nil\"}}\n"
	check2Line  = "      - {id: check2, kind: verify, with: {expect_none: \"item.y != nil\"}}\n"
	lockLine    = "      - {id: lock, kind: lock}\n"
	earlyWrite  = "      - {id: early, kind: sql, with: {statements: [\"UPDATE t SET v = 2 WHERE v < 2\"]}, rollback: {kind: sql, with: {statements: [\"UPDATE t SET v = 1 WHERE v = 2\"]}}}\n"
	prodWindow  = "    protected: true\n    window: {from: \"22:00\", to: \"02:00\"}\n"
	stageWindow = `, window: {from: "22:00", to: "02:00"}}`
)

// ruleCases: for each code, edits of ruleBase (old, new pairs) that make
// it fire, and edits that fix it (nil: ruleBase).
var ruleCases = []struct {
	code      string
	bad, good []string
}{
	{"LS101", []string{"strategy: big-bang\n", ""}, nil},
	{"LS102", []string{"environments:\n", "x-environments:\n"}, nil},
	{"LS103", []string{`staging: {store: {kind: sqlite, path: "${STAGING_DB}", table: t, key: [id]}, `, "staging: {"}, nil},
	{"LS104", []string{"to: [informed]", "to: [informd]"}, nil},
	{"LS105", []string{`, informed: ["#ops"]}`, "}"}, nil},
	{"LS106", []string{"{{.Title}} starts", "{{.Titel}} starts"}, nil},
	{"LS107", []string{"version: 2\n", "version: 2\nlint: {ignore: {LS301: \"\"}}\n", backupLines, ""},
		[]string{"version: 2\n", "version: 2\nlint: {ignore: {LS301: \"restored from the nightly snapshot\"}}\n", backupLines, ""}},
	{"LS108", []string{"version: 2\n", "version: 2\nlint: {ignore: {LS203: \"guarded\"}}\n"}, nil},
	{"LS109", []string{"accountable: [bo], ", "", "{role: accountable}", "{role: responsible}"}, nil},
	{"LS201", []string{"{id: drop, kind: migrate, with: {remove: [y]}, destructive: true}", "{id: drop, kind: migrate, with: {remove: [y]}}"}, nil},
	{"LS202", []string{lockLine, "", "      - {id: unlock, kind: unlock}\n", ""}, nil},
	{"LS203", []string{"UPDATE t SET n = n + 1, v = 2 WHERE v < 2", "UPDATE t SET n = n + 1"}, nil},
	{"LS204", []string{`with: {run: "./fix.sh"}`, `with: {run: "rm -rf /data/old"}`},
		[]string{`with: {run: "./fix.sh"}`, `destructive: true, with: {run: "rm -rf /data/old"}`}},
	{"LS205", []string{lockLine, earlyWrite + lockLine}, []string{lockLine, lockLine + earlyWrite}},
	{"LS301", []string{backupLines, ""}, nil},
	{"LS302", []string{drillLine, ""}, nil},
	{"LS303", []string{`, rollback: {kind: migrate, with: {remove: [x]}, destructive: true}}`, "}"}, nil},
	{"LS304", []string{backupLines, ""}, nil},
	{"LS305", []string{`, rollback: {kind: shell, with: {run: "./unfix.sh"}}}`, "}"}, nil},
	{"LS306", []string{drillLine, "", checkLine, checkLine + drillLine}, nil},
	{"LS307", []string{`{id: fill, kind: migrate, with: {set: {x: "1"}}, rollback: {kind: migrate, with: {remove: [x]}, destructive: true}}`,
		`{id: fill, kind: migrate, with: {transform: [./t.sh]}, rollback: {kind: restore, with: {from: dump}}}`},
		[]string{`{id: fill, kind: migrate, with: {set: {x: "1"}}, rollback: {kind: migrate, with: {remove: [x]}, destructive: true}}`,
			`{id: fill, kind: migrate, with: {set: {x: "1"}}, rollback: {kind: restore, with: {from: dump}}}`}},
	{"LS401", []string{prodWindow, "    protected: true\n"}, nil},
	{"LS402", []string{"      - {id: size, kind: estimate}\n", ""}, nil},
	{"LS403", []string{"      - {id: tell, kind: notify, with: {channel: stdout, to: [informed], template: \"{{.Title}} starts\"}}\n", ""}, nil},
	{"LS404", []string{"{role: accountable}", "{role: responsible}"}, nil},
	{"LS405", []string{"      - {id: go, kind: approval, with: {role: accountable}}\n", ""}, nil},
	{"LS406", []string{prodWindow, "    protected: true\n", stageWindow, "}"}, []string{prodWindow, "    protected: true\n"}},
	{"LS407", []string{"timeout: 5m, ", ""}, nil},
	{"LS408", []string{"{{.Title}} starts", "{{.Title}} starts, about {{.Estimate.Duration}}", "      - {id: size, kind: estimate}\n", ""},
		[]string{"{{.Title}} starts", "{{.Title}} starts, about {{.Estimate.Duration}}"}},
	{"LS501", []string{"    requires: [run]\n", ""}, nil},
	{"LS502", []string{checkLine, "", check2Line, ""}, nil},
	{"LS503", []string{"strategy: big-bang", "strategy: multi-step", "- name: cleanup", "- name: finish"},
		[]string{"strategy: big-bang", "strategy: multi-step"}},
	{"LS504", []string{"    requires: [run]\n", "    requires: [prepare]\n"}, nil},
	{"LS505", []string{checkLine, "", check2Line, ""}, nil},
	{"LS601", []string{`staging: {store: {kind: sqlite, path: "${STAGING_DB}", table: t, key: [id]}`, `staging: {store: {kind: dynamodb, table: t, region: eu-west-1}`}, nil},
	{"LS602", []string{"${PROD_DB}", "${STAGING_DB}"}, nil},
	{"LS603", []string{"    max_write_rate: 500\n", ""}, nil},
	{"LS604", []string{"with: {set: {x: \"1\"}}, rollback", "with: {set: {x: \"1\"}, fleet: {workers: 2}}, rollback"}, nil},
}

// edit applies old/new pairs to ruleBase, failing when an old is missing.
func edit(t *testing.T, pairs []string) string {
	t.Helper()
	src := ruleBase
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(src, pairs[i]) {
			t.Fatalf("edit: %q not in the base runbook", pairs[i])
		}
		src = strings.Replace(src, pairs[i], pairs[i+1], 1)
	}
	return src
}

// codes lints src and returns the codes found.
func codes(t *testing.T, src string) []string {
	t.Helper()
	rb, err := runbook.Parse("rb.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse(): %v\n%s", err, src)
	}
	var out []string
	for _, e := range runbook.Lint(rb) {
		out = append(out, e.Code)
	}
	return out
}

func TestRuleBaseIsClean(t *testing.T) {
	rb, err := runbook.Parse("rb.yaml", []byte(ruleBase))
	if err != nil {
		t.Fatal(err)
	}
	if got := runbook.Lint(rb); len(got) != 0 {
		t.Errorf("Lint(base) = %v, want none", got)
	}
}

func TestRules(t *testing.T) {
	for _, tt := range ruleCases {
		t.Run(tt.code, func(t *testing.T) {
			if got := codes(t, edit(t, tt.bad)); !slices.Contains(got, tt.code) {
				t.Errorf("bad: Lint() codes = %v, want %s", got, tt.code)
			}
			if got := codes(t, edit(t, tt.good)); slices.Contains(got, tt.code) {
				t.Errorf("good: Lint() codes = %v, want no %s", got, tt.code)
			}
		})
	}
}

// TestEveryRuleIsTested keeps the table above in step with the rules.
func TestEveryRuleIsTested(t *testing.T) {
	rules := runbook.DefaultRules().All()
	if len(rules) < 30 {
		t.Errorf("%d rules, want at least 30", len(rules))
	}
	for _, r := range rules {
		if !slices.ContainsFunc(ruleCases, func(c struct {
			code      string
			bad, good []string
		}) bool {
			return c.code == r.Code
		}) {
			t.Errorf("rule %s has no case in ruleCases", r.Code)
		}
		if r.Summary == "" || r.Hint == "" || r.Explain == "" || r.Guideline < 1 || r.Guideline > 6 {
			t.Errorf("rule %s lacks a summary, hint, explanation or guideline: %+v", r.Code, r)
		}
	}
}
