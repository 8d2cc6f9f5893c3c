package postgres_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// pdCollations are the collations the text columns of
// TestPushdownMatchesPerRowUnderCollations take: byte order, two ICU
// locales (a < B; Turkish case mapping), and a non-deterministic
// case-insensitive one ('A' = 'a'), which PostgreSQL refuses for regular
// expressions, LIKE and substring searches.
var pdCollations = []struct{ name, setup, collate string }{
	{"C", "", `COLLATE "C"`},
	{"en-US", "", `COLLATE "en-US-x-icu"`},
	{"tr-TR", "", `COLLATE "tr-TR-x-icu"`},
	{"ci", "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)", "COLLATE ci"},
}

// pdCollationCases are steps whose SQL compares, searches or maps text:
// each would select, write or count other rows than the per-row path if
// it followed the column's collation instead of Go's byte order, or
// fail. where and set as in pdRunbook; rename replaces its rename; fill
// writes the columns the step finds written already (to compare them).
var pdCollationCases = []struct {
	name, where  string
	set          []pdSet
	rename, fill string
}{
	{name: "equal", where: `item.a == "abc"`, set: []pdSet{{`"hit"`, "s"}}},
	{name: "not equal", where: `item.a != item.b`, set: []pdSet{{`item.a + "|" + item.b`, "s"}}},
	{name: "less", where: `item.a < item.b`, set: []pdSet{{`item.a < "b" ? "lt" : "ge"`, "s"}}},
	{name: "greater or equal", where: `item.b >= "B"`, set: []pdSet{{`item.b`, "s"}}},
	{name: "replace", set: []pdSet{{`replace(item.a, "b", "x")`, "s"}}},
	{name: "split", set: []pdSet{{`split(item.a, ",")[0]`, "s"}, {`split(item.b, "B")[0]`, "s"}}},
	{name: "case mapping", set: []pdSet{{`upper(item.a)`, "s"}, {`lower(item.b)`, "s"}}},
	{name: "slice", set: []pdSet{{`item.a[0:1]`, "s"}}},
	{name: "trim", where: `trim(item.b) == "b"`, set: []pdSet{{`trim(item.a, "aA")`, "s"}}},
	{name: "mixed collations", set: []pdSet{{`item.a ?? item.o5`, "s"}}, fill: "UPDATE items SET s1 = upper(a), o5 = upper(a)"},
	{name: "rename", rename: "rename: {a: o5}", fill: "UPDATE items SET o5 = upper(a)"},
}

// pdCollationText are the texts of columns a and b: case variants that a
// case-insensitive collation finds equal, pairs ordered otherwise by a
// locale than by bytes, a Turkish i (TestCaseMappingIgnoresCollation has
// the others).
var pdCollationText = []any{"abc", "ABC", "Abc", "a", "A", "b", "B", " b ", "a,b", "A,B", "istanbul", ""}

// TestPushdownMatchesPerRowUnderCollations runs steps comparing,
// searching and mapping text through pushdown and per row on tables whose
// text columns, and whose text key, are in each of pdCollations, and
// requires identical tables and outcomes: a pushed-down UPDATE selects
// and writes what expr-lang's byte-wise string semantics do, and pages
// ranged over a text key under a locale's order meet end to end.
func TestPushdownMatchesPerRowUnderCollations(t *testing.T) {
	t.Parallel()
	for _, coll := range pdCollations {
		for _, key := range []string{"bigint", "text " + coll.collate} {
			rows := pdCollationRows(key != "bigint")
			for _, tc := range pdCollationCases {
				if key != "bigint" && tc.name != "less" && tc.name != "replace" {
					continue // the key's order matters to paging alone
				}
				t.Run(coll.name+"/"+strings.Fields(key)[0]+"/"+tc.name, func(t *testing.T) {
					t.Parallel()
					src := pdRunbook(tc.where, tc.set)
					if tc.rename != "" {
						src = strings.Replace(src, "rename: {x: o4}", tc.rename, 1)
					}
					if len(tc.set) == 0 {
						src = strings.Replace(src, "set:\n", "set: {}\n", 1)
					}
					if tc.where == "" && key != "bigint" {
						// one segment: its pages are written on a prediction
						// read through the key index first
						src = strings.Replace(src, "segments: 2", "segments: 1", 1)
					}
					// o5 in another collation than a's, but for "C"
					tab := pdTable{setup: coll.setup, key: key, collate: coll.collate, text5: `text COLLATE "C"`, fill: tc.fill}
					a, outA, pathA := pdRunOn(t, tab, rows, src, false)
					b, outB, _ := pdRunOn(t, tab, rows, src, true)
					t.Log(pathA, outA)
					if outA != outB {
						t.Errorf("outcome: pushdown %q, per row %q\n%s", outA, outB, src)
					}
					if !strings.Contains(pathA, "path: pushdown") || strings.Contains(pathA, "(0 pages pushed") {
						t.Errorf("%s: want pages pushed down", pathA)
					}
					if len(a) != len(rows) || len(b) != len(rows) {
						t.Errorf("rows: pushdown %d, per row %d, want %d", len(a), len(b), len(rows))
					}
					for id := range b {
						if !reflect.DeepEqual(a[id], b[id]) {
							t.Errorf("row %s: pushdown %v, per row %v\n%s", id, a[id], b[id], src)
						}
						if tc.where == "" && (a[id]["v"] == nil || b[id]["v"] == nil) {
							// a page that skipped it: the key order and ranges disagree
							t.Errorf("row %s: not migrated: pushdown %v, per row %v", id, a[id]["v"], b[id]["v"])
						}
					}
				})
			}
		}
	}
}

// pdCollationRows are rows with every pair of pdCollationText in a and
// b, under no version. With textKey their ids are text whose order
// differs between bytes ("B013" < "a001") and a locale ("a001" <
// "B013"), none equal to another case-insensitively; the rows of one
// text in a stay together, so that the pages of rows some step cannot
// translate exactly (a slice of "") are few.
func pdCollationRows(textKey bool) [][]any {
	var rows [][]any
	marks := []string{"a", "B", "c", "D", "_", "-", "é", "Z", "e", "F", "g", "H"}
	for i, a := range pdCollationText {
		for _, b := range pdCollationText {
			n := int64(len(rows) + 1)
			var id any = n
			if textKey {
				id = fmt.Sprintf("%s%03d", marks[i], n)
			}
			rows = append(rows, []any{id, a, b, n % 7, nil, nil})
		}
	}
	return rows
}
