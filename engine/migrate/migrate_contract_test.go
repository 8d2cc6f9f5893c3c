package migrate_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

const contractSteps = rig.SplitSteps + `      - id: drop-address
        kind: migrate
        with: {remove: [address]}
`

// TestMigrateContractStep: a migrate step after the runbook's first one
// (the clean-up that drops the old attribute) works on the items the
// first moved to the runbook's version, not on none of them (they are all
// at that version already): it removes address from every migrated item,
// leaves an item the first step did not migrate untouched, keeps the
// version, and a re-run changes nothing.
func TestMigrateContractStep(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 3, "    max_write_rate: 0", contractSteps)
	if after := rb.Step("drop-address").Migrate.After; after != "backfill" {
		t.Fatalf("drop-address After = %q, want backfill", after)
	}
	r := rig.NewSQLite(t, rb, 500)
	if _, err := r.Run(r.StepContext("backfill")); err != nil {
		t.Fatalf("backfill: %v", err)
	}
	db := r.SQLDB(t)
	// Row 7 was not migrated (say its write failed): the clean-up must
	// not take the address it still needs.
	if _, err := db.Exec(`UPDATE users SET v = NULL, street_name = NULL, city = NULL WHERE id = 7`); err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(r.StepContext("drop-address"))
	if err != nil {
		t.Fatalf("drop-address: %v", err)
	}
	got := res.(migrate.Result)
	if got.Migrated != 399 || got.Version != 3 || got.After != "backfill" {
		t.Errorf("drop-address result = %+v, want 399 written at version 3 after backfill", got)
	}
	var withAddr, migratedWithAddr, atV3 int
	if err := db.QueryRow(`SELECT count(address), count(address) FILTER (WHERE v = 3), count(*) FILTER (WHERE v = 3) FROM users`).
		Scan(&withAddr, &migratedWithAddr, &atV3); err != nil {
		t.Fatal(err)
	}
	if withAddr != 1 || migratedWithAddr != 0 || atV3 != 399 {
		t.Errorf("after the clean-up: %d rows keep an address (%d of them migrated), %d at v3; want only row 7, 399 at v3",
			withAddr, migratedWithAddr, atV3)
	}
	res, err = r.Run(r.StepContext("drop-address"))
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if again := res.(migrate.Result); again.Migrated != 0 || again.Unchanged != 399 {
		t.Errorf("re-run counts = %+v, want nothing written, 399 unchanged", again.MigrateCounts)
	}
}

// TestMigrateContractSession runs backfill and its clean-up through the
// session loop: the clean-up writes the rows backfill migrated.
func TestMigrateContractSession(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 3, "    max_write_rate: 0", contractSteps)
	r := rig.NewSQLite(t, rb, 200)
	cfg := rig.SQLiteSessionConfig(t, rb, filepath.Join(r.Dir, "data.db"))
	s, err := engine.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := s.Run(context.Background()); err != nil || out != engine.OutcomeCompleted {
		t.Fatalf("Run() = %s, %v", out, err)
	}
	st := s.State()
	var res migrate.Result
	if err := json.Unmarshal(st.StepState("drop-address").Result, &res); err != nil {
		t.Fatal(err)
	}
	if res.Migrated != 160 {
		t.Errorf("drop-address migrated %d, want the 160 rows backfill migrated", res.Migrated)
	}
}
