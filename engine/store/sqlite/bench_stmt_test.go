package sqlite_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"
)

// stmtRows is how many rows BenchmarkUpdateStatement updates per run.
const stmtRows = 40_000

// BenchmarkUpdateStatement measures what issue 17 (c) proposed for the
// store's UpdateBatch: one guarded UPDATE … FROM (VALUES …) … RETURNING
// statement per chunk of rows instead of one guarded UPDATE per row,
// both prepared once per 2,000-row transaction (a migrate page), on
// bench/'s users table. It reports CPU µs per row (the read of the
// addresses and their split included); the per-row statement goes
// through database/sql, which costs more than the store's own
// driver-level loop. Three alternating runs on 2026-12-07 (load 4–8):
// one row per statement 3.7 / 3.9 / 4.0 µs, 500 rows 3.9 / 3.9 / 4.0,
// 2,000 rows 3.8 / 4.4 / 5.0. SQLite builds the joined rows into a
// temporary table before it updates them, which costs what the per-row
// calls save; so UpdateBatch keeps one prepared statement per row.
func BenchmarkUpdateStatement(b *testing.B) {
	for _, chunk := range []int{1, 500, 2000} {
		b.Run(fmt.Sprintf("rows-per-statement=%d", chunk), func(b *testing.B) {
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				db := stmtTable(b)
				b.StartTimer()
				c := cpuNow()
				updateInChunks(b, db, chunk)
				cpu += cpuNow() - c
				b.StopTimer()
				db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N*stmtRows), "cpu-µs/row")
		})
	}
}

// stmtTable opens a new users table of stmtRows rows the way the store
// opens its database.
func stmtTable(b *testing.B) *sql.DB {
	b.Helper()
	path := usersTable(b, b.TempDir(), stmtRows)
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate&_busy_timeout=10000")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

// updateInChunks splits every address, chunk rows per statement, in
// transactions of 2,000 rows, with migrate's guard: version below 2,
// the address as read, the written columns still NULL.
func updateInChunks(b *testing.B, db *sql.DB, chunk int) {
	b.Helper()
	const guard = ` AND (users.v IS NULL OR users.v < 2) AND users.street_name IS NULL AND users.city IS NULL AND users.postcode IS NULL`
	q := `UPDATE users SET street_name = ?, city = ?, postcode = ?, v = 2 WHERE users.id = ? AND users.address IS ?` + guard
	if chunk > 1 {
		rows := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", chunk), ", ")
		q = `UPDATE users SET street_name = x.column1, city = x.column2, postcode = x.column3, v = 2 FROM (VALUES ` + rows +
			`) AS x WHERE users.id = x.column4 AND users.address IS x.column5` + guard + ` RETURNING users.id`
	}
	all := readAddresses(b, db, "users")
	written := 0
	args := make([]any, 0, 5*chunk)
	for start := 0; start < len(all); start += 2000 {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		st, err := tx.Prepare(q)
		if err != nil {
			b.Fatal(err)
		}
		page := all[start:min(start+2000, len(all))]
		for len(page) >= chunk {
			args = args[:0]
			for _, r := range page[:chunk] {
				parts := strings.Split(r.addr, ",")
				args = append(args, strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), strings.TrimSpace(parts[2]), r.id, r.addr)
			}
			page = page[chunk:]
			if chunk == 1 {
				res, err := st.Exec(args...)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := res.RowsAffected()
				written += int(n)
				continue
			}
			got, err := st.Query(args...)
			if err != nil {
				b.Fatal(err)
			}
			for got.Next() {
				written++
			}
			if err := got.Close(); err != nil {
				b.Fatal(err)
			}
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	if written != stmtRows {
		b.Fatalf("updated %d rows, want %d", written, stmtRows)
	}
}
