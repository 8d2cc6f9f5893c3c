package bench_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// sqliteItems is how many rows each contender of (c) migrates, split over
// the mirrored rounds; handBatch is the hand-written loop's rows per
// transaction.
const (
	sqliteItems = 200_000
	handBatch   = 500
)

// BenchmarkSQLite measures (c): migrate on SQLite against a hand-written
// loop that reads keyset pages and updates them row by row with one
// prepared, guarded UPDATE in one transaction per handBatch rows.
func BenchmarkSQLite(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		per := sqliteItems / rounds
		tmpl := sqliteTemplate(b, per)
		var files [2][rounds]string
		for c := range files {
			for r := range rounds {
				files[c][r] = copyFile(b, tmpl, filepath.Join(b.TempDir(), "data.db"))
			}
		}
		b.StartTimer()
		hand := func(r int) timed {
			t, err := handWritten(files[0][r])
			if err != nil {
				b.Fatalf("hand-written loop: %v", err)
			}
			return t
		}
		mig := func(r int) timed {
			m := runMigrateWith(b, b.TempDir(), runbookYAML(sqliteStore(files[1][r]), 0), openPerRow)
			return timed{m.migrated, m.elapsed}
		}
		res := runMirrored(b, hand, mig)
		logRounds(b, []string{"hand", "migrate"}, res)
		for _, ss := range res {
			for _, s := range ss {
				if s.items != int64(per) {
					b.Fatalf("a contender wrote %d rows, want %d", s.items, per)
				}
			}
		}
		h, m := total(res[0]), total(res[1])
		wall, cpu := versus{res[1], res[0]}.speed()
		b.ReportMetric(m.rate(), "migrate-items/s")
		b.ReportMetric(h.rate(), "hand-items/s")
		b.ReportMetric(wall.med, "ratio-c")
		b.ReportMetric(cpu.med, "cpu-ratio-c")
		record(row{id: "(c)", what: fmt.Sprintf("SQLite: per-row migrate / hand-written batched UPDATE loop (%d rows per tx), %d rows", handBatch, m.items),
			figure: figure(wall, cpu, fmt.Sprintf("%.0f / %.0f rows/s, %.1f / %.1f µs CPU per row", m.rate(), h.rate(),
				perItemMicros(m), perItemMicros(h))),
			target: "CPU ≥ 0.80", verdict: check(cpu.med >= 0.80)})
	}
}

// sqlitePushdownItems is how many rows each contender of (c') migrates,
// split over the mirrored rounds.
const sqlitePushdownItems = 1_000_000

// BenchmarkSQLitePushdown measures (c'): migrate on SQLite, pushed down
// into one guarded UPDATE per page, against one set-based UPDATE of the
// whole table written by hand (the floor: one statement, one
// transaction, no checkpoints).
func BenchmarkSQLitePushdown(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		per := sqlitePushdownItems / rounds
		tmpl := sqliteTemplate(b, per)
		var files [2][rounds]string
		for c := range files {
			for r := range rounds {
				files[c][r] = copyFile(b, tmpl, filepath.Join(b.TempDir(), "data.db"))
			}
		}
		b.StartTimer()
		set := func(r int) timed {
			t, err := setBasedSQLite(files[0][r])
			if err != nil {
				b.Fatalf("set-based UPDATE: %v", err)
			}
			return t
		}
		mig := func(r int) timed {
			m := runMigrate(b, b.TempDir(), runbookYAML(sqliteStore(files[1][r]), 0))
			return timed{m.migrated, m.elapsed}
		}
		res := runMirrored(b, set, mig)
		logRounds(b, []string{"set-based", "pushdown"}, res)
		for _, ss := range res {
			for _, s := range ss {
				if s.items != int64(per) {
					b.Fatalf("a contender wrote %d rows, want %d", s.items, per)
				}
			}
		}
		u, m := total(res[0]), total(res[1])
		wall, cpu := versus{res[1], res[0]}.speed()
		b.ReportMetric(m.rate(), "pushdown-items/s")
		b.ReportMetric(u.rate(), "update-items/s")
		record(row{id: "(c')", what: fmt.Sprintf("SQLite: pushdown migrate / one set-based UPDATE, %d rows", m.items),
			figure: figure(wall, cpu, fmt.Sprintf("%.0f / %.0f rows/s", m.rate(), u.rate())),
			target: "wall ≥ 0.80", verdict: check(wall.med >= 0.80)})
	}
}

// setBasedSQLite splits every address with one UPDATE statement, the
// split written by hand in SQLite's string functions.
func setBasedSQLite(path string) (timed, error) {
	start := time.Now()
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		return timed{}, err
	}
	defer db.Close()
	field := func(s string) string {
		return "trim(CASE WHEN instr(" + s + ", ',') > 0 THEN substr(" + s + ", 1, instr(" + s + ", ',') - 1) ELSE " + s + " END)"
	}
	rest := func(s string) string { return "substr(" + s + ", instr(" + s + ", ',') + 1)" }
	r1 := rest("address")
	res, err := db.Exec(fmt.Sprintf(`UPDATE users SET street_name = %s, city = %s, postcode = %s, v = %d
		WHERE address IS NOT NULL AND (v IS NULL OR v < %d)`, field("address"), field(r1), field(rest(r1)), targetVersion, targetVersion))
	if err != nil {
		return timed{}, err
	}
	n, err := res.RowsAffected()
	return timed{n, time.Since(start)}, err
}

// perRowStore hides a SQLite store's pushdown, keeping the capabilities
// the per-row path uses: the step runs per row, as it did before.
type perRowStore struct {
	engine.Store
	engine.BatchUpdater
	engine.MigrateTuner
	engine.Counter
}

// openPerRow is openStore with pushdown hidden (SQLite stores only).
func openPerRow(ctx context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
	st, err := openStore(ctx, spec)
	if err != nil {
		return nil, err
	}
	s, ok := st.(*sqlite.Store)
	if !ok {
		return st, nil
	}
	return perRowStore{s, s, s, s}, nil
}

// perItemMicros is s's CPU time per item in microseconds.
func perItemMicros(s sample) float64 { return float64(s.cpu.Microseconds()) / float64(s.items) }

// sqliteStore is the runbook store spec of the users table in path.
func sqliteStore(path string) string {
	return fmt.Sprintf("{kind: sqlite, path: %q, table: users, key: [id]}", path)
}

// dsn opens path the way the SQLite store does: WAL, synchronous NORMAL,
// immediate write transactions, a busy timeout.
func dsn(path string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_txlock", "immediate")
	q.Set("_synchronous", "NORMAL")
	return "file:" + path + "?" + q.Encode()
}

var templates struct {
	mu    sync.Mutex
	paths map[int]string
}

// scratch is the directory of the files kept for the whole benchmark
// process (data templates, built binaries), removed by removeTemplates.
var scratch struct {
	once sync.Once
	dir  string
	err  error
}

func tempRoot(b *testing.B) string {
	b.Helper()
	scratch.once.Do(func() { scratch.dir, scratch.err = os.MkdirTemp("", "lockstep-bench-") })
	if scratch.err != nil {
		b.Fatal(scratch.err)
	}
	return scratch.dir
}

// sqliteTemplate returns a database file holding n generated users rows,
// created once per size for the whole benchmark process. Copy it before
// migrating it.
func sqliteTemplate(b *testing.B, n int) string {
	b.Helper()
	templates.mu.Lock()
	defer templates.mu.Unlock()
	if p, ok := templates.paths[n]; ok {
		return p
	}
	if templates.paths == nil {
		templates.paths = map[int]string{}
	}
	p := filepath.Join(tempRoot(b), fmt.Sprintf("users-%d.db", n))
	if err := generateSQLite(p, n); err != nil {
		b.Fatalf("generate %s: %v", p, err)
	}
	templates.paths[n] = p
	return p
}

func removeTemplates() {
	if scratch.dir != "" {
		os.RemoveAll(scratch.dir)
	}
}

// generateSQLite writes n deterministic rows into a new users table.
func generateSQLite(path string, n int) error {
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, address TEXT,
		street_name TEXT, city TEXT, postcode TEXT, v INTEGER)`)
	if err != nil {
		return err
	}
	const batch = 20_000
	for start := 0; start < n; start += batch {
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		stmt, err := tx.Prepare("INSERT INTO users (id, name, address) VALUES (?, ?, ?)")
		if err != nil {
			tx.Rollback()
			return err
		}
		for i := start; i < min(start+batch, n); i++ {
			if _, err := stmt.Exec(i+1, fmt.Sprintf("user %d", i), address(i)); err != nil {
				tx.Rollback()
				return err
			}
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	_, err = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// copyFile copies the database file src to dst and returns dst.
func copyFile(b *testing.B, src, dst string) string {
	b.Helper()
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	return dst
}

// handWritten is what an engineer would write by hand: keyset pages of
// handBatch rows, each updated row by row in one transaction with one
// prepared UPDATE carrying the same guard as migrate (version below the
// target, address unchanged).
func handWritten(path string) (timed, error) {
	start := time.Now()
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		return timed{}, err
	}
	defer db.Close()
	upd, err := db.Prepare(`UPDATE users SET street_name = ?, city = ?, postcode = ?, v = ?
		WHERE id = ? AND (v IS NULL OR v < ?) AND address IS ?`)
	if err != nil {
		return timed{}, err
	}
	defer upd.Close()
	type user struct {
		id   int64
		addr sql.NullString
	}
	var written int64
	after := int64(-1 << 62)
	page := make([]user, 0, handBatch)
	for {
		rows, err := db.Query("SELECT id, address FROM users WHERE id > ? ORDER BY id LIMIT ?", after, handBatch)
		if err != nil {
			return timed{}, err
		}
		page = page[:0]
		for rows.Next() {
			var u user
			if err := rows.Scan(&u.id, &u.addr); err != nil {
				rows.Close()
				return timed{}, err
			}
			page = append(page, u)
		}
		if err := rows.Close(); err != nil {
			return timed{}, err
		}
		if len(page) == 0 {
			return timed{written, time.Since(start)}, nil
		}
		tx, err := db.Begin()
		if err != nil {
			return timed{}, err
		}
		stmt := tx.Stmt(upd)
		for _, u := range page {
			if !u.addr.Valid {
				continue
			}
			street, city, postcode := splitAddress(u.addr.String)
			res, err := stmt.Exec(street, city, postcode, targetVersion, u.id, targetVersion, u.addr.String)
			if err != nil {
				tx.Rollback()
				return timed{}, err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				written++
			}
		}
		if err := tx.Commit(); err != nil {
			return timed{}, err
		}
		after = page[len(page)-1].id
	}
}
