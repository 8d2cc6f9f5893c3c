package postgres_test

import (
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
	conn, err := pgx.Connect(t.Context(), pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	seps := []string{",", ", ", "aa", "%", "_", "!", "!%", `\`, "'", "é"}
	texts := []string{"", "a", "aa", "aaa", "aaaa", "aaaaa", "a,b", "a, b, c", "a,,b", "%", "a%b%c", "x_y_z", "ab",
		"!!", "!%!%", "!%%", `\a\b\`, `\\`, "a'b'c", "''", "éaé", "Zürich, CH", "1 Rue, Lyon, 69001"}
	types := func(string) (sqlexpr.Column, bool) { return sqlexpr.Column{Type: sqlexpr.TypeText}, true }
	for _, sep := range seps {
		for i := 1; i <= 3; i++ {
			src := fmt.Sprintf("split(item.s, %q)[%d]", sep, i)
			e, err := runbook.CompileExpr(src, false)
			if err != nil {
				t.Fatal(err)
			}
			m, err := sqlexpr.TranslateMigrate(&runbook.MigrateSpec{Set: []runbook.SetClause{{Attr: "out", Expr: e}}}, sqlexpr.Postgres, []string{"id"}, "v")
			if err != nil {
				t.Fatal(err)
			}
			pg, err := m.ForTypes(types)
			if err != nil {
				t.Fatal(err)
			}
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
