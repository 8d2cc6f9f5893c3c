package integration_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// streetSteps sets street_name without reading it: only the guard on the
// attributes a write sets keeps it from overwriting an application's
// newer street_name.
const streetSteps = `      - id: street
        kind: migrate
        with:
          set:
            street_name: '"mig-" + item.name'
          batch_size: 100
          segments: 2
`

// readLog observes what a migrate step reads and which of its writes
// apply: for each item, the street_name of its latest read (Scan or Get)
// and, once a write of the item applied, the street_name of the read that
// write was planned on. It injects nothing: every call reaches the store.
type readLog struct {
	engine.Store
	mu        sync.Mutex
	lastRead  map[string]any // id → street_name at the latest read
	plannedOn map[string]any // id → street_name the applied write was planned on
	applied   map[string]bool
}

func newReadLog(st engine.Store) *readLog {
	return &readLog{Store: st, lastRead: map[string]any{}, plannedOn: map[string]any{}, applied: map[string]bool{}}
}

func (l *readLog) Scan(ctx context.Context, req engine.ScanRequest) (engine.Page, error) {
	p, err := l.Store.Scan(ctx, req)
	l.mu.Lock()
	for _, it := range p.Items {
		l.lastRead[fmt.Sprint(it["id"])] = it["street_name"]
	}
	l.mu.Unlock()
	return p, err
}

func (l *readLog) Get(ctx context.Context, key engine.Item) (engine.Item, bool, error) {
	it, ok, err := l.Store.Get(ctx, key)
	if err == nil && ok {
		l.mu.Lock()
		l.lastRead[fmt.Sprint(it["id"])] = it["street_name"]
		l.mu.Unlock()
	}
	return it, ok, err
}

func (l *readLog) wrote(u engine.Update, err error) {
	if err != nil {
		return
	}
	id := fmt.Sprint(u.Key["id"])
	l.mu.Lock()
	l.plannedOn[id], l.applied[id] = l.lastRead[id], true
	l.mu.Unlock()
}

func (l *readLog) Update(ctx context.Context, u engine.Update) error {
	err := l.Store.Update(ctx, u)
	l.wrote(u, err)
	return err
}

// batchReadLog is a readLog over a store with UpdateBatch (SQLite).
type batchReadLog struct{ *readLog }

func (l batchReadLog) UpdateBatch(ctx context.Context, us []engine.Update) []error {
	errs := l.Store.(engine.BatchUpdater).UpdateBatch(ctx, us)
	for i, u := range us {
		l.wrote(u, errs[i])
	}
	return errs
}

// app is an application writing street_name and, separately, flag (an
// attribute the migration neither reads nor writes) of every item, round
// after round, through its own store handle, until stopped. It records
// the value of its last applied write of each.
type app struct {
	st     engine.Store
	ids    []engine.Item // keys
	mu     sync.Mutex
	street map[string]string
	flag   map[string]int64
	writes atomic.Int64
}

func (a *app) run(ctx context.Context, t *testing.T, workers int) *sync.WaitGroup {
	a.street, a.flag = map[string]string{}, map[string]int64{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := int64(1); ctx.Err() == nil; round++ {
				for i := w; i < len(a.ids) && ctx.Err() == nil; i += workers {
					a.write(t, a.ids[i], round)
				}
			}
		}()
	}
	return &wg
}

// write sets street_name, then flag, of key, retrying a write until it
// applies (it is idempotent: the same value again).
func (a *app) write(t *testing.T, key engine.Item, round int64) {
	id := fmt.Sprint(key["id"])
	street := fmt.Sprintf("app-%s-%d", id, round)
	for _, u := range []engine.Update{
		{Key: key, Set: engine.Attrs(map[string]any{"street_name": street})},
		{Key: key, Set: engine.Attrs(map[string]any{"flag": engine.Number(fmt.Sprint(round))})},
	} {
		for try := 0; ; try++ {
			err := a.st.Update(context.Background(), u)
			if err == nil {
				break
			}
			if try == 20 {
				t.Errorf("application write of %s: %v", id, err)
				return
			}
		}
		a.writes.Add(1)
	}
	a.mu.Lock()
	a.street[id], a.flag[id] = street, round
	a.mu.Unlock()
}

// checkNoLostWrite checks every item after the migration and the
// application stopped: its flag is the application's last; its
// street_name is the application's last write, or the migration's value
// planned on a read that saw that last write (so written after it, with
// nothing of the application's overwritten). It returns the number of
// items whose last application write was lost.
func checkNoLostWrite(t *testing.T, items map[string]engine.Item, a *app, l *readLog) int {
	t.Helper()
	lost := 0
	for id, it := range items {
		wantStreet, wrote := a.street[id]
		if wrote && rig.AttrNum(it, "flag") != a.flag[id] {
			t.Errorf("item %s flag = %v, want the application's last %d", id, it["flag"], a.flag[id])
		}
		got := rig.AttrStr(it, "street_name")
		switch {
		case wrote && got == wantStreet:
		case got == "mig-"+rig.AttrStr(it, "name") && l.applied[id]:
			var seen string
			if s, ok := l.plannedOn[id].(string); ok {
				seen = s
			}
			if seen != wantStreet {
				lost++
				if lost <= 5 {
					t.Errorf("item %s: the migration overwrote the application's street_name %q (its write was planned on %q)", id, wantStreet, seen)
				}
			}
		default:
			t.Errorf("item %s street_name = %q: neither the application's last %q nor the migration's", id, got, wantStreet)
		}
	}
	return lost
}

// raceStreet runs the street step on r while an application writes the
// same items through appStore, then checks that no application write was
// lost.
func raceStreet(t *testing.T, r *rig.Data, appStore engine.Store, batch bool) {
	l := newReadLog(r.St)
	r.St = l
	if batch {
		r.St = batchReadLog{l}
	}
	a := &app{st: appStore}
	for id := range rig.ScanItems(t, appStore, "id") {
		var n int64
		fmt.Sscan(id, &n)
		a.ids = append(a.ids, engine.Item{"id": engine.Number(fmt.Sprint(n))})
	}
	ctx, stop := context.WithCancel(context.Background())
	wg := a.run(ctx, t, 2)
	res, err := r.Run(r.StepContext("street"))
	stop()
	wg.Wait()
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	got := res.(migrate.Result)
	if lost := checkNoLostWrite(t, rig.ScanItems(t, appStore, "id"), a, l); lost > 0 {
		t.Errorf("%d of %d items lost the application's last street_name write", lost, len(a.ids))
	}
	t.Logf("application writes %d; migrate %+v", a.writes.Load(), got.MigrateCounts)
}

// TestMigrateGuardsWrittenAttributesSQLite: an application updating
// street_name while a migrate step sets it loses no write.
func TestMigrateGuardsWrittenAttributesSQLite(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "    max_write_rate: 0", streetSteps)
	r := rig.NewSQLite(t, rb, 2000)
	appStore, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: filepath.Join(r.Dir, "data.db"), Table: "users", Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { appStore.Close() })
	raceStreet(t, r, appStore, true)
}

// TestMigrateGuardsWrittenAttributesDynamo is the same on dynalite.
func TestMigrateGuardsWrittenAttributesDynamo(t *testing.T) {
	t.Parallel()
	r := newDynamoRig(t, 2, "    max_write_rate: 0", streetSteps, 1000, nil)
	raceStreet(t, r, r.Seed, false)
}
