package pglint

import (
	"slices"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
)

// pgRunbook has three distinct statements on a postgres store, one of
// them twice and one that does not parse.
const pgRunbook = `lockstep: 1
name: pg
title: parses
version: 2
strategy: multi-step
roles: {responsible: [al], accountable: [bo]}
environments:
  prod: {store: {kind: postgres, dsn: "${PROD_URL}", table: users, key: [id]}, protected: true}
phases:
  - name: run
    steps:
      - {id: a, kind: sql, with: {statements: ["CREATE INDEX users_email ON users (email)", "UPDATE users SET plan = 'free'"]}}
      - {id: b, kind: sql, with: {statements: ["UPDATE users SET plan = 'free'", "ALTER TABLE users ADD COLUM x int"]}}
`

// TestRulesParseEachStatementOnce: the twelve rules of one table share
// their parses, and the findings stay those of a parse per rule.
func TestRulesParseEachStatementOnce(t *testing.T) {
	rb, err := runbook.Parse("rb.yaml", []byte(pgRunbook))
	if err != nil {
		t.Fatalf("Parse(): %v", err)
	}
	var texts []string
	ps := newParses()
	ps.parser = func(sql string) ([]node, error) {
		texts = append(texts, sql)
		return parse(sql)
	}
	rules := runbook.DefaultRules().With(rules(ps)...)
	var got [2][]string
	for i := range got {
		for _, f := range rules.Check(rb).Findings {
			got[i] = append(got[i], f.Code)
		}
	}
	if len(texts) != 3 {
		t.Errorf("parsed %d statements %q, want each of the 3 once", len(texts), texts)
	}
	for _, code := range []string{"LS610", "LS611", "LS620"} {
		if !slices.Contains(got[0], code) {
			t.Errorf("Check() codes = %v, want %s", got[0], code)
		}
	}
	if !slices.Equal(got[0], got[1]) {
		t.Errorf("second Check() codes = %v, want the first's %v", got[1], got[0])
	}
}
