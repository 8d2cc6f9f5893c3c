package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
	"github.com/lockstep-run/lockstep/runbook"
)

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		ddl  string
		spec runbook.StoreSpec
		want string
	}{
		{"no key", "CREATE TABLE items (a TEXT)", runbook.StoreSpec{Table: "items"}, "no primary key"},
		{"unknown key column", "CREATE TABLE items (a TEXT)", runbook.StoreSpec{Table: "items", Key: []string{"id"}}, `key column "id": no such column`},
		{"no path", "", runbook.StoreSpec{}, "path and table are required"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			if spec.Table != "" {
				spec.Path = filepath.Join(dir, fmt.Sprintf("%d.db", i))
				if tt.ddl != "" {
					mustExec(t, spec.Path, tt.ddl)
				}
			}
			_, err := sqlite.Open(&spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open()=%v, want error containing %q", err, tt.want)
			}
		})
	}
}

// TestTableCreatedLater: a runbook's sql step may create the table after
// the store was opened.
func TestTableCreatedLater(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenOrCreate(&runbook.StoreSpec{Path: filepath.Join(t.TempDir(), "new.db"), Table: "items"})
	if err != nil {
		t.Fatalf("Open(no table yet)=%v", err)
	}
	defer st.Close()
	if _, err := st.Describe(ctx); !errors.Is(err, sqlite.ErrNoTable) {
		t.Errorf("Describe()=%v, want ErrNoTable", err)
	}
	if _, err := st.Scan(ctx, engine.ScanRequest{TotalSegments: 1}); !errors.Is(err, sqlite.ErrNoTable) {
		t.Errorf("Scan()=%v, want ErrNoTable", err)
	}
	if _, err := st.ExecSQL(ctx, []string{"CREATE TABLE items (id TEXT PRIMARY KEY, v INTEGER)", "INSERT INTO items VALUES ('a', NULL)"}, true); err != nil {
		t.Fatal(err)
	}
	if err := st.Update(ctx, engine.Update{Key: engine.Item{"id": "a"}, Version: 1, Guard: engine.Guard{VersionAttr: "v", Below: 1}}); err != nil {
		t.Errorf("Update() after CREATE=%v", err)
	}
	info, err := st.Describe(ctx)
	if err != nil || info.ItemCount != 1 {
		t.Errorf("Describe()=%+v, %v", info, err)
	}
}

// TestDescribeCount: the same key and count as Describe, no size.
func TestDescribeCount(t *testing.T) {
	st := newTable(t, "CREATE TABLE items (id INTEGER PRIMARY KEY, address TEXT)",
		[]engine.Item{{"id": engine.Number("1"), "address": "1 Main St"}, {"id": engine.Number("2"), "address": "2 Main St"}})
	ctx := context.Background()
	full, err := st.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	quick, err := st.DescribeCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if full.SizeBytes == 0 || quick.SizeBytes != 0 {
		t.Errorf("SizeBytes: Describe %d, DescribeCount %d; want >0 and 0", full.SizeBytes, quick.SizeBytes)
	}
	quick.SizeBytes = full.SizeBytes
	if fmt.Sprint(quick) != fmt.Sprint(full) || quick.ItemCount != 2 {
		t.Errorf("DescribeCount() = %+v, want Describe's %+v without the size", quick, full)
	}
}

func TestKeyFromSpec(t *testing.T) {
	st := newTable(t, "CREATE TABLE items (email TEXT NOT NULL UNIQUE, name TEXT)",
		[]engine.Item{{"email": "a@example.com", "name": "A"}}, "email")
	info, err := st.Describe(context.Background())
	if err != nil || fmt.Sprint(info.Key) != "[email]" {
		t.Errorf("Describe()=%+v, %v; want key [email]", info, err)
	}
}

func TestUpdateMissingColumn(t *testing.T) {
	st := newTable(t, "CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER, address TEXT)",
		[]engine.Item{{"id": engine.Number("1"), "address": "1 Main St"}})
	ctx := context.Background()
	err := st.Update(ctx, engine.Update{Key: engine.Item{"id": engine.Number("1")}, Set: engine.Attrs(map[string]any{"city": "Paris"}), Version: 2,
		Guard: engine.Guard{VersionAttr: "v", Below: 2}})
	if !errors.Is(err, sqlite.ErrNoColumn) || !strings.Contains(err.Error(), `ALTER TABLE "items" ADD COLUMN "city"`) {
		t.Fatalf("Update(new column)=%v, want ErrNoColumn with an ALTER TABLE hint", err)
	}
	// After a sql step adds it, the same store writes it.
	if _, err := st.ExecSQL(ctx, []string{"ALTER TABLE items ADD COLUMN city TEXT"}, true); err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, engine.Update{Key: engine.Item{"id": engine.Number("1")}, Set: engine.Attrs(map[string]any{"city": "Paris"}), Version: 2,
		Guard: engine.Guard{VersionAttr: "v", Below: 2}})
	if err != nil {
		t.Fatalf("Update after ALTER=%v", err)
	}
	got, _, _ := st.Get(ctx, engine.Item{"id": engine.Number("1")})
	if got["city"] != "Paris" || !engine.EqualValues(got["v"], 2) {
		t.Errorf("Get()=%v, want city Paris, v 2", got)
	}
	// The version column must exist too.
	st2 := newTable(t, "CREATE TABLE items (id INTEGER PRIMARY KEY, a TEXT)", []engine.Item{{"id": engine.Number("1")}})
	err = st2.Update(ctx, engine.Update{Key: engine.Item{"id": engine.Number("1")}, Set: engine.Attrs(map[string]any{"a": "x"}), Version: 1,
		Guard: engine.Guard{VersionAttr: "v", Below: 1}})
	if !errors.Is(err, sqlite.ErrNoColumn) || !strings.Contains(err.Error(), `"v"`) {
		t.Errorf("Update(no version column)=%v, want ErrNoColumn naming v", err)
	}
	err = st2.Update(ctx, engine.Update{Key: engine.Item{"id": engine.Number("1")}, Set: engine.Attrs(map[string]any{"id": engine.Number("2")})})
	if err == nil || !strings.Contains(err.Error(), "part of the key") {
		t.Errorf("Update(key)=%v, want a refusal", err)
	}
}

func TestValues(t *testing.T) {
	st := newTable(t, "CREATE TABLE items (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, j TEXT, flag BOOLEAN, at DATETIME, any)", nil)
	ctx := context.Background()
	in := engine.Item{
		"id": engine.Number("7"), "i": engine.Number("9223372036854775807"), "r": engine.Number("0.1"),
		"t": "text", "b": []byte{0, 1}, "flag": true, "at": "2026-05-01 22:00:00",
		"j":   map[string]any{"n": engine.Number("1.50"), "l": []any{"a", nil}, "s": engine.StringSet{"x"}},
		"any": engine.Number("1e2"),
	}
	if err := st.Put(ctx, []engine.Item{in}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := st.Get(ctx, engine.Item{"id": engine.Number("7")})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	want := engine.Item{
		"id": engine.Number("7"), "i": engine.Number("9223372036854775807"), "r": engine.Number("0.1"),
		"t": "text", "b": []byte{0, 1}, "flag": true, "at": "2026-05-01 22:00:00",
		"j": `{"l":["a",null],"n":1.50,"s":["x"]}`, "any": engine.Number("100"),
	}
	if d := storetest.Diff(got, want); d != "" {
		t.Errorf("Get():%s", d)
	}
	if got["i"] != engine.Number("9223372036854775807") {
		t.Errorf("int64 max read as %#v", got["i"])
	}
}

func TestCompositeAndIntegerKeys(t *testing.T) {
	for _, ddl := range []string{
		"CREATE TABLE items (tenant TEXT, n INTEGER, v INTEGER, PRIMARY KEY (tenant, n)) WITHOUT ROWID",
		"CREATE TABLE items (n INTEGER PRIMARY KEY, tenant TEXT, v INTEGER)",
	} {
		t.Run(ddl, func(t *testing.T) {
			// Keys spread over several blocks of 1,024, negative ones too.
			var seed []engine.Item
			for i := -20; i < 80; i++ {
				seed = append(seed, engine.Item{"tenant": fmt.Sprintf("t%d", i%3), "n": engine.Number(fmt.Sprint(i*300 + i%7)), "v": nil})
			}
			st := newTable(t, ddl, seed)
			seen := map[string]bool{}
			blockSeg := map[int64]int{} // integer key: block → segment
			for seg := range 4 {
				var cur []byte
				for {
					p, err := st.Scan(context.Background(), engine.ScanRequest{Segment: seg, TotalSegments: 4, Cursor: cur, Limit: 9})
					if err != nil {
						t.Fatal(err)
					}
					for _, it := range p.Items {
						k := fmt.Sprint(it["tenant"], it["n"])
						if seen[k] {
							t.Fatalf("%s twice", k)
						}
						seen[k] = true
						if strings.Contains(ddl, "n INTEGER PRIMARY KEY") {
							var n int64
							fmt.Sscan(string(it["n"].(engine.Number)), &n)
							if s, ok := blockSeg[n/1024]; ok && s != seg {
								t.Fatalf("key %d in segment %d, its block's other keys in %d", n, seg, s)
							}
							blockSeg[n/1024] = seg
						}
					}
					if cur = p.Next; cur == nil {
						break
					}
				}
			}
			if len(seen) != len(seed) {
				t.Errorf("scanned %d rows, want %d", len(seen), len(seed))
			}
			if segs := map[int]bool{}; len(blockSeg) > 0 {
				for _, s := range blockSeg {
					segs[s] = true
				}
				if len(segs) < 4 {
					t.Errorf("blocks %v use %d of 4 segments", blockSeg, len(segs))
				}
			}
		})
	}
}

func TestScanCursorMismatch(t *testing.T) {
	st := newTable(t, suiteDDL(), storetest.Seed(10))
	p, err := st.Scan(context.Background(), engine.ScanRequest{Segment: 0, TotalSegments: 2, Limit: 2})
	if err != nil || p.Next == nil {
		t.Fatal(p, err)
	}
	for _, req := range []engine.ScanRequest{
		{Segment: 1, TotalSegments: 2, Cursor: p.Next},
		{Segment: 0, TotalSegments: 3, Cursor: p.Next},
		{Segment: 0, TotalSegments: 2, Cursor: []byte("junk")},
		{Segment: 2, TotalSegments: 2},
	} {
		if _, err := st.Scan(context.Background(), req); err == nil {
			t.Errorf("Scan(%+v)=nil error, want a refusal", req)
		}
	}
	// A cursor of the key-modulo segmentation an earlier lockstep saved
	// would resume over other rows: refused, with what to do.
	ints := newTable(t, "CREATE TABLE items (n INTEGER PRIMARY KEY, v INTEGER)", []engine.Item{{"n": engine.Number("1")}})
	old := []byte(`{"segment":0,"total":2,"after":{"n":{"N":"4"}}}`)
	_, err = ints.Scan(context.Background(), engine.ScanRequest{Segment: 0, TotalSegments: 2, Cursor: old})
	if err == nil || !strings.Contains(err.Error(), "run the step again from the start") {
		t.Errorf("Scan with a key-modulo cursor: %v, want a refusal saying to run the step again", err)
	}
}

func TestExecSQL(t *testing.T) {
	st := newTable(t, suiteDDL(), storetest.Seed(150))
	ctx := context.Background()
	res, err := st.ExecSQL(ctx, []string{
		"UPDATE items SET note = 'dry' WHERE v = 1",
		"-- how many\nSELECT count(*) AS c FROM items WHERE note = 'dry'",
		"SELECT id, data FROM items",
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].RowsAffected != 50 || res[1].Columns[0] != "c" || res[1].Rows[0][0] != "50" {
		t.Errorf("ExecSQL()=%+v", res[:2])
	}
	if got := len(res[2].Rows); got != sqlite.MaxResultRows {
		t.Errorf("SELECT returned %d rows, want the cap %d", got, sqlite.MaxResultRows)
	}
	if res[2].Rows[0][1] != "NULL" {
		t.Errorf("NULL rendered as %q", res[2].Rows[0][1])
	}
	// Not committed: rolled back.
	res, err = st.ExecSQL(ctx, []string{"SELECT count(*) FROM items WHERE note = 'dry'"}, true)
	if err != nil || res[0].Rows[0][0] != "0" {
		t.Errorf("after dry run: %+v, %v; want 0 rows changed", res, err)
	}
	// Committed.
	if _, err := st.ExecSQL(ctx, []string{"UPDATE items SET note = 'live' WHERE v = 2", "UPDATE items SET data = x'CAFE' WHERE id = 'item-001'"}, true); err != nil {
		t.Fatal(err)
	}
	res, _ = st.ExecSQL(ctx, []string{"SELECT count(*) FROM items WHERE note = 'live'", "SELECT data FROM items WHERE id = 'item-001'"}, false)
	if res[0].Rows[0][0] != "50" || res[1].Rows[0][0] != "X'CAFE'" {
		t.Errorf("after commit: %+v", res)
	}
	// A failing statement rolls everything back and names itself.
	_, err = st.ExecSQL(ctx, []string{"UPDATE items SET note = 'x'", "UPDATE nope SET a = 1"}, true)
	if err == nil || !strings.Contains(err.Error(), "statement 2") {
		t.Errorf("ExecSQL(bad)=%v, want an error naming statement 2", err)
	}
	res, _ = st.ExecSQL(ctx, []string{"SELECT count(*) FROM items WHERE note = 'x'"}, false)
	if res[0].Rows[0][0] != "0" {
		t.Errorf("failed ExecSQL left %s rows changed", res[0].Rows[0][0])
	}
}

func mustExec(t *testing.T, path, ddl string) {
	t.Helper()
	st, err := sqlite.OpenOrCreate(&runbook.StoreSpec{Path: path, Table: "sqlite_master", Key: []string{"name"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.ExecSQL(context.Background(), []string{ddl}, true); err != nil {
		t.Fatal(err)
	}
}
