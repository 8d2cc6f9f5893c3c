package engine_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/steps"
)

// settingsValue is the SQLite flag's stored value as SQL (quote()): NULL,
// 0, 1, 'maint'.
func settingsValue(t *testing.T, r *rig.Data) string {
	t.Helper()
	db := r.SQLDB(t)
	var v string
	if err := db.QueryRow(`SELECT quote(enabled) FROM settings WHERE name = 'maintenance'`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func setSettings(t *testing.T, r *rig.Data, sqlValue string) {
	t.Helper()
	db := r.SQLDB(t)
	if _, err := db.Exec(`UPDATE settings SET enabled = ` + sqlValue + ` WHERE name = 'maintenance'`); err != nil {
		t.Fatal(err)
	}
}

// TestLockRestoresPreviousMaintenanceValue: unlock puts back the value the
// flag had before the lock — also across a resumable stop and a resume in
// a new process — instead of deleting it.
func TestLockRestoresPreviousMaintenanceValue(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		before     string // SQL
		wantBefore any    // LockResult.Maintenance.Before
		resume     bool
	}{
		{"NULL", nil, false},
		{"0", engine.Number("0"), false},
		{"1", engine.Number("1"), false}, // already in maintenance before the lock
		{"'maint'", "maint", false},
		{"0", engine.Number("0"), true},
		{"1", engine.Number("1"), true},
	} {
		t.Run(fmt.Sprintf("%s/resume=%t", tt.before, tt.resume), func(t *testing.T) {
			rb := rig.DataRunbook(t, 2, "", lockSteps)
			r := rig.NewSQLite(t, rb, 10)
			addSettings(t, r)
			setSettings(t, r, tt.before)
			res, err := r.Run(r.StepContext("take"))
			if err != nil {
				t.Fatalf("lock: %v", err)
			}
			t.Cleanup(func() { _ = r.Leases.Release(context.Background()) })
			m := res.(engine.LockResult).Maintenance
			if m == nil {
				t.Fatal("lock result has no maintenance flag")
			}
			if !engine.EqualValues(m.Before, tt.wantBefore) || len(m.SharedWith) != 0 {
				t.Errorf("lock result maintenance = %+v, want before %#v", m, tt.wantBefore)
			}
			if got := settingsValue(t, r); got != "1" {
				t.Fatalf("flag while locked = %s, want 1", got)
			}
			if tt.resume {
				if flags, err := r.Leases.Suspend(r.Ctx); err != nil || flags != 1 {
					t.Fatalf("SuspendLeases()=%d, %v", flags, err)
				}
				if got := settingsValue(t, r); got != "1" {
					t.Fatalf("flag after a resumable stop = %s, want 1", got)
				}
				if err := engine.ResumeLeases(r.Ctx, r.StepContext("give")); err != nil {
					t.Fatalf("ResumeLeases: %v", err)
				}
			}
			res, err = r.Run(r.StepContext("give"))
			if err != nil {
				t.Fatalf("unlock: %v", err)
			}
			if ur := res.(steps.UnlockResult); ur.MaintenanceCleared != 1 || len(ur.MaintenanceLeftOn) != 0 {
				t.Errorf("unlock = %+v, want 1 flag cleared", ur)
			}
			if got := settingsValue(t, r); got != tt.before {
				t.Errorf("flag after unlock = %s, want %s restored", got, tt.before)
			}
		})
	}
}

// TestLockSharedMaintenanceFlag: two runbooks (two leases) whose locks set
// the same flag row. The first unlock leaves the flag on for the other;
// the second restores the value from before the first lock. Either may
// unlock first, and a resumable stop of one keeps it on for that one.
func TestLockSharedMaintenanceFlag(t *testing.T) {
	t.Parallel()
	for _, firstOut := range []string{"users", "orders"} {
		t.Run(firstOut+" unlocks first", func(t *testing.T) {
			rb := rig.DataRunbook(t, 2, "", lockSteps)
			users := rig.NewSQLite(t, rb, 10)
			addSettings(t, users)
			setSettings(t, users, "0")
			orders := rig.OtherRunbook(t, users, "orders-migration")
			if _, err := users.Run(users.StepContext("take")); err != nil {
				t.Fatalf("lock users: %v", err)
			}
			t.Cleanup(func() { _ = users.Leases.Release(context.Background()) })
			res, err := orders.Run(orders.StepContext("take"))
			if err != nil {
				t.Fatalf("lock orders: %v", err)
			}
			t.Cleanup(func() { _ = orders.Leases.Release(context.Background()) })
			m := res.(engine.LockResult).Maintenance
			if !engine.EqualValues(m.Before, engine.Number("0")) || !slices.Equal(m.SharedWith, []string{"users-migration/test"}) {
				t.Errorf("second lock's maintenance = %+v, want before 0 (not the first lock's 1), shared with users-migration/test", m)
			}
			first, second := users, orders
			if firstOut == "orders" {
				first, second = orders, users
			}
			res, err = first.Run(first.StepContext("give"))
			if err != nil {
				t.Fatalf("first unlock: %v", err)
			}
			ur := res.(steps.UnlockResult)
			if want := second.RB.Name + "/test"; ur.MaintenanceCleared != 0 || !slices.Equal(ur.MaintenanceLeftOn, []string{want}) || len(ur.Released) != 1 {
				t.Errorf("first unlock = %+v, want lease released, flag left on for %s", ur, want)
			}
			if got := settingsValue(t, users); got != "1" {
				t.Fatalf("flag after the first unlock = %s, want 1: the other migration is still locked", got)
			}
			// The second stops resumably and resumes (a new process): still on.
			if _, err := second.Leases.Suspend(second.Ctx); err != nil {
				t.Fatal(err)
			}
			if got := settingsValue(t, users); got != "1" {
				t.Fatalf("flag after the second's resumable stop = %s, want 1", got)
			}
			if err := engine.ResumeLeases(second.Ctx, second.StepContext("give")); err != nil {
				t.Fatalf("ResumeLeases: %v", err)
			}
			res, err = second.Run(second.StepContext("give"))
			if err != nil {
				t.Fatalf("second unlock: %v", err)
			}
			if ur := res.(steps.UnlockResult); ur.MaintenanceCleared != 1 || len(ur.MaintenanceLeftOn) != 0 {
				t.Errorf("second unlock = %+v, want the flag cleared", ur)
			}
			if got := settingsValue(t, users); got != "0" {
				t.Errorf("flag after the last unlock = %s, want 0 restored", got)
			}
		})
	}
}

// TestLockSharedMaintenanceFlagRollback: a session that ends (rollback,
// completion: ReleaseLeases) while another runbook's lock holds the flag
// leaves it on; the lost lease of a third never touches it.
func TestLockSharedMaintenanceFlagRollback(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "", lockSteps)
	users := rig.NewSQLite(t, rb, 10)
	addSettings(t, users)
	orders := rig.OtherRunbook(t, users, "orders-migration")
	for _, r := range []*rig.Data{users, orders} {
		if _, err := r.Run(r.StepContext("take")); err != nil {
			t.Fatalf("lock %s: %v", r.RB.Name, err)
		}
	}
	if err := users.Leases.Release(users.Ctx); err != nil {
		t.Fatal(err)
	}
	if got := settingsValue(t, users); got != "1" {
		t.Fatalf("flag after one session ended = %s, want 1", got)
	}
	if err := orders.Leases.Release(orders.Ctx); err != nil {
		t.Fatal(err)
	}
	if got := settingsValue(t, users); got != "NULL" {
		t.Errorf("flag after both ended = %s, want NULL restored", got)
	}
}
