package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// overlapStore is a SQLite store (per-row path: no pushdown) whose page
// writes each wait for the planner to read as far ahead as the pipeline
// lets it (the page after the one written), so that the scan that
// refills recycled item maps runs while a page is in the writer: a page
// whose maps were handed back too early would be read over before it is
// written. Every page of the test's table has writes for UpdateBatch.
type overlapStore struct {
	engine.Store
	engine.BatchUpdater
	mu      sync.Mutex
	scans   int  // pages read
	batches int  // pages written
	last    bool // the segment's last page is read: no scan will follow
	scanned chan struct{}
}

func (s *overlapStore) Scan(ctx context.Context, req engine.ScanRequest) (engine.Page, error) {
	p, err := s.Store.Scan(ctx, req)
	s.mu.Lock()
	s.scans++
	s.last = s.last || err == nil && p.Next == nil
	s.mu.Unlock()
	select {
	case s.scanned <- struct{}{}:
	default:
	}
	return p, err
}

func (s *overlapStore) UpdateBatch(ctx context.Context, us []engine.Update) []error {
	s.mu.Lock()
	s.batches++
	page := s.batches
	s.mu.Unlock()
	deadline := time.After(5 * time.Second) // a planner stopped early: write anyway
	for ahead := false; !ahead; {
		s.mu.Lock()
		ahead = s.last || s.scans >= page+1
		s.mu.Unlock()
		if ahead {
			break
		}
		select {
		case <-s.scanned:
		case <-deadline:
			ahead = true
		}
	}
	return s.BatchUpdater.UpdateBatch(ctx, us)
}

// TestRecycledPagesKeepReportsAndRows: a segment's written pages hand
// their item maps back to its next scans (engine.ScanRequest.Reuse).
// Rows failing on pages whose maps are read over later are reported with
// their own keys, and every row is written from its own values, with
// exact counts, while each page's write overlaps the scan that refills
// an earlier page's maps.
func TestRecycledPagesKeepReportsAndRows(t *testing.T) {
	t.Parallel()
	steps := `      - id: split
        kind: migrate
        with:
          where: "item.address != nil"
          segments: 1
          batch_size: 5
          error_budget: 100
          set:
            street_name: 'trim(split(item.address, ",")[0])'
            city: 'trim(split(item.address, ",")[1])'
            postcode: 'trim(split(item.address, ",")[2])'
`
	const rows = 80
	failing := []int{7, 23, 41, 62} // no commas: split(...)[1] fails
	rb := rig.DataRunbook(t, 2, "    max_write_rate: 0", steps)
	seed := rig.NewSQLite(t, rb, rows)
	db := seed.SQLDB(t)
	for _, id := range failing {
		if _, err := db.Exec(`UPDATE users SET address = 'nowhere' WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
	}
	st, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: filepath.Join(seed.Dir, "data.db"), Table: "users", Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := rig.NewData(t, rb, &overlapStore{Store: st, BatchUpdater: st, scanned: make(chan struct{}, 1)}, t.TempDir())
	res, err := r.Run(r.StepContext("split"))
	if !errors.Is(err, migrate.ErrItemsLeft) {
		t.Fatalf("Run() error = %v, want ErrItemsLeft (the failing rows)", err)
	}
	got := res.(migrate.Result)
	nulls := rows / 5
	if want := int64(rows - nulls - len(failing)); got.Migrated != want || got.Failures != int64(len(failing)) || got.NotMatched != int64(nulls) {
		t.Errorf("migrated %d, failures %d, not matched %d; want %d, %d, %d", got.Migrated, got.Failures, got.NotMatched, want, len(failing), nulls)
	}
	var reported []string
	for _, ev := range r.EventsOf(engine.EvWarning) {
		w, err := engine.DecodeAs[engine.Warning](ev)
		if err != nil {
			t.Fatal(err)
		}
		reported = append(reported, w.Key)
	}
	slices.Sort(reported)
	var want []string
	for _, id := range failing {
		want = append(want, fmt.Sprintf("id=%d", id))
	}
	slices.Sort(want)
	if !slices.Equal(reported, want) {
		t.Errorf("failure reports name %v, want %v", reported, want)
	}
	all := rig.ScanItems(t, st, "id")
	for id := 1; id <= rows; id++ {
		it := all[fmt.Sprint(id)]
		street, city, postcode := rig.AttrStr(it, "street_name"), rig.AttrStr(it, "city"), rig.AttrStr(it, "postcode")
		switch {
		case id%5 == 0 || slices.Contains(failing, id):
			if street != "" || it["v"] != nil {
				t.Errorf("id %d: street %q, v %v; want it left alone", id, street, it["v"])
			}
		case street != fmt.Sprintf("%d Main St", id) || city != fmt.Sprintf("City%d", id%7) ||
			postcode != fmt.Sprint(10000+id) || rig.AttrNum(it, "v") != 2:
			t.Errorf("id %d: %q, %q, %q, v %v; want its own address split, v 2", id, street, city, postcode, it["v"])
		}
	}
}
