package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// tenantRunbook writes a var holding a secret into every row, after a
// checklist where a run without answers stops.
const tenantRunbook = `lockstep: 1
name: tenants
title: Tenants
version: 1
strategy: multi-step
roles: {responsible: [u]}
secrets: [TENANT_KEY]
vars: {tenant: none, region: eu}
environments:
  local:
    store: {kind: sqlite, path: shop.db, table: items, key: [id]}
phases:
  - name: p
    steps:
      - {id: check, kind: manual, checklist: [ready]}
      - {id: mig, kind: migrate, with: {set: {tenant: 'vars.tenant', region: 'vars.region'}}}
`

// TestResumeAsksAgainForSecretVars: session.start journals --var
// tenant=$TENANT_KEY as [REDACTED]. Resume refuses (exit 2) until the
// value is given again with --var, naming the flag and never the secret,
// and then writes the real value, not "[REDACTED]", into the rows.
func TestResumeAsksAgainForSecretVars(t *testing.T) {
	const secret = "tk-0123456789-secret"
	dir := t.TempDir()
	db := filepath.Join(dir, "shop.db")
	sqlExec(t, db, "CREATE TABLE items (id INTEGER PRIMARY KEY, tenant TEXT, region TEXT, v INTEGER)",
		"INSERT INTO items (id) VALUES (1), (2)")
	rb := filepath.Join(dir, "tenants.yaml")
	writeTestFile(t, rb, tenantRunbook)
	ans := filepath.Join(dir, "a.yaml")
	writeTestFile(t, ans, "check: {check: [ready]}\n")
	env := map[string]string{"LOCKSTEP_JOURNAL": filepath.Join(dir, "journal.db"), "TENANT_KEY": secret}

	if _, errOut, err := execCmd(env, "run", rb, "--env", "local", "--plain", "--yes",
		"--var", "tenant="+secret, "--var", "region=us"); exitCode(err) != exitBadInput {
		t.Fatalf("run = %v (exit %d), want exit 2 at the checklist\n%s", err, exitCode(err), errOut)
	}
	_, s := latestSession(t, env["LOCKSTEP_JOURNAL"])

	refusals := []struct {
		name string
		args []string
		want string
	}{
		{"secret var not given", nil, "give the value the session started with again: --var tenant=VALUE"},
		{"other value of a plain var", []string{"--var", "tenant=" + secret, "--var", "region=" + secret},
			`--var region differs from the value the session started with ("us")`},
		{"undeclared var", []string{"--var", "tenantt=" + secret}, `--var: unknown var "tenantt"`},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := execCmd(env, append([]string{"resume", s.ID, "--plain", "--answers", ans, "--yes"}, tt.args...)...)
			if exitCode(err) != exitBadInput || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("resume = %v (exit %d), want exit 2 saying %q\n%s\n%s", err, exitCode(err), tt.want, out, errOut)
			}
			if all := err.Error() + out.String() + errOut.String(); strings.Contains(all, secret) {
				t.Errorf("the refusal prints the secret:\n%s", all)
			}
			if got := sqlQuery(t, db, "SELECT count(*) FROM items WHERE tenant IS NOT NULL"); got != "0" {
				t.Errorf("%s rows written by a refused resume", got)
			}
		})
	}

	out, errOut, err := execCmd(env, "resume", s.ID, "--plain", "--answers", ans, "--yes", "--var", "tenant="+secret)
	if err != nil {
		t.Fatalf("resume --var tenant=… = %v\n%s\n%s", err, out, errOut)
	}
	if got, want := sqlQuery(t, db, "SELECT group_concat(tenant || '/' || region, ',') FROM items ORDER BY id"),
		secret+"/us,"+secret+"/us"; got != want {
		t.Errorf("items = %q, want %q", got, want)
	}
	if strings.Contains(out.String()+errOut.String(), secret) {
		t.Errorf("resume prints the secret:\n%s\n%s", out, errOut)
	}
}
