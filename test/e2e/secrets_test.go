package e2e

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// newTenantsDB creates the SQLite table the secret tests write to.
func (e *env) newTenantsDB() string {
	e.t.Helper()
	path := filepath.Join(e.dir, "tenants.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE items (id INTEGER PRIMARY KEY, tenant TEXT, v INTEGER)`,
		`INSERT INTO items (id) VALUES (1), (2)`,
	} {
		if _, err := db.Exec(q); err != nil {
			e.t.Fatal(err)
		}
	}
	return path
}

func queryOne(t *testing.T, path, q string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var s sql.NullString
	if err := db.QueryRow(q).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s.String
}

// secretsRunbook: a var set from a secret, written into every row after a
// checklist.
const secretsRunbook = `lockstep: 1
name: tenants
title: Tenants
version: 1
strategy: multi-step
roles: {responsible: [e2e-op]}
secrets: [TENANT_KEY]
vars: {tenant: none}
environments:
  box:
    store: {kind: sqlite, path: tenants.db, table: items, key: [id]}
phases:
  - name: p
    steps:
      - {id: check, kind: manual, checklist: [ready]}
      - {id: mig, kind: migrate, with: {set: {tenant: 'vars.tenant'}}}
`

// failingRunbook: an external transform and a webhook that fail quoting
// secrets (vars.fail picks which).
const failingRunbook = `lockstep: 1
name: failing
title: Failing
version: 1
roles: {responsible: [e2e-op]}
secrets: [API_TOKEN, HOOK]
vars: {fail: "no"}
environments:
  box:
    store: {kind: sqlite, path: tenants.db, table: items, key: [id]}
phases:
  - name: p
    steps:
      - {id: auth, kind: migrate, when: 'vars.fail == "transform"', with: {transform: [sh, -c, 'echo "auth failed with key $API_TOKEN" >&2; exit 1']}}
      - {id: hook, kind: notify, when: 'vars.fail == "hook"', with: {channel: webhook, url: "${HOOK}", template: "done"}}
`

const (
	tenantKey = "tk-0123456789-secret"
	apiToken  = "supersecret123"
	hookURL   = "http://u:p@127.0.0.1:1/services/T0/B0/XYZSECRETPATH"
)

func newSecretsEnv(t *testing.T) (*env, string, string) {
	e := newEnv(t)
	db := e.newTenantsDB()
	e.vars = append(e.vars, "TENANT_KEY="+tenantKey, "API_TOKEN="+apiToken, "HOOK="+hookURL)
	e.writeFile("failing.yaml", failingRunbook)
	return e, e.writeFile("tenants.yaml", secretsRunbook), db
}

// noSecret fails the test when the output or the journal, as journal show
// prints it, holds one of the secrets.
func (e *env) noSecret(id, what string, out ...string) {
	e.t.Helper()
	show := e.mustRun(0, "journal", "show", id)
	all := strings.Join(out, "\n") + show.Stdout + show.Stderr
	for _, s := range []string{tenantKey, apiToken, "XYZSECRETPATH"} {
		if strings.Contains(all, s) {
			e.t.Errorf("%s: %q is printed or journaled:\n%s", what, s, all)
		}
	}
}

// TestResumeGivesSecretVarsAgain: the journal keeps --var tenant=$TENANT_KEY
// redacted; resume refuses (exit 2) until --var gives it again, then
// writes the real value, never "[REDACTED]", into the rows.
func TestResumeGivesSecretVarsAgain(t *testing.T) {
	e, rb, db := newSecretsEnv(t)
	e.mustRun(2, "run", rb, "--env", "box", "--plain", "--yes", "--var", "tenant="+tenantKey)
	id := e.latest().ID
	answers := e.writeFile("a.yaml", "check: {check: [ready]}\n")

	r := e.mustRun(2, "resume", id, "--plain", "--yes", "--answers", answers)
	if !strings.Contains(r.Stderr, "--var tenant=VALUE") {
		t.Errorf("resume does not name the flag to pass\n%s", r)
	}
	if got := queryOne(t, db, "SELECT count(*) FROM items WHERE tenant IS NOT NULL"); got != "0" {
		t.Errorf("a refused resume wrote %s rows", got)
	}
	r2 := e.mustRun(0, "resume", id, "--plain", "--yes", "--answers", answers, "--var", "tenant="+tenantKey)
	if got := queryOne(t, db, "SELECT group_concat(tenant, ',') FROM items"); got != tenantKey+","+tenantKey {
		t.Errorf("items.tenant = %q, want the secret's value in every row", got)
	}
	e.noSecret(id, "resume", r.Stdout, r.Stderr, r2.Stdout, r2.Stderr)
}

// TestFailuresNeverPrintSecrets: a failed step's cause quoting a secret
// (a transform's stderr, a webhook URL with user:password@) is redacted
// in the failure prompt, the final error and the journal.
func TestFailuresNeverPrintSecrets(t *testing.T) {
	for _, fail := range []string{"transform", "hook"} {
		t.Run(fail, func(t *testing.T) {
			e, _, _ := newSecretsEnv(t)
			r := e.mustRun(1, "run", "failing.yaml", "--env", "box", "--plain", "--yes", "--var", "fail="+fail)
			if step := map[string]string{"transform": "auth", "hook": "hook"}[fail]; !strings.Contains(r.Stdout, "? "+step+" failed") {
				t.Errorf("no failure prompt printed\n%s", r)
			}
			e.noSecret(e.latest().ID, "run", r.Stdout, r.Stderr)
		})
	}
}
