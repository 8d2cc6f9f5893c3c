package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

const benchRows = 20000

func benchStore(b *testing.B) *sqliteStore {
	b.Helper()
	b.StopTimer()
	seed := make([]engine.Item, benchRows)
	for i := range seed {
		seed[i] = engine.Item{"id": engine.Number(fmt.Sprint(i)), "address": fmt.Sprintf("%d Main St, Paris, 75001", i)}
	}
	st := newTable(b, "CREATE TABLE items (id INTEGER PRIMARY KEY, address TEXT, city TEXT, v INTEGER)", seed)
	b.StartTimer()
	return &sqliteStore{st}
}

type sqliteStore struct{ engine.Store }

// BenchmarkHandWritten is the baseline: read all rows, update each in
// batched transactions with one prepared statement.
func BenchmarkHandWritten(b *testing.B) {
	for b.Loop() {
		st := benchStore(b)
		db, err := sql.Open("sqlite3", st.Store.(interface{ Path() string }).Path()+"?_busy_timeout=5000")
		if err != nil {
			b.Fatal(err)
		}
		rows, err := db.Query("SELECT id, address FROM items ORDER BY id")
		if err != nil {
			b.Fatal(err)
		}
		type row struct {
			id   int64
			addr string
		}
		var all []row
		for rows.Next() {
			var r row
			rows.Scan(&r.id, &r.addr)
			all = append(all, r)
		}
		rows.Close()
		for start := 0; start < len(all); start += 500 {
			tx, _ := db.Begin()
			stmt, _ := tx.Prepare("UPDATE items SET city = ?, v = ? WHERE id = ?")
			for _, r := range all[start:min(start+500, len(all))] {
				if _, err := stmt.Exec("Paris", 2, r.id); err != nil {
					b.Fatal(err)
				}
			}
			stmt.Close()
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		db.Close()
	}
}

// BenchmarkHandWrittenGuarded is the baseline: read all rows, update each in
// batched transactions with one prepared statement.
func BenchmarkHandWrittenGuarded(b *testing.B) {
	for b.Loop() {
		st := benchStore(b)
		db, err := sql.Open("sqlite3", st.Store.(interface{ Path() string }).Path()+"?_busy_timeout=5000")
		if err != nil {
			b.Fatal(err)
		}
		rows, err := db.Query("SELECT id, address FROM items ORDER BY id")
		if err != nil {
			b.Fatal(err)
		}
		type row struct {
			id   int64
			addr string
		}
		var all []row
		for rows.Next() {
			var r row
			rows.Scan(&r.id, &r.addr)
			all = append(all, r)
		}
		rows.Close()
		for start := 0; start < len(all); start += 500 {
			tx, _ := db.Begin()
			stmt, _ := tx.Prepare("UPDATE items SET city = ?, v = ? WHERE id = ? AND (v IS NULL OR v < ?) AND address IS ?")
			for _, r := range all[start:min(start+500, len(all))] {
				if _, err := stmt.Exec("Paris", 2, r.id, 2, r.addr); err != nil {
					b.Fatal(err)
				}
			}
			stmt.Close()
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		db.Close()
	}
}

// BenchmarkStoreBatched is the store's migrate path: scan pages, guarded
// UpdateBatch per page.
func BenchmarkStoreBatched(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		st := benchStore(b)
		bu := st.Store.(engine.BatchUpdater)
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
			for _, err := range bu.UpdateBatch(ctx, us) {
				if err != nil {
					b.Fatal(err)
				}
			}
			if cur = p.Next; cur == nil {
				break
			}
		}
	}
}
