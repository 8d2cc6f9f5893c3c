package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
)

const benchRows = 20000

// benchTable returns a store on a fresh table of benchRows addresses.
func benchTable(b *testing.B) *sqlite.Store {
	b.Helper()
	seed := make([]engine.Item, benchRows)
	for i := range seed {
		seed[i] = engine.Item{"id": engine.Number(fmt.Sprint(i)), "address": fmt.Sprintf("%d Main St, Paris, 75001", i)}
	}
	return newTable(b, "CREATE TABLE items (id INTEGER PRIMARY KEY, address TEXT, city TEXT, v INTEGER)", seed)
}

// handLoop is the baseline: read all rows, update each in transactions of
// 500 with one prepared statement — guarded like the store's writes when
// guarded is set.
func handLoop(b *testing.B, path string, guarded bool) {
	b.Helper()
	db, err := sql.Open("sqlite3", path+"?_busy_timeout=5000")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	all := readAddresses(b, db, "items")
	query := "UPDATE items SET city = ?, v = ? WHERE id = ?"
	if guarded {
		query += " AND (v IS NULL OR v < ?) AND address IS ?"
	}
	for start := 0; start < len(all); start += 500 {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		stmt, err := tx.Prepare(query)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range all[start:min(start+500, len(all))] {
			args := []any{"Paris", 2, r.id}
			if guarded {
				args = append(args, 2, r.addr)
			}
			if _, err := stmt.Exec(args...); err != nil {
				b.Fatal(err)
			}
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// storeLoop is the store's migrate path: scan pages, one guarded
// UpdateBatch per page.
func storeLoop(b *testing.B, st *sqlite.Store) {
	b.Helper()
	ctx := context.Background()
	var cur []byte
	for {
		p, err := st.Scan(ctx, engine.ScanRequest{TotalSegments: 1, Cursor: cur, Limit: 500})
		if err != nil {
			b.Fatal(err)
		}
		us := make([]engine.Update, len(p.Items))
		for i, it := range p.Items {
			us[i] = engine.Update{Key: engine.Item{"id": it["id"]}, Set: engine.Attrs(map[string]any{"city": "Paris"}), Version: 2,
				Guard: engine.Guard{VersionAttr: "v", Below: 2, Unchanged: engine.Attrs(map[string]any{"address": it["address"]})}}
		}
		for _, err := range st.UpdateBatch(ctx, us) {
			if err != nil {
				b.Fatal(err)
			}
		}
		if cur = p.Next; cur == nil {
			return
		}
	}
}

// BenchmarkHandWritten is the unguarded baseline.
func BenchmarkHandWritten(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		st := benchTable(b)
		b.StartTimer()
		handLoop(b, st.Path(), false)
	}
}

// BenchmarkHandWrittenGuarded is the baseline with the store's guard.
func BenchmarkHandWrittenGuarded(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		st := benchTable(b)
		b.StartTimer()
		handLoop(b, st.Path(), true)
	}
}

// BenchmarkStoreBatched is the store's migrate path.
func BenchmarkStoreBatched(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		st := benchTable(b)
		b.StartTimer()
		storeLoop(b, st)
	}
}

// addrRow is a row's key and address, read before a hand-written loop
// updates it.
type addrRow struct {
	id   int64
	addr string
}

// readAddresses reads every row's id and address of table, in id order.
func readAddresses(b *testing.B, db *sql.DB, table string) []addrRow {
	b.Helper()
	rows, err := db.Query("SELECT id, address FROM " + table + " ORDER BY id")
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var all []addrRow
	for rows.Next() {
		var r addrRow
		if err := rows.Scan(&r.id, &r.addr); err != nil {
			b.Fatal(err)
		}
		all = append(all, r)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return all
}
