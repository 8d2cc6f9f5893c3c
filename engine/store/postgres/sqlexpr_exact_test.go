package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/internal/pgtest"
	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

// TestSplitSeparatorTestIsExact checks the PostgreSQL translation's test
// for split(s, sep)[i] on a real server: its SetOK holds exactly where s
// has more than i fields as split counts them (separators without
// overlaps), for separators holding LIKE's wildcards, its escape
// character and quotes.
func TestSplitSeparatorTestIsExact(t *testing.T) {
	t.Parallel()
	conn := exactConn(t)
	seps := []string{",", ", ", "aa", "%", "_", "!", "!%", `\`, "'", "é"}
	texts := []string{"", "a", "aa", "aaa", "aaaa", "aaaaa", "a,b", "a, b, c", "a,,b", "%", "a%b%c", "x_y_z", "ab",
		"!!", "!%!%", "!%%", `\a\b\`, `\\`, "a'b'c", "''", "éaé", "Zürich, CH", "1 Rue, Lyon, 69001"}
	for _, sep := range seps {
		for i := 1; i <= 3; i++ {
			src := fmt.Sprintf("split(item.s, %q)[%d]", sep, i)
			_, pg := textSet(t, src)
			q := "SELECT " + pg.SetOK + " FROM (SELECT $1::text AS s) r"
			for _, s := range texts {
				var got bool
				if err := conn.QueryRow(t.Context(), q, s).Scan(&got); err != nil {
					t.Fatalf("%s on %q: %v\n%s", src, s, err, q)
				}
				if want := len(strings.Split(s, sep)) > i; got != want {
					t.Errorf("%s on %q: SetOK = %v, want %v (%s)", src, s, got, want, pg.SetOK)
				}
			}
		}
	}
}

// TestCaseMappingIgnoresCollation checks on a real server that the
// PostgreSQL translation of lower and upper, alone and within other
// text operations, writes what expr-lang computes wherever its SetOK
// holds, whatever the column's collation: under a Turkish or an
// Azerbaijani one PostgreSQL maps i to İ and I to ı, where Go maps ASCII
// to ASCII.
func TestCaseMappingIgnoresCollation(t *testing.T) {
	t.Parallel()
	conn := exactConn(t)
	exact := 0 // rows whose SetOK holds
	texts := []string{"istanbul, izmir", "DIYARBAKIR", "Iİıi", "plain"}
	for _, coll := range []string{`"tr-TR-x-icu"`, `"az-x-icu"`, `"C"`} {
		var n int
		if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_collation WHERE collname = $1", strings.Trim(coll, `"`)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Logf("collation %s: not on this server", coll)
			continue
		}
		tests := []string{`upper(item.s)`, `lower(item.s)`, `lower(trim(item.s))`, `upper(item.s + "i")`, `upper(lower(item.s))`,
			`split(upper(item.s), ",")[1]`, `upper(item.s) + item.s`, `upper(item.s) == item.s ? "same" : lower(item.s)`,
			`trim(upper(item.s), "I")`, `replace(upper(item.s), "I", lower(item.s))`, `upper(item.s)[0:2]`,
			`upper(item.s) < item.s ? "lt" : "ge"`}
		for _, src := range tests {
			e, pg := textSet(t, src)
			q := "SELECT " + pg.SetOK + ", " + pg.Set[0].SQL + " FROM (SELECT $1::text COLLATE " + coll + " AS s) r"
			for _, s := range texts {
				var ok bool
				var got *string
				if err := conn.QueryRow(t.Context(), q, s).Scan(&ok, &got); err != nil {
					t.Fatalf("%s on %q: %v\n%s", src, s, err, q)
				}
				if ok {
					exact++
				}
				want, err := e.Eval(map[string]any{runbook.EnvItem: map[string]any{"s": s}})
				if ok && (err != nil || got == nil || *got != want) {
					t.Errorf("collation %s, %s on %q: SetOK holds and the value is %v, want %v (%v)", coll, src, s, deref(got), want, err)
				}
			}
		}
	}
	if exact < 30 {
		t.Errorf("SetOK held on %d rows: the test checks too few", exact)
	}
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// exactConn is a connection to the test server, closed with the test.
func exactConn(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// textSet is src compiled, and the PostgreSQL translation of a step
// setting out to it on a table of text columns.
func textSet(t *testing.T, src string) (*runbook.Expr, *sqlexpr.Migrate) {
	t.Helper()
	e, err := runbook.CompileExpr(src, false)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sqlexpr.TranslateMigrate(&runbook.MigrateSpec{Set: []runbook.SetClause{{Attr: "out", Expr: e}}}, sqlexpr.Postgres, []string{"id"}, "v")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := m.ForTypes(func(string) (sqlexpr.Column, bool) { return sqlexpr.Column{Type: sqlexpr.TypeText}, true })
	if err != nil {
		t.Fatal(err)
	}
	return e, pg
}

// TestUnchangedIgnoresCollation checks on a real server that the
// PostgreSQL translation's Unchanged, whether a row already holds the
// values a step sets, compares them byte by byte as the per-row path
// does, whatever the collations of the columns: a case-insensitive one
// finds "ABC" equal to "abc", and two columns of different collations
// cannot be compared without one named.
func TestUnchangedIgnoresCollation(t *testing.T) {
	t.Parallel()
	conn := exactConn(t)
	if _, err := conn.Exec(t.Context(), "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)"); err != nil {
		t.Fatal(err)
	}
	rows := [][2]any{{"abc", "ABC"}, {"abc", "abc"}, {"ABC", "abc"}, {"a b", "A B"}, {nil, "x"}, {"x", nil}}
	for _, coll := range []string{`"C"`, `"en-US-x-icu"`, `"tr-TR-x-icu"`, "ci"} {
		for i, other := range []string{coll, `"C"`, "ci"} { // the collation of s: out's, or another
			if i > 0 && other == coll {
				continue
			}
			for _, src := range []string{`item.s`, `lower(item.s)`, `item.s ?? "x"`, `item.s + ""`} {
				e, pg := textSet(t, src)
				q := "SELECT " + pg.Unchanged + " FROM (SELECT $1::text COLLATE " + other + " AS s, $2::text COLLATE " + coll + " AS out) r"
				for _, row := range rows {
					var got bool
					if err := conn.QueryRow(t.Context(), q, row[0], row[1]).Scan(&got); err != nil {
						t.Errorf("out %s, s %s, %s on %q: %v", coll, other, src, row, err)
						continue
					}
					v, err := e.Eval(map[string]any{runbook.EnvItem: map[string]any{"s": row[0]}})
					want := err == nil && row[1] != nil && v == row[1]
					if got != want {
						t.Errorf("out %s, s %s, %s on %q: Unchanged = %v, want %v", coll, other, src, row, got, want)
					}
				}
			}
		}
	}
}

// TestRenameUnchangedIgnoresCollation: a rename's Unchanged compares
// two text columns of different collations byte by byte.
func TestRenameUnchangedIgnoresCollation(t *testing.T) {
	t.Parallel()
	conn := exactConn(t)
	if _, err := conn.Exec(t.Context(), "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)"); err != nil {
		t.Fatal(err)
	}
	m, err := sqlexpr.TranslateMigrate(&runbook.MigrateSpec{Rename: map[string]string{"a": "b"}}, sqlexpr.Postgres, []string{"id"}, "v")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := m.ForTypes(func(string) (sqlexpr.Column, bool) { return sqlexpr.Column{Type: sqlexpr.TypeText}, true })
	if err != nil {
		t.Fatal(err)
	}
	for _, colls := range [][2]string{{`"C"`, "ci"}, {"ci", "ci"}, {`"en-US-x-icu"`, `"C"`}} {
		q := "SELECT " + pg.Unchanged + " FROM (SELECT $1::text COLLATE " + colls[0] + " AS a, $2::text COLLATE " + colls[1] + " AS b) r"
		for _, row := range [][2]any{{"abc", "ABC"}, {nil, "x"}, {"x", nil}, {nil, nil}} {
			var got bool
			if err := conn.QueryRow(t.Context(), q, row[0], row[1]).Scan(&got); err != nil {
				t.Errorf("a %s, b %s, on %q: %v", colls[0], colls[1], row, err)
				continue
			}
			if want := row[0] == nil; got != want { // a NULL a leaves b as it is
				t.Errorf("a %s, b %s, on %q: Unchanged = %v, want %v", colls[0], colls[1], row, got, want)
			}
		}
	}
}
