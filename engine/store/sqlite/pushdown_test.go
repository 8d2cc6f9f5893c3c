package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// Expressions the property test draws from: every construct the
// translation knows, and some it does not (the step then runs per row).
var (
	pdSets = []string{
		`trim(split(item.a, ",")[1])`, `split(item.a, ", ")[0]`, `lower(item.a) + "-" + upper(item.b)`,
		`item.n * 2 + 1`, `item.n / 4`, `item.n % 3`, `-item.n - 1`, `item.a ?? "none"`,
		`item.n > 10 ? "big" : "small"`, `replace(item.a, " ", "_")`, `item.a[1:3]`, `item.b[2:]`,
		`item.x == item.n`, `item.x + item.n`, `trim(item.a, " ,")`, `item.n >= 2.5`, `item.x ?? item.n`,
		`item.a == "Main St, Paris" ? 1 : 0`, `item.b != nil && item.b > "m"`, `item.x / 2.0`, `nil`, `"lit"`,
		`trim(split(item.a, ", ")[2])`, `split(item.b, "*")[1]`,
		`len(item.a)`, // untranslated
	}
	// pdCombos are steps cutting several fields of one text: the
	// translation skips the separator tests the other fields imply.
	pdCombos = [][]string{
		{`split(item.a, ",")[0]`, `trim(split(item.a, ",")[1])`, `trim(split(item.a, ",")[2])`},
		{`trim(split(item.a, ", ")[0])`, `split(item.a, ", ")[2]`, `split(item.b, ", ")[1]`},
		{`split(item.a, ",")[1]`, `item.n > 3 ? split(item.a, ",")[0] : "-"`, `split(item.a, ",")[3]`},
	}
	pdWheres = []string{
		"", `item.a != nil`, `item.n >= 3 && item.a != nil`, `item.x == nil || item.n < 5`,
		`not (item.b == "q")`, `item.a < item.b`, `item.n % 2 == 0`, `trim(item.b) == "q"`,
	}
	pdValues = []any{
		nil, nil, int64(0), int64(3), int64(7), int64(-12), int64(42), int64(5_000_000_000), 2.5, 3.0, -0.5,
		"", "q", " q ", "Main St, Paris", "1 Rue, Lyon, 69001", "a,b,c,d,e,f", "  spaced , out ,", "Zürich, CH",
		"tab\there", "x", "m", "ÉCOLE, Nantes", []byte("blob"), "a*b*c", "*", "1, 2, 3, 4",
		"a, b\t, c", "a, \"b\", c", "a,\u00a0b, c", "a, b\x00, c",
	}
)

// pdMixed is the number of generated cases mixing several expressions
// over rows of every type; each expression of pdSets also gets a case of
// its own over clean rows. Each case runs two sessions.
const pdMixed = 8

// TestPushdownMatchesPerRow is the property test of pushdown: for
// generated rows and expressions, a migrate step run by pushdown and the
// same step run per row leave identical tables (as the store reads
// them) and the same outcome.
func TestPushdownMatchesPerRow(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 2026))
	pushed, ran := 0, 0
	cases := len(pdSets) + pdMixed + 2*len(pdCombos)
	for i := range cases {
		combo := i - len(pdSets) - pdMixed
		clean := i < len(pdSets) || combo >= 0 && combo%2 == 0
		rows := pdRows(r, 60, clean)
		if combo >= 0 {
			pdComboTexts(r, rows, clean)
		}
		where := pdWheres[r.IntN(len(pdWheres))]
		var set []string
		switch {
		case combo >= 0:
			set = pdCombos[combo/2]
		case clean:
			set = []string{pdSets[i]}
		default:
			for range 1 + r.IntN(3) {
				set = append(set, pdSets[r.IntN(len(pdSets))])
			}
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			ran++
			src := pdRunbook(where, set)
			a, outA, pathA := pdRun(t, rows, src, false)
			b, outB, _ := pdRun(t, rows, src, true)
			if strings.Contains(pathA, "path: pushdown") && !strings.Contains(pathA, "(0 pages pushed") {
				pushed++
			}
			t.Logf("%s: %s", set, pathA)
			if outA != outB {
				t.Errorf("outcome: pushdown %q, per row %q\n%s", outA, outB, src)
			}
			for id := range a {
				if !reflect.DeepEqual(a[id], b[id]) {
					t.Errorf("row %d: pushdown %v, per row %v\n%s\n(%s)", id, a[id], b[id], src, pathA)
				}
			}
		})
	}
	if pushed < ran/2 {
		t.Errorf("%d of %d cases pushed pages down, want most", pushed, ran)
	}
}

// pdRows generates n rows. Clean rows hold text in a and b and integers
// in n and x, so that most pages push down; the others mix every type,
// so that many pages need the per-row path.
func pdRows(r *rand.Rand, n int, clean bool) [][]any {
	rows := make([][]any, n)
	pick := func(from []any) any { return from[r.IntN(len(from))] }
	text, ints := pdValues, pdValues
	if clean {
		text = []any{"", "q", " q ", "Main St, Paris", "1 Rue, Lyon, 69001", "a,b,c,d,e,f", "  spaced , out ,", "x", "m", "Zürich, CH", "ÉCOLE, Nantes", "a*b*c", "1, 2, 3, 4"}
		ints = []any{int64(0), int64(3), int64(7), int64(-12), int64(42)}
	}
	// Clean rows are at the version before the target or already there,
	// or without a version and past it: a page writing rows from one
	// version pushes down (a rollback reads its range), pages mixing
	// versions go per row (it records each row's). Pages all below the
	// target take the store's light path (no classification).
	versions := [][]any{{int64(2), int64(2), int64(3)}, {nil, nil, int64(4)}, {int64(2)}, {nil}}[r.IntN(4)]
	for i := range rows {
		v := []any{nil, nil, int64(1), int64(2), int64(3)}[r.IntN(5)]
		if clean {
			v = versions[r.IntN(len(versions))]
		}
		if !clean && r.IntN(40) == 0 {
			v = "x" // not a number: a per-row failure
		}
		rows[i] = []any{int64(i + 1), pick(text), pick(text), pick(ints), pick(ints), v}
	}
	return rows
}

// pdComboTexts gives a and b of rows texts holding the separators
// pdCombos cut (",", ", "), with empty fields and spaces around them, so
// that most pages push down; mixed rows sometimes hold fewer.
func pdComboTexts(r *rand.Rand, rows [][]any, clean bool) {
	texts := []any{"1 Rue, Lyon, 69001, FR", "a, b, c, d", " x ,y, z , w ", "a,, b, c", ", , , ", "a, b, c, d, e"}
	few := []any{"a, b", "x", "a,b,c", "a, b, c", nil}
	for _, row := range rows {
		for _, col := range []int{1, 2} {
			row[col] = texts[r.IntN(len(texts))]
			if !clean && r.IntN(15) == 0 {
				row[col] = few[r.IntN(len(few))]
			}
		}
	}
}

func pdRunbook(where string, set []string) string {
	var b strings.Builder
	b.WriteString("lockstep: 1\nname: pd\ntitle: pd\nversion: 3\nstrategy: multi-step\n")
	b.WriteString("roles: {responsible: [t], accountable: t}\nenvironments:\n  test:\n    store: {kind: sqlite, path: DB, table: items, key: [id]}\n")
	b.WriteString("phases:\n  - name: run\n    steps:\n      - id: backfill\n        kind: migrate\n        with:\n          batch_size: 20\n          error_budget: 1000\n")
	if where != "" {
		fmt.Fprintf(&b, "          where: %q\n", where)
	}
	b.WriteString("          set:\n")
	for i, e := range set {
		fmt.Fprintf(&b, "            o%d: %q\n", i+1, e)
	}
	b.WriteString("          rename: {x: o4}\n")
	return b.String()
}

// pdRun runs src on a fresh table holding rows and returns its rows by
// id, the outcome and the step's path line.
func pdRun(t *testing.T, rows [][]any, src string, perRow bool) (map[int64]engine.Item, engine.Outcome, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "data.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustDB(t, db, `CREATE TABLE items (id INTEGER PRIMARY KEY, a, b TEXT, n NUMERIC, x, v,
		o1, o2, o3, o4 INTEGER)`)
	for _, row := range rows {
		mustDB(t, db, "INSERT INTO items (id, a, b, n, x, v) VALUES (?, ?, ?, ?, ?, ?)", row...)
	}
	rb, err := runbook.Parse(filepath.Join(dir, "rb.yaml"), []byte(strings.Replace(src, "path: DB", "path: "+path, 1)))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	open := func(_ context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
		st, err := sqlite.Open(spec)
		if err != nil || !perRow {
			return st, err
		}
		return rig.PerRowStore{Store: st, BatchUpdater: st}, nil
	}
	out, pathLine := rig.RunPath(t, dir, rb, open, "backfill", !perRow)
	st, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: path, Table: "items", Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return rig.ItemsByID(t, st), out, pathLine
}

func mustDB(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
