package acceptance

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPostgresLiteralDSNRedacted: a DSN written with its password in the
// runbook itself (not through ${VAR}) shows it nowhere lockstep reports:
// not on the screen, not in the journal's events, not in journal show.
// (The journal keeps the runbook file verbatim, hashed for tamper
// evidence, so the password is in that copy: docs/postgres.md says to
// write ${VAR}.)
func TestPostgresLiteralDSNRedacted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	dsn := pgDB(t)
	seedPostgres(t, dsn, "counters", 50)
	rb := h.writeFile("literal.yaml", fmt.Sprintf(`lockstep: 1
name: acc-pg-literal
title: Estimate with a literal DSN
version: 2
strategy: multi-step
roles: {responsible: [acc-op], accountable: acc-op}
environments:
  test:
    store: {kind: postgres, dsn: "%s", table: counters, key: [id]}
phases:
  - name: estimate
    steps:
      - {id: size, kind: estimate, with: {where: "item.v < 2"}}
`, dsn))
	r := h.mustRun(0, time.Minute, "run", rb, "--env", "test", "--plain")
	show := h.mustRun(0, time.Minute, "journal", "show", h.onlySession().ID)
	var events string
	if err := h.journalDB().QueryRow(`SELECT group_concat(coalesce(data, ''), ' ') FROM events`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(events, "counters") {
		t.Fatalf("the journal's events do not name the table: nothing checked\n%s", events)
	}
	for name, text := range map[string][]byte{"the run's output": []byte(r.Stdout + r.Stderr), "journal show": []byte(show.Stdout), "the journal's events": []byte(events)} {
		if bytes.Contains(text, []byte(pgPassword)) {
			t.Errorf("%s holds the DSN's password", name)
		}
	}
}
