package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/steps"
)

// setVersions sets v on the rig's SQLite rows whose id is at most upTo.
func setVersions(t *testing.T, r *rig.Data, v, upTo int) {
	t.Helper()
	db := r.SQLDB(t)
	if _, err := db.Exec(`UPDATE users SET v = ? WHERE id <= ?`, v, upTo); err != nil {
		t.Fatalf("set versions: %v", err)
	}
}

// TestEstimateSampleErrors: an item the selection fails on (see
// selectForMigrate) is counted in the set, as migrate would try it, and
// reported by key with the error and a journaled warning.
func TestEstimateSampleErrors(t *testing.T) {
	t.Parallel()
	steps := "      - {id: size, kind: estimate, with: {where: \"item.v < 3\", exact_count: true}}\n"
	r := rig.NewSQLite(t, rig.DataRunbook(t, 3, "    max_write_rate: 100", steps), 100)
	setVersions(t, r, 3, 40)
	res, err := r.Run(r.StepContext("size"))
	if err != nil {
		t.Fatalf("estimate: %v", err)
	}
	// ids 1-40 are at version 3; where fails on the 60 others (v is nil).
	e := res.(migrate.EstimateResult)
	if e.MigrationSet != 60 || e.SampleErrors != 60 || !e.MigrationSetExact {
		t.Errorf("set %d (exact %v), errors %d; want 60, 60", e.MigrationSet, e.MigrationSetExact, e.SampleErrors)
	}
	if len(e.ErrorKeys) != 10 || !strings.HasPrefix(e.ErrorKeys[0], "id=") || !strings.Contains(e.ErrorKeys[0], "where: eval") {
		t.Errorf("error keys = %q, want 10 keys with the error", e.ErrorKeys)
	}
	if len(r.EventsOf(engine.EvWarning)) != 1 {
		t.Error("sample errors not journaled as a warning")
	}
}

// TestVerifyExpressionErrors: an expression that fails on an item counts
// it as still matching expect_none (as failing assert): verify fails and
// lists the item with the error, it does not abort on the first one.
func TestVerifyExpressionErrors(t *testing.T) {
	t.Parallel()
	src := `      - {id: check, kind: verify, with: {expect_none: "item.v < 3", assert: "item.v >= 3", sample: 100}}
`
	r := rig.NewSQLite(t, rig.DataRunbook(t, 3, "", src), 30)
	setVersions(t, r, 3, 5) // ids 6-30 have no version
	res, err := r.Run(r.StepContext("check"))
	if !errors.Is(err, steps.ErrVerifyFailed) {
		t.Fatalf("verify error = %v, want %v", err, steps.ErrVerifyFailed)
	}
	got := res.(steps.VerifyStepResult)
	en, as := got.ExpectNone, got.Assert
	if got.Passed || en == nil || en.Scanned != 30 || en.Matching != 25 || en.Errors != 25 || len(en.Keys) != 10 {
		t.Fatalf("expect_none = %+v, want 25 of 30 matching, all errors, 10 listed", en)
	}
	if k := en.Keys[0]; !strings.HasPrefix(k, "id=") || !strings.Contains(k, `(eval "item.v < 3": invalid operation: <nil> < int`) || strings.Contains(k, "\n") {
		t.Errorf("listed key = %q, want the key and the error's first line", k)
	}
	if as == nil || as.Sampled != 30 || as.Failed != 25 || as.Errors != 25 {
		t.Errorf("assert = %+v, want 25 of 30 failed, all errors", as)
	}
	if !strings.Contains(err.Error(), `25 items still match "item.v < 3", 25 of them because the expression failed on them`) {
		t.Errorf("error = %v", err)
	}
}
