package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/store/postgres"
	"github.com/lockstep-run/lockstep/internal/pgtest"
	"github.com/lockstep-run/lockstep/runbook"
)

// pdSet is an expression the property test draws from and the type of
// the column it is written to (s: text, i: bigint, f: double precision,
// b: boolean).
type pdSet struct{ expr, col string }

// Expressions: every construct the PostgreSQL translation knows, some
// written to a column of another type, and some it does not know (the
// step then runs per row).
var (
	pdSets = []pdSet{
		{`trim(split(item.a, ",")[1])`, "s"}, {`split(item.a, ", ")[0]`, "s"}, {`lower(item.a) + "-" + upper(item.b)`, "s"},
		{`item.n * 2 + 1`, "i"}, {`item.n / 4`, "f"}, {`item.n % 3`, "i"}, {`-item.n - 1`, "i"}, {`item.a ?? "none"`, "s"},
		{`item.n > 10 ? "big" : "small"`, "s"}, {`replace(item.a, " ", "_")`, "s"}, {`item.a[1:3]`, "s"}, {`item.b[2:]`, "s"},
		{`item.x == item.n`, "b"}, {`item.x + item.n`, "i"}, {`trim(item.a, " ,")`, "s"}, {`item.n >= 2.5`, "b"},
		{`item.x ?? item.n`, "i"}, {`item.a == "Main St, Paris" ? 1 : 0`, "i"}, {`item.b != nil && item.b > "m"`, "b"},
		{`item.x / 2.0`, "f"}, {`nil`, "s"}, {`"lit"`, "s"}, {`item.n * 2`, "f"}, {`item.a == item.n`, "b"},
		{`item.n * 3`, "s"},  // another type: per row
		{`len(item.a)`, "i"}, // untranslated
	}
	pdWheres = []string{
		"", `item.a != nil`, `item.n >= 3 && item.a != nil`, `item.x == nil || item.n < 5`,
		`not (item.b == "q")`, `item.a < item.b`, `item.n % 2 == 0`, `trim(item.b) == "q"`,
	}
	pdText = []any{nil, "", "q", " q ", "Main St, Paris", "1 Rue, Lyon, 69001", "a,b,c,d,e,f", "  spaced , out ,", "Zürich, CH",
		"tab\there", "x", "m", "ÉCOLE, Nantes"}
	pdInts = []any{nil, int64(0), int64(3), int64(7), int64(-12), int64(42), int64(5_000_000_000)}
)

// pdMixed is the number of generated cases mixing several expressions
// over rows of every value; each expression of pdSets also gets a case of
// its own over clean rows. Each case runs two sessions.
const pdMixed = 8

// TestPushdownMatchesPerRow is the property test of pushdown on
// PostgreSQL: for generated rows and expressions, a migrate step run by
// pushdown and the same step run per row leave identical tables (as the
// store reads them) and the same outcome, with one segment (full pages
// written on a prediction first) and with two.
func TestPushdownMatchesPerRow(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(17, 2027))
	pushed, ran := 0, 0
	for i := range len(pdSets) + pdMixed {
		clean := i < len(pdSets)
		rows := pdRows(r, 60, clean)
		where := pdWheres[r.IntN(len(pdWheres))]
		var set []pdSet
		if clean {
			set = []pdSet{pdSets[i]}
		} else {
			for range 1 + r.IntN(3) {
				set = append(set, pdSets[r.IntN(len(pdSets))])
			}
		}
		src := pdRunbook(where, set)
		if i%2 == 0 { // one segment: full pages are written on a prediction first
			src = strings.Replace(src, "segments: 2", "segments: 1", 1)
		}
		a, outA, pathA := pdRun(t, rows, src, false)
		b, outB, _ := pdRun(t, rows, src, true)
		ran++
		if strings.Contains(pathA, "path: pushdown") && !strings.Contains(pathA, "(0 pages pushed") {
			pushed++
		}
		t.Logf("case %d %v: %s", i, set, pathA)
		if outA != outB {
			t.Errorf("case %d: outcome: pushdown %q, per row %q\n%s", i, outA, outB, src)
		}
		for id := range a {
			if !reflect.DeepEqual(a[id], b[id]) {
				t.Errorf("case %d: row %d: pushdown %v, per row %v\n%s\n(%s)", i, id, a[id], b[id], src, pathA)
			}
		}
	}
	if pushed < ran/2 {
		t.Errorf("%d of %d cases pushed pages down, want most", pushed, ran)
	}
}

// pdRows generates n rows. Clean rows hold text without NULLs in a and b
// and small integers in n and x, at one version (or none) per case, so
// that most pages push down; the others mix every value and version.
func pdRows(r *rand.Rand, n int, clean bool) [][]any {
	rows := make([][]any, n)
	pick := func(from []any) any { return from[r.IntN(len(from))] }
	text, ints, xs := pdText, pdInts, pdInts[:len(pdInts)-1]
	versions := []any{nil, nil, int64(1), int64(2), int64(3)}
	if clean {
		text = pdText[1:]
		ints = []any{int64(0), int64(3), int64(7), int64(-12), int64(42)}
		xs = ints
		versions = [][]any{{int64(2), int64(2), int64(3)}, {nil, nil, int64(4)}}[r.IntN(2)]
	}
	for i := range rows {
		rows[i] = []any{int64(i + 1), pick(text), pick(text), pick(ints), pick(xs), pick(versions)}
	}
	return rows
}

func pdRunbook(where string, set []pdSet) string {
	var b strings.Builder
	b.WriteString("lockstep: 1\nname: pd\ntitle: pd\nversion: 3\nstrategy: multi-step\n")
	b.WriteString("roles: {responsible: [t], accountable: t}\nenvironments:\n  test:\n    store: {kind: postgres, dsn: DSN, table: items, key: [id]}\n")
	b.WriteString("phases:\n  - name: run\n    steps:\n      - id: backfill\n        kind: migrate\n        with:\n          batch_size: 20\n          segments: 2\n          error_budget: 1000\n")
	if where != "" {
		fmt.Fprintf(&b, "          where: %q\n", where)
	}
	b.WriteString("          set:\n")
	used := map[string]int{}
	for _, s := range set {
		used[s.col]++
		fmt.Fprintf(&b, "            %s%d: %q\n", s.col, used[s.col], s.expr)
	}
	b.WriteString("          rename: {x: o4}\n")
	return b.String()
}

// pdRun runs src on a fresh table holding rows and returns its rows by
// id, the outcome and the step's path line.
func pdRun(t *testing.T, rows [][]any, src string, perRow bool) (map[int64]engine.Item, engine.Outcome, string) {
	t.Helper()
	items, out, path := pdRunOn(t, pdTable{key: "bigint"}, rows, src, perRow)
	byID := map[int64]engine.Item{}
	for k, it := range items {
		var id int64
		fmt.Sscan(k, &id)
		byID[id] = it
	}
	return byID, out, path
}

// pdTable is how the property test's table is made: setup runs first;
// key is the id column's type; collate, when set, is the collation of
// every text column but the id (the key's own, in key), as in
// `COLLATE "C"`; text5 is the type of a text column o5 (text); fill runs
// once the rows are in.
type pdTable struct{ setup, key, collate, text5, fill string }

// pdRunOn is pdRun on the table tab describes, its rows by the text of
// their id.
func pdRunOn(t *testing.T, tab pdTable, rows [][]any, src string, perRow bool) (map[string]engine.Item, engine.Outcome, string) {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.DB(t)
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if tab.setup != "" {
		if _, err := c.Exec(ctx, tab.setup); err != nil {
			t.Fatal(err)
		}
	}
	coll := ""
	if tab.collate != "" {
		coll = " " + tab.collate
	}
	if tab.text5 == "" {
		tab.text5 = "text"
	}
	var cols []string
	for _, p := range []string{"s", "i", "f", "b"} {
		typ := map[string]string{"s": "text" + coll, "i": "bigint", "f": "double precision", "b": "boolean"}[p]
		for n := 1; n <= 3; n++ {
			cols = append(cols, fmt.Sprintf("%s%d %s", p, n, typ))
		}
	}
	if _, err := c.Exec(ctx, `CREATE TABLE items (id `+tab.key+` PRIMARY KEY, a text`+coll+`, b varchar(40)`+coll+
		`, n bigint, x integer, v integer, o4 integer, o5 `+tab.text5+`, `+strings.Join(cols, ", ")+`)`); err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if _, err := c.Exec(ctx, "INSERT INTO items (id, a, b, n, x, v) VALUES ($1, $2, $3, $4, $5, $6)", row...); err != nil {
			t.Fatal(err)
		}
	}
	if tab.fill != "" {
		if _, err := c.Exec(ctx, tab.fill); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	rb, err := runbook.Parse(filepath.Join(dir, "rb.yaml"), []byte(strings.Replace(src, "dsn: DSN", fmt.Sprintf("dsn: %q", dsn), 1)))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	open := func(ctx context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
		st, err := postgres.Open(ctx, spec)
		if err != nil || !perRow {
			return st, err
		}
		return rig.PerRowStore{Store: st, BatchUpdater: st}, nil
	}
	out, pathLine := rig.RunPath(t, dir, rb, open, "backfill", !perRow)
	st, err := postgres.Open(ctx, &runbook.StoreSpec{Kind: "postgres", DSN: dsn, Table: "items", Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return rig.ScanItems(t, st, "id"), out, pathLine
}

// TestPushdownPagesAcrossSegments: with several segments, each pushed
// down page is the segment's next rows after the cursor, found in one
// pass over the key index with the counts; every page pushes down (its
// counts and its UPDATE agree: a page whose UPDATE wrote other rows than
// it counted would roll back and go per row) and every row is migrated
// once, whether a segment's rows come in whole blocks of keys or sparse.
func TestPushdownPagesAcrossSegments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ step, segments int }{{1, 2}, {7, 2}, {1500, 2}, {7, 1}, {1, 3}} { // dense, sparse, a row every other block
		step := tc.step
		var rows [][]any
		for id := int64(0); id < 3200*int64(step); id += int64(step) {
			rows = append(rows, []any{id, "Main St, Paris", "q", id % 5, nil, nil})
		}
		src := pdRunbook("item.n >= 2", []pdSet{{`trim(split(item.a, ",")[1])`, "s"}})
		src = strings.Replace(src, "segments: 2", fmt.Sprintf("segments: %d", tc.segments), 1)
		got, out, path := pdRun(t, rows, src, false)
		if out != engine.OutcomeCompleted || !strings.Contains(path, " 0 per row)") || strings.Contains(path, "(0 pages") {
			t.Fatalf("keys every %d, %d segments: outcome %q, %s; want completed, every page pushed down", step, tc.segments, out, path)
		}
		for _, r := range rows {
			it := got[r[0].(int64)]
			want := r[3].(int64) >= 2
			if (it["s1"] == "Paris") != want || (it["v"] != nil) != want {
				t.Errorf("keys every %d: row %v: %v, want migrated: %v", step, r[0], it, want)
			}
		}
	}
}
