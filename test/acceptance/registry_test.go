package acceptance

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/dynalite"
	"github.com/lockstep-run/lockstep/internal/journaltest"
)

// registryRunbook is the counter migration with a staging environment and
// a protected prod one, each with its own store; text changes the
// runbook's SHA-256 without changing what it does.
func registryRunbook(version int, staging, prod, text string) string {
	return fmt.Sprintf(`lockstep: 1
name: acc-registry
title: Increment every counter once
version: %d
strategy: multi-step
roles:
  responsible: [acc-op]
lint:
  ignore: {LS109: t, LS401: t, LS402: t, LS403: t, LS405: t, LS603: t, LS301: t, LS303: t, LS502: t}
environments:
  staging:
    store: %s
  prod:
    protected: true
    store: %s
phases:
  - name: run
    steps:
      - id: bump
        kind: migrate
        text: %s
        with:
          where: "item.v == nil || item.v < %d"
          set: {count: "item.count + 1"}
          batch_size: 50
`, version, staging, prod, text, targetVersion)
}

// TestRegistry: the registry in each environment's store, across two
// journal files (a CI machine's rehearsal, an operator's production run),
// on SQLite files, dynalite and PostgreSQL:
//   - the rehearsal recorded by journal A lets a protected live run with
//     journal B start without `unrehearsed` (and a runbook never rehearsed
//     is refused without it);
//   - a version regression and a same-version-other-checksum run are
//     refused with exit 2, naming the registry's record;
//   - `registry --format json` lists both prod sessions, newest first,
//     with exactly the documented fields;
//   - `journal verify --env prod` passes, then exits 1 after the journal
//     is rechained after an edit, or after a session is deleted.
func TestRegistry(t *testing.T) {
	t.Parallel()
	const n = 200
	stores := []struct {
		name  string
		setup func(t *testing.T, h *harness) (staging, prod string)
	}{
		{"sqlite", func(t *testing.T, h *harness) (string, string) {
			s, p := filepath.Join(h.dir, "staging.db"), filepath.Join(h.dir, "prod.db")
			seedSQLite(t, s, "counters", n)
			seedSQLite(t, p, "counters", n)
			return sqliteStore(s, "counters"), sqliteStore(p, "counters")
		}},
		{"dynamodb", func(t *testing.T, h *harness) (string, string) {
			endpoint := dynalite.Start(t)
			c := dynamoClient(t, endpoint)
			seedDynamo(t, c, "staging-counters", randomCounts(t, n, "s"))
			seedDynamo(t, c, "prod-counters", randomCounts(t, n, "p"))
			return dynamoStore(endpoint, "staging-counters"), dynamoStore(endpoint, "prod-counters")
		}},
		{"postgres", func(t *testing.T, h *harness) (string, string) {
			dsn := pgDB(t)
			h.vars = append(h.vars, "PG_DSN="+dsn)
			seedPostgres(t, dsn, "staging_counters", n)
			seedPostgres(t, dsn, "prod_counters", n)
			return postgresStore("staging_counters"), postgresStore("prod_counters")
		}},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.vars = append(h.vars, "AWS_ACCESS_KEY_ID=acceptance", "AWS_SECRET_ACCESS_KEY=acceptance-secret", "AWS_REGION=us-east-1")
			staging, prod := st.setup(t, h)
			rb := h.writeFile("rb.yaml", registryRunbook(2, staging, prod, "Add one to every counter."))
			ci, ops := filepath.Join(h.dir, "ci.db"), filepath.Join(h.dir, "ops.db")
			confirm := h.writeFile("answers.yaml", "confirm_env: prod\n")
			run := func(want int, journal string, args ...string) string {
				t.Helper()
				r := h.startWith(journal, nil, args...).Wait(2 * time.Minute)
				if r.Code != want {
					t.Fatalf("lockstep %s: exit %d, want %d\n%s", strings.Join(args, " "), r.Code, want, r)
				}
				return r.Stdout + r.Stderr
			}

			// Never rehearsed anywhere: refused without a reason.
			out := run(2, ops, "run", rb, "--env", "prod", "--plain", "--answers", confirm)
			if !strings.Contains(out, `"unrehearsed"`) {
				t.Errorf("an unrehearsed protected run does not ask for unrehearsed:\n%s", out)
			}
			// CI rehearses in staging with its own journal; the operator's
			// journal never sees it, the staging registry does.
			run(0, ci, "run", rb, "--env", "staging", "--mode", "rehearsal", "--plain")
			run(0, ops, "run", rb, "--env", "prod", "--plain", "--answers", confirm)
			run(0, ops, "run", rb, "--env", "prod", "--plain", "--answers", confirm) // again: nothing to migrate
			if evs := confirmsOf(t, ops, "unrehearsed"); evs != 0 {
				t.Errorf("the production runs journaled %d unrehearsed overrides, want 0", evs)
			}

			// Version regression and a changed version 2 are refused.
			older := h.writeFile("v1.yaml", registryRunbook(1, staging, prod, "Add one (old copy)."))
			out = run(2, ops, "run", older, "--env", "prod", "--plain", "--answers", confirm)
			if !strings.Contains(out, "version_regression") || !strings.Contains(out, "version 2") {
				t.Errorf("a version regression is not refused naming version 2 and version_regression:\n%s", out)
			}
			edited := h.writeFile("v2-edited.yaml", registryRunbook(2, staging, prod, "Add one to every counter (edited)."))
			out = run(2, ops, "run", edited, "--env", "prod", "--plain", "--answers", confirm)
			if !strings.Contains(out, "version 2 of acc-registry completed in prod") {
				t.Errorf("a same-version other-checksum run is not refused naming the record:\n%s", out)
			}

			// The prod registry lists both live sessions.
			var recs []map[string]any
			if err := json.Unmarshal([]byte(run(0, ops, "registry", "--env", "prod", rb, "--format", "json")), &recs); err != nil {
				t.Fatal(err)
			}
			ids := sessionIDs(t, ops, "prod")
			fields := []string{"checksum", "ended", "env", "head", "host", "migrated", "mode", "name", "operator", "outcome", "session", "started", "version"}
			if len(recs) != 2 {
				t.Fatalf("registry --env prod lists %d records, want 2: %v", len(recs), recs)
			}
			for i, r := range recs {
				if got := slices.Sorted(maps.Keys(r)); !slices.Equal(got, fields) {
					t.Errorf("record %d has fields %v, want %v", i, got, fields)
				}
				if r["session"] != ids[len(ids)-1-i] || r["outcome"] != "completed" || r["mode"] != "live" || r["name"] != "acc-registry" ||
					r["version"] != 2.0 || r["operator"] != "acc-op" || r["head"] == "" {
					t.Errorf("record %d = %v, want session %s completed live, newest first", i, r, ids[len(ids)-1-i])
				}
			}
			if recs[0]["migrated"] != 0.0 || recs[1]["migrated"] != float64(n) {
				t.Errorf("migrated = %v, %v; want 0 (newest) and %d", recs[0]["migrated"], recs[1]["migrated"], n)
			}

			// journal verify --env: intact, then rechained after an edit
			// (a copy of the journal), then with the last session deleted.
			run(0, ops, "journal", "verify", "--env", "prod", "--runbook", rb)
			copied := filepath.Join(h.dir, "ops-copy.db")
			copyJournal(t, ops, copied)
			last := ids[len(ids)-1]
			tamper(t, copied, func(db *sql.DB) {
				if _, err := db.Exec(`UPDATE events SET data = '{"outcome":"completed","note":"nothing to see"}'
					WHERE session = ?1 AND seq = (SELECT MAX(seq) FROM events WHERE session = ?1)`, last); err != nil {
					t.Fatal(err)
				}
				journaltest.Rechain(t, db, last)
			})
			run(0, copied, "journal", "verify") // the chain alone cannot tell
			out = run(1, copied, "journal", "verify", "--env", "prod", "--runbook", rb)
			if !strings.Contains(out, "rewritten") {
				t.Errorf("verify --env after a rechain does not say the session was rewritten:\n%s", out)
			}
			tamper(t, ops, func(db *sql.DB) {
				for _, q := range []string{`DELETE FROM checkpoints WHERE session = ?`, `DELETE FROM applied WHERE session = ?`,
					`DELETE FROM events WHERE session = ?`, `DELETE FROM sessions WHERE id = ?`} {
					if _, err := db.Exec(q, last); err != nil {
						t.Fatal(err)
					}
				}
			})
			run(0, ops, "journal", "verify") // the last session: no later one links to it
			out = run(1, ops, "journal", "verify", "--env", "prod", "--runbook", rb)
			if !strings.Contains(out, last) || !strings.Contains(out, "missing from the journal") {
				t.Errorf("verify --env after a deletion does not name %s as missing:\n%s", last, out)
			}
		})
	}
}

// confirmsOf counts the confirm events of kind what in a journal.
func confirmsOf(t *testing.T, journal, what string) int {
	t.Helper()
	db := readJournal(t, journal)
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM events WHERE kind = 'confirm' AND json_extract(data, '$.what') = ?`, what).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sessionIDs lists the sessions of a journal in env, oldest first.
func sessionIDs(t *testing.T, journal, env string) []string {
	t.Helper()
	var ids []string
	for _, s := range sessionsOf(t, readJournal(t, journal)) {
		if s.Env == env && s.Outcome == "completed" {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// copyJournal copies a journal no process has open (its -wal too).
func copyJournal(t *testing.T, from, to string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(from + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// tamper opens a journal read-write and hands it to edit.
func tamper(t *testing.T, path string, edit func(db *sql.DB)) {
	t.Helper()
	db, err := sql.Open("sqlite3", path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	edit(db)
}
