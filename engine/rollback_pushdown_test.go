package engine_test

import (
	"database/sql"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine/migrate"
)

// TestRollbackOfPushdownFromNoVersion: a migration to version 2 of rows
// without a version runs pushed down (one UPDATE per key-range page, no
// key recorded), and its rollback leaves the table as it was, byte for
// byte: every version absent again, not 1.
func TestRollbackOfPushdownFromNoVersion(t *testing.T) {
	t.Parallel()
	var before []string
	s, db := rollBackSplit(t, 2, 400, func(db *sql.DB) { before = tableDump(t, db) })
	var res migrate.Result
	state := s.State()
	if st := state.StepState("backfill"); st == nil || json.Unmarshal(st.Result, &res) != nil {
		t.Fatal("no result for backfill")
	}
	if res.PushdownPages == 0 || res.PerRowPages > 0 || res.Migrated != 320 {
		t.Fatalf("backfill: %d pages pushed down, %d per row, %d migrated; want every page pushed down, 320 migrated",
			res.PushdownPages, res.PerRowPages, res.Migrated)
	}
	after := tableDump(t, db)
	if len(after) != len(before) {
		t.Fatalf("%d rows after the rollback, %d before", len(after), len(before))
	}
	wrong := 0
	for i := range before {
		if after[i] != before[i] {
			if wrong++; wrong <= 3 {
				t.Errorf("after the rollback:\n  %s\nbefore the migration:\n  %s", after[i], before[i])
			}
		}
	}
	if wrong > 3 {
		t.Errorf("... %d rows differ in all", wrong)
	}
}

// tableDump returns every row of users as SQL literals (quote(): the
// value and its type), in key order.
func tableDump(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT quote(id) || ',' || quote(name) || ',' || quote(count) || ',' || quote(address) || ',' ||
		quote(street_name) || ',' || quote(city) || ',' || quote(postcode) || ',' || quote(flag) || ',' || quote(v) FROM users ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 || !strings.Contains(out[0], ",") {
		t.Fatal("empty table")
	}
	return out
}
