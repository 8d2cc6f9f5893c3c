package integration_test

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// claimItems is the table size of the two-session tests; dynalite
// writes about 1,000 items a second under -race, so its table is smaller:
// four segments of each session still cross the other's many times.
const (
	claimItems       = 20000
	claimItemsDynamo = 6000
)

// flagSteps sets flag on every item (none has one).
const flagSteps = `      - id: flag
        kind: migrate
        with:
          set: {flag: '1'}
          batch_size: 200
          segments: 4
`

// runTwice runs the flag step of a and b at the same time and returns
// both results.
func runTwice(t *testing.T, a, b *rig.Data) [2]engine.MigrateCounts {
	t.Helper()
	var res [2]engine.MigrateCounts
	var wg sync.WaitGroup
	for i, r := range []*rig.Data{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := r.Run(r.StepContext("flag"))
			if err != nil {
				t.Errorf("session %d: %v", i, err)
				return
			}
			res[i] = out.(migrate.Result).MigrateCounts
		}()
	}
	wg.Wait()
	return res
}

// checkClaims checks that the two sessions together claim each item once:
// every item was written by exactly one of them, so their migrated counts
// add up to the table, and each counts the others as already there.
func checkClaims(t *testing.T, res [2]engine.MigrateCounts, items map[string]engine.Item) {
	t.Helper()
	t.Logf("session 0: %+v", res[0])
	t.Logf("session 1: %+v", res[1])
	if sum := res[0].Migrated + res[1].Migrated; sum != int64(len(items)) {
		t.Errorf("sessions claim %d + %d = %d items migrated, want %d (each item once)", res[0].Migrated, res[1].Migrated, sum, len(items))
	}
	for i, c := range res {
		if c.Migrated+c.Already != c.Scanned || c.Failures+c.Unresolved != 0 {
			t.Errorf("session %d: migrated %d + already %d != scanned %d (failures %d, unresolved %d)",
				i, c.Migrated, c.Already, c.Scanned, c.Failures, c.Unresolved)
		}
	}
	for id, it := range items {
		if rig.AttrNum(it, "v") != 2 || rig.AttrNum(it, "flag") != 1 {
			t.Fatalf("item %s = %v, want v 2, flag 1", id, it)
		}
	}
}

// TestTwoSessionsClaimEachItemOnceSQLite: two sessions migrating the same
// SQLite table at once never claim more items than exist.
func TestTwoSessionsClaimEachItemOnceSQLite(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "    max_write_rate: 0", flagSteps)
	a := rig.NewSQLite(t, rb, claimItems)
	st, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: filepath.Join(a.Dir, "data.db"), Table: "users", Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := rig.NewData(t, rb, st, t.TempDir())
	checkClaims(t, runTwice(t, a, b), a.All())
}

// TestTwoSessionsClaimEachItemOnceDynamo is the same on dynalite.
func TestTwoSessionsClaimEachItemOnceDynamo(t *testing.T) {
	t.Parallel()
	a := newDynamoRig(t, 2, "    max_write_rate: 0", flagSteps, claimItemsDynamo, nil)
	st, err := dynamo.Open(context.Background(), a.RB.Env("test").Store)
	if err != nil {
		t.Fatal(err)
	}
	b := rig.NewData(t, a.RB, st, t.TempDir())
	checkClaims(t, runTwice(t, a, b), a.All())
}

// TestMigrateDynamoLostAnswerIsOurs: a write applied whose answer was
// lost, retried by the SDK and refused by its own guard (or throttled,
// then retried by the engine and refused), is this session's write
// (migrated, no conflict), not an item someone else migrated.
func TestMigrateDynamoLostAnswerIsOurs(t *testing.T) {
	const n = 300
	t.Setenv("AWS_CA_BUNDLE", "") // the SDK refuses a caller's HTTP client with a custom CA bundle
	ft := &faultTransport{base: http.DefaultTransport, throttleEvery: 5, dropEvery: 7}
	r := newDynamoRig(t, 2, "    max_write_rate: 0", flagSteps, n, ft)
	res, err := r.Run(r.StepContext("flag"))
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	got := res.(migrate.Result).MigrateCounts
	if ft.drops.Load() == 0 {
		t.Fatal("no answer was lost")
	}
	if got.Migrated != n || got.Already != 0 || got.Conflicts != 0 {
		t.Errorf("counts = %+v after %d lost answers, want all %d migrated, none already, no conflict", got, ft.drops.Load(), n)
	}
}
