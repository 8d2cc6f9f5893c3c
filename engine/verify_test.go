package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/steps"
)

func TestVerifyAfterMigration(t *testing.T) {
	t.Parallel()
	src := rig.SplitSteps + `      - {id: snapshot, kind: backup}
      - {id: none-left, kind: verify, with: {expect_none: "item.address != nil && (item.v == nil || item.v < 3)", backup: snapshot}}
      - {id: sampled, kind: verify, with: {sample: 50, assert: 'item.address == nil || item.street_name != nil'}}
`
	tests := []struct {
		name     string
		migrate  bool
		wantErr  string
		matching int64
		failed   int64
	}{
		{"before migration fails", false, "400 items still match", 400, 40},
		{"after migration passes", true, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rig.NewSQLite(t, rig.DataRunbook(t, 3, "", src), 500)
			rig.BackupOf(t, r)
			if tt.migrate {
				if _, err := r.Run(r.StepContext("backfill")); err != nil {
					t.Fatal(err)
				}
			}
			res, err := r.Run(r.StepContext("none-left"))
			if tt.wantErr != "" {
				if !errors.Is(err, steps.ErrVerifyFailed) || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "id=1") {
					t.Fatalf("verify error = %v, want %q listing keys", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("verify: %v", err)
			}
			vr := res.(steps.VerifyStepResult)
			if vr.ExpectNone.Matching != tt.matching || vr.ExpectNone.Scanned != 500 || len(vr.ExpectNone.Keys) > 10 {
				t.Errorf("expect_none = %+v, want %d matching of 500", vr.ExpectNone, tt.matching)
			}
			if vr.Backup == nil || vr.Backup.Before != 500 || vr.Backup.After != 500 || !vr.Backup.Match {
				t.Errorf("backup count = %+v, want 500 before and after", vr.Backup)
			}
			res, err = r.Run(r.StepContext("sampled"))
			if (err != nil) != (tt.failed > 0) {
				t.Fatalf("assert error = %v, want failure %t", err, tt.failed > 0)
			}
			ar := res.(steps.VerifyStepResult).Assert
			if ar.Sampled != 50 || ar.Failed != tt.failed {
				t.Errorf("assert = %+v, want 50 sampled, %d failed", ar, tt.failed)
			}
		})
	}
}
