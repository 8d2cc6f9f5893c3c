package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCPURatio compares the CPU time (less sensitive to a loaded
// machine than wall time) of a hand-written batched row-by-row update
// loop with the store's scan + guarded UpdateBatch path over the same
// rows, and reports hand/store as "ratio" (the migrate target is ≥ 0.80
// for the whole engine path).
func BenchmarkCPURatio(b *testing.B) {
	seed := make([]engine.Item, benchRows)
	for i := range seed {
		seed[i] = engine.Item{"id": engine.Number(fmt.Sprint(i)), "address": fmt.Sprintf("%d Main St, Paris, 75001", i)}
	}
	st := newTable(b, "CREATE TABLE items (id INTEGER PRIMARY KEY, address TEXT, city TEXT, v INTEGER)", seed)
	ctx := context.Background()
	reset := func() { st.ExecSQL(ctx, []string{"UPDATE items SET v = NULL, city = NULL"}, true) }
	hand := func() {
		db, _ := sql.Open("sqlite3", st.Path()+"?_busy_timeout=5000")
		defer db.Close()
		rows, _ := db.Query("SELECT id, address FROM items ORDER BY id")
		var ids []int64
		for rows.Next() {
			var id int64
			var addr string
			rows.Scan(&id, &addr)
			ids = append(ids, id)
		}
		rows.Close()
		for start := 0; start < len(ids); start += 500 {
			tx, _ := db.Begin()
			stmt, _ := tx.Prepare("UPDATE items SET city = ?, v = ? WHERE id = ?")
			for _, id := range ids[start:min(start+500, len(ids))] {
				stmt.Exec("Paris", 2, id)
			}
			stmt.Close()
			tx.Commit()
		}
	}
	store := func() {
		var cur []byte
		for {
			p, err := st.Scan(ctx, engine.ScanRequest{TotalSegments: 1, Cursor: cur, Limit: 500})
			if err != nil {
				b.Fatal(err)
			}
			us := make([]engine.Update, len(p.Items))
			for i, it := range p.Items {
				us[i] = engine.Update{Key: engine.Item{"id": it["id"]}, Set: map[string]any{"city": "Paris"}, Version: 2,
					Guard: engine.Guard{VersionAttr: "v", Below: 2, Unchanged: map[string]any{"address": it["address"]}}}
			}
			for _, err := range st.UpdateBatch(ctx, us) {
				if err != nil {
					b.Fatal(err)
				}
			}
			if cur = p.Next; cur == nil {
				break
			}
		}
	}
	var h, s time.Duration
	for b.Loop() {
		reset()
		c := cpuNow()
		hand()
		h += cpuNow() - c
		reset()
		c = cpuNow()
		store()
		s += cpuNow() - c
	}
	b.ReportMetric(float64(h)/float64(s), "ratio")
	b.ReportMetric(float64(s.Microseconds())/float64(b.N*benchRows), "store-cpu-µs/row")
}
