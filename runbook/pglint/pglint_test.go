package pglint_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/runbook/pglint"
)

// base is a lint-clean runbook on PostgreSQL; RUN is replaced by the
// steps of the run phase and CLEANUP by those of the cleanup phase, which
// is gated on verify.
const base = `lockstep: 1
name: pg
title: PostgreSQL rules
version: 2
strategy: multi-step
roles: {responsible: [al], accountable: [bo], informed: ["#ops"]}
environments:
  staging: {store: {kind: postgres, dsn: "${STAGING_URL}", table: users, key: [id]}, window: {from: "22:00", to: "02:00"}}
  prod:
    store: {kind: postgres, dsn: "${PROD_URL}", table: users, key: [id]}
    protected: true
    window: {from: "22:00", to: "02:00"}
    max_write_rate: 500
phases:
  - name: prepare
    steps:
      - {id: size, kind: estimate}
      - {id: dump, kind: backup}
      - {id: drill, kind: restore-drill, with: {from: dump}}
      - {id: tell, kind: notify, with: {channel: stdout, to: [informed], template: "{{.Title}} starts"}}
      - {id: go, kind: approval, with: {role: accountable}}
  - name: run
    requires: [prepare]
    steps:
RUN
      - {id: check, kind: verify, with: {expect_none: "item.x == nil"}}
  - name: cleanup
    requires: [run]
    steps:
CLEANUP
      - {id: check2, kind: verify, with: {expect_none: "item.y != nil"}}
`

// sqlStep renders a sql step; notx marks it transaction: false. Its
// rollback is a query so that the rollback rules stay quiet.
func sqlStep(id string, notx bool, stmts ...string) string {
	q := make([]string, len(stmts))
	for i, s := range stmts {
		q[i] = fmt.Sprintf("%q", s)
	}
	tx := ""
	if notx {
		tx = ", transaction: false"
	}
	return fmt.Sprintf("      - {id: %s, kind: sql, with: {statements: [%s]%s}, rollback: {kind: sql, with: {statements: [\"SELECT 1\"]}}}\n", id, strings.Join(q, ", "), tx)
}

func render(run, cleanup string) string {
	if run == "" {
		run = sqlStep("noop", false, "SELECT 1")
	}
	if cleanup == "" {
		cleanup = sqlStep("noop2", false, "SELECT 2")
	}
	cleanup = strings.ReplaceAll(cleanup, "kind: sql,", "kind: sql, destructive: true,")
	return strings.Replace(strings.Replace(base, "RUN\n", run, 1), "CLEANUP\n", cleanup, 1)
}

// lint returns the codes of the findings of the default rules and the
// PostgreSQL rules on src.
func lint(t *testing.T, src string) []*runbook.Error {
	t.Helper()
	rb, err := runbook.Parse("rb.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse(): %v\n%s", err, src)
	}
	return runbook.DefaultRules().With(pglint.Rules()...).Check(rb).Findings
}

func codes(errs []*runbook.Error) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Code)
	}
	return out
}

// rb is one case: the run phase's and the cleanup phase's steps.
type rb struct{ run, cleanup string }

var tests = []struct {
	code      string
	bad, good rb
}{
	{"LS610", rb{run: sqlStep("s", false, "ALTER TABLE users ADD COLUM x int")}, rb{run: sqlStep("s", false, "ALTER TABLE users ADD COLUMN x int")}},
	{"LS611", rb{run: sqlStep("s", false, "CREATE INDEX users_email ON users (email)")},
		rb{run: sqlStep("s", true, "CREATE INDEX CONCURRENTLY users_email ON users (email)")}},
	{"LS611", rb{run: sqlStep("s", false, "CREATE UNIQUE INDEX users_email ON public.users (email)")},
		rb{run: sqlStep("s", false, "CREATE TABLE audit (id bigint PRIMARY KEY, at timestamptz)", "CREATE INDEX audit_at ON audit (at)")}},
	{"LS612", rb{run: sqlStep("s", false, "CREATE INDEX CONCURRENTLY users_email ON users (email)")},
		rb{run: sqlStep("s", true, "CREATE INDEX CONCURRENTLY users_email ON users (email)")}},
	{"LS612", rb{run: sqlStep("s", true, "DROP INDEX CONCURRENTLY IF EXISTS users_email; CREATE INDEX CONCURRENTLY users_email ON users (email)")},
		rb{run: sqlStep("s", true, "DROP INDEX CONCURRENTLY IF EXISTS users_email") + sqlStep("s2", true, "CREATE INDEX CONCURRENTLY users_email ON users (email)")}},
	{"LS613", rb{run: sqlStep("s", false, "ALTER TABLE users ADD COLUMN plan text NOT NULL")},
		rb{run: sqlStep("s", false, "ALTER TABLE users ADD COLUMN plan text")}},
	{"LS613", rb{run: sqlStep("s", false, "ALTER TABLE users ADD COLUMN plan text NOT NULL")},
		rb{run: sqlStep("s", false, "ALTER TABLE users ADD COLUMN plan text NOT NULL DEFAULT 'free'")}},
	{"LS614", rb{run: sqlStep("s", false, "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()")},
		rb{run: sqlStep("s", false, "ALTER TABLE users ADD COLUMN token uuid")}},
	{"LS614", rb{run: sqlStep("s", false, "ALTER TABLE users ADD COLUMN seen timestamptz DEFAULT clock_timestamp()")},
		rb{run: sqlStep("s", false, "ALTER TABLE users ADD COLUMN seen timestamptz DEFAULT now()")}},
	{"LS614", rb{run: sqlStep("s", false, "ALTER TABLE users ADD COLUMN n bigserial")},
		rb{run: sqlStep("s", false, "ALTER TABLE users ADD COLUMN n bigint DEFAULT 0")}},
	{"LS615", rb{run: sqlStep("s", false, "ALTER TABLE users ALTER COLUMN age TYPE bigint")},
		rb{run: sqlStep("s", false, "ALTER TABLE users ADD COLUMN age_big bigint")}},
	{"LS616", rb{run: sqlStep("s", false, "ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id)")},
		rb{run: sqlStep("s", false, "ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID") + sqlStep("s2", false, "ALTER TABLE users VALIDATE CONSTRAINT users_org_fk")}},
	{"LS616", rb{run: sqlStep("s", false, "ALTER TABLE users ADD CONSTRAINT age_pos CHECK (age > 0)")},
		rb{run: sqlStep("s", false, "ALTER TABLE users ADD CONSTRAINT age_pos CHECK (age > 0) NOT VALID")}},
	{"LS617", rb{run: sqlStep("s", false, "ALTER TABLE users ALTER COLUMN plan SET NOT NULL")},
		rb{run: sqlStep("s", false, "ALTER TABLE users ADD CONSTRAINT plan_nn CHECK (plan IS NOT NULL) NOT VALID") + sqlStep("s2", false, "ALTER TABLE users VALIDATE CONSTRAINT plan_nn") + sqlStep("s3", false, "ALTER TABLE users ALTER COLUMN plan SET NOT NULL")}},
	{"LS617", rb{run: sqlStep("s", false, "ALTER TABLE users ADD CONSTRAINT plan_nn CHECK (plan IS NOT NULL) NOT VALID") + sqlStep("s3", false, "ALTER TABLE users ALTER COLUMN plan SET NOT NULL")},
		rb{run: sqlStep("s", false, "ALTER TABLE users ADD CONSTRAINT plan_nn CHECK (plan IS NOT NULL) NOT VALID; ALTER TABLE users VALIDATE CONSTRAINT plan_nn; ALTER TABLE users ALTER COLUMN plan SET NOT NULL")}},
	{"LS618", rb{run: sqlStep("s", false, "ALTER TABLE users DROP COLUMN address")},
		rb{cleanup: sqlStep("s", false, "ALTER TABLE users DROP COLUMN address")}},
	{"LS618", rb{run: sqlStep("s", false, "DROP TABLE users_old")},
		rb{cleanup: sqlStep("s", false, "DROP TABLE IF EXISTS users_old")}},
	{"LS619", rb{run: sqlStep("s", false, "ALTER TABLE users RENAME COLUMN address TO street")},
		rb{run: sqlStep("s", false, "ALTER TABLE users ADD COLUMN street text")}},
	{"LS619", rb{run: sqlStep("s", false, "ALTER TABLE users RENAME TO customers")},
		rb{run: sqlStep("s", false, "CREATE VIEW customers AS SELECT * FROM users")}},
	{"LS620", rb{run: sqlStep("s", false, "UPDATE users SET plan = 'free'")},
		rb{run: sqlStep("s", false, "UPDATE users SET plan = 'free' WHERE id >= 1 AND id < 1001")}},
	{"LS620", rb{run: sqlStep("s", false, "DELETE FROM users")},
		rb{run: sqlStep("s", false, "DELETE FROM users WHERE id = 42")}},
	{"LS621", rb{run: sqlStep("s", false, "UPDATE users SET plan = 'free', v = 2 WHERE v < 2")},
		rb{run: sqlStep("s", false, "UPDATE users SET plan = 'free', v = 2 WHERE v < 2 AND id BETWEEN 1 AND 1000")}},
	{"LS621", rb{run: sqlStep("s", false, "DELETE FROM users WHERE deleted_at IS NOT NULL AND id > 100")},
		rb{run: sqlStep("s", false, "DELETE FROM users WHERE id IN (SELECT id FROM users WHERE deleted_at IS NOT NULL LIMIT 1000)")}},
	{"LS621", rb{run: sqlStep("s", false, "UPDATE users SET v = 2 WHERE v < 2 AND 1000 > id")},
		rb{run: sqlStep("s", false, "UPDATE users SET v = 2 WHERE v < 2 AND 1000 > id AND 1 <= id")}},
}

func TestBaseIsClean(t *testing.T) {
	if got := lint(t, render("", "")); len(got) != 0 {
		t.Errorf("Check(base) = %v, want none", got)
	}
}

func TestRules(t *testing.T) {
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.code, i), func(t *testing.T) {
			bad := lint(t, render(tt.bad.run, tt.bad.cleanup))
			if !slices.Contains(codes(bad), tt.code) {
				t.Errorf("bad: codes = %v, want %s", codes(bad), tt.code)
			}
			if good := codes(lint(t, render(tt.good.run, tt.good.cleanup))); slices.Contains(good, tt.code) {
				t.Errorf("good: codes = %v, want no %s", good, tt.code)
			}
		})
	}
}

// TestOnlyOnPostgres: the same statements on a SQLite store, or in a step
// with its own SQLite path:, are not PostgreSQL's to judge.
func TestOnlyOnPostgres(t *testing.T) {
	bad := sqlStep("s", false, "CREATE INDEX users_email ON users (email)")
	sqlite := strings.NewReplacer(`kind: postgres, dsn: "${STAGING_URL}"`, `kind: sqlite, path: "${STAGING_DB}"`,
		`kind: postgres, dsn: "${PROD_URL}"`, `kind: sqlite, path: "${PROD_DB}"`).Replace(render(bad, ""))
	ownPath := strings.Replace(render(bad, ""), "{statements: [", `{path: "${OTHER_DB}", statements: [`, 1)
	for name, src := range map[string]string{"sqlite store": sqlite, "own path": ownPath} {
		if got := codes(lint(t, src)); slices.ContainsFunc(got, func(c string) bool { return c >= "LS610" && c <= "LS699" }) {
			t.Errorf("%s: codes = %v, want no PostgreSQL rule", name, got)
		}
	}
}

// TestProtectedOnly: the batch rules apply to protected environments.
func TestProtectedOnly(t *testing.T) {
	src := strings.Replace(render(sqlStep("s", false, "UPDATE users SET plan = 'free'"), ""), "    protected: true\n", "", 1)
	if got := codes(lint(t, src)); slices.Contains(got, "LS620") || slices.Contains(got, "LS621") {
		t.Errorf("codes = %v, want no LS620/LS621 without a protected environment", got)
	}
}

func TestParseErrorNamesPosition(t *testing.T) {
	errs := lint(t, render(sqlStep("s", false, "ALTER TABLE users ADD COLUM x int"), ""))
	i := slices.IndexFunc(errs, func(e *runbook.Error) bool { return e.Code == "LS610" })
	if i < 0 {
		t.Fatalf("no LS610 in %v", errs)
	}
	if msg := errs[i].Msg; !strings.Contains(msg, "syntax error") || !strings.Contains(msg, "at character") {
		t.Errorf("LS610 message %q, want the parser's message and position", msg)
	}
	if errs[i].Pos.Line == 0 {
		t.Errorf("LS610 position %v, want the step's line", errs[i].Pos)
	}
}

// TestSuppressed: a reasoned ignore silences a PostgreSQL rule like any.
func TestSuppressed(t *testing.T) {
	src := strings.Replace(render(sqlStep("s", false, "CREATE INDEX users_email ON users (email)"), ""),
		"version: 2\n", "version: 2\nlint: {ignore: {LS611: \"users has 200 rows\"}}\n", 1)
	if got := codes(lint(t, src)); len(got) != 0 {
		t.Errorf("codes = %v, want none", got)
	}
}

func TestRulesAreDocumented(t *testing.T) {
	for _, r := range pglint.Rules() {
		if r.Summary == "" || r.Hint == "" || r.Explain == "" || r.Guideline < 1 || r.Guideline > 6 || !strings.HasPrefix(r.Code, "LS6") {
			t.Errorf("rule %s lacks a summary, hint, explanation or guideline: %+v", r.Code, r)
		}
		if !slices.ContainsFunc(tests, func(c struct {
			code      string
			bad, good rb
		}) bool {
			return c.code == r.Code
		}) {
			t.Errorf("rule %s has no case", r.Code)
		}
	}
}
