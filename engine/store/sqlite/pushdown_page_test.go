package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/engine/store/storetest/pushdowntest"
	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

// TestPushdownPageCounts runs the shared table of single pushdown pages
// (engine/store/storetest/pushdowntest), and two of SQLite's own: a
// version column holding text or a real is not exact.
func TestPushdownPageCounts(t *testing.T) {
	pushdowntest.Run(t, func(t *testing.T, rows []pushdowntest.Row) (engine.Pushdowner, func(*testing.T, int64) int) {
		st, db := pageTable(t, rows)
		return st, func(t *testing.T, v int64) int {
			var n int
			if err := db.QueryRow("SELECT count(*) FROM items WHERE v = ?", v).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
	},
		pushdowntest.PerRow("short page, a version that is not an integer: per row",
			pushdowntest.Fresh(4, nil, map[int]pushdowntest.Row{0: {Addr: "a, b, c", V: "x"}}), 10, 2, "not exact"),
		pushdowntest.PerRow("full page, a real version: per row",
			pushdowntest.Fresh(5, int64(1), map[int]pushdowntest.Row{1: {Addr: "a, b, c", V: 1.0}}), 3, 2, "not exact"),
	)
}

// TestPushdownPageRollsBackAFailedCheckpoint: when the write-ahead
// checkpoint fails after the UPDATE ran, nothing of the page stays.
func TestPushdownPageRollsBackAFailedCheckpoint(t *testing.T) {
	rows := []pushdowntest.Row{{Addr: "a, b, c"}, {Addr: "d, e, f"}}
	st, db := pageTable(t, rows)
	tr := translate(t, "", map[string]string{"city": `trim(split(item.addr, ",")[1])`})
	boom := errors.New("journal down")
	_, err := st.PushdownPage(context.Background(), engine.PushdownRequest{TotalSegments: 1, Limit: 10, Migrate: tr,
		VersionAttr: "v", Target: 2}, func(engine.PushdownPlan) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("PushdownPage() error = %v, want the checkpoint's", err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM items WHERE v IS NOT NULL OR city IS NOT NULL").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d rows written by a page whose checkpoint failed, want 0", n)
	}
}

// pageTable creates the items table holding rows (ids from 1) and
// returns the store on it and a second connection to read it.
func pageTable(t *testing.T, rows []pushdowntest.Row) (*sqlite.Store, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mustDB(t, db, "CREATE TABLE items (id INTEGER PRIMARY KEY, addr TEXT, city TEXT, code TEXT, v)")
	for i, r := range rows {
		mustDB(t, db, "INSERT INTO items VALUES (?, ?, ?, ?, ?)", i+1, r.Addr, r.City, r.Code, r.V)
	}
	st, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: path, Table: "items", Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, db
}

// translate is the SQLite translation of a step with where and set.
func translate(t *testing.T, where string, set map[string]string) *sqlexpr.Migrate {
	t.Helper()
	return pushdowntest.Translate(t, sqlexpr.SQLite, where, set)
}

// TestPushdownSplitTrimIsByteExact: a page splitting and trimming text
// writes what Go's strings.Split and strings.TrimSpace give (the per-row
// path), byte for byte, or falls back per row: NUL, invalid UTF-8,
// Unicode and ASCII spaces other than ' '.
func TestPushdownSplitTrimIsByteExact(t *testing.T) {
	tests := []struct {
		addr string
		push bool // the page must push down (not fall back)
	}{
		{"1 Main St, Paris , 75001", true},
		{"a\x80, b, c", true},   // a stray continuation byte
		{"a\xe2, b, c", true},   // a lead byte without its continuation
		{"a, \x80b , c", true},  // Go decodes it as U+FFFD, no space
		{"a, b\x00c, d", false}, // SQLite's substr stopped at the NUL
		{"a\x00, b, c", false},
		{"a, b, c\x00d", false},        // GLOB sees up to the NUL
		{"Zürich, CH, 8000", false},    // multibyte: Unicode spaces are not ' '
		{"a, \u00a0b\u00a0, c", false}, // NBSP, which TrimSpace trims
		{"a, \tb, c", false},           // tab
		{"a, b\r\n, c", false},         // CR LF
		{"a, \"b\", c", false},         // json_quote escapes '"': per row, though exact
		{"a, b", false},                // no third field: per row, which fails it
	}
	// A page of one row with room for more is counted before its UPDATE;
	// a full page is written on the prediction that its rows are writes.
	for _, limit := range []int{10, 1} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("limit %d %q", limit, tt.addr), func(t *testing.T) {
				splitTrimPage(t, tt.addr, limit, tt.push)
			})
		}
	}
}

// splitTrimPage runs one page over a table of one row holding addr, and
// checks it wrote what Go's split and trim give, or fell back (which it
// must not when push is set).
func splitTrimPage(t *testing.T, addr string, limit int, push bool) {
	t.Helper()
	st, db := pageTable(t, []pushdowntest.Row{{Addr: addr}})
	tr := translate(t, "", map[string]string{"city": `trim(split(item.addr, ",")[1])`, "code": `trim(split(item.addr, ",")[2])`})
	res, err := st.PushdownPage(context.Background(), engine.PushdownRequest{TotalSegments: 1, Limit: limit, Migrate: tr,
		VersionAttr: "v", Target: 2}, func(engine.PushdownPlan) error { return nil })
	if err != nil {
		t.Fatalf("PushdownPage() error = %v", err)
	}
	var city, code sql.NullString
	if err := db.QueryRow("SELECT city, code FROM items").Scan(&city, &code); err != nil {
		t.Fatal(err)
	}
	if res.Fallback != "" {
		if push {
			t.Errorf("PushdownPage() fell back (%s), want the page pushed down", res.Fallback)
		}
		if city.Valid || code.Valid {
			t.Errorf("a page that fell back wrote city %q, code %q", city.String, code.String)
		}
		return
	}
	parts := strings.Split(addr, ",")
	if len(parts) < 3 {
		t.Fatalf("pushed down a row whose split has %d fields, want a fallback", len(parts))
	}
	if want := strings.TrimSpace(parts[1]); city.String != want {
		t.Errorf("city = %q, want %q (Go's)", city.String, want)
	}
	if want := strings.TrimSpace(parts[2]); code.String != want {
		t.Errorf("code = %q, want %q (Go's)", code.String, want)
	}
}
