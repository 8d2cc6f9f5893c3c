package sqlexpr_test

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenExprs are the expressions the tests of this package and of its
// callers (the SQL stores' pushdown tests, migrate's, the protocols)
// translate, and some near them.
var goldenExprs = []string{
	`-item.n - 1`, `float(item.amount)`, `item.a != nil`, `item.a < item.b`, `item.a == "Main St, Paris" ? 1 : 0`,
	`item.a == item.n`, `item.a == nil`, `item.a ?? "none"`, `item.a[1:3]`, `item.addr != nil`, `item.address`,
	`item.address != nil`, `item.amount`, `item.amount != nil`, `item.amount * 1.5`, `item.amount + 1`,
	`item.amount == 5`, `item.amount == item.amount`, `item.amount == nil`, `item.amount > 0`, `item.amount ?? 0`,
	`item.b != nil && item.b > "m"`, `item.b ?? "none"`, `item.b[2:]`, `item.flag`, `item.id > 1000000`,
	`item.list`, `item.list[1] + 1`, `item.m * 2`, `item.n % 2 == 0`, `item.n % 2 == 0 ? item.n / 2 : item.n * 3 + 1`,
	`item.n % 3`, `item.n * 2`, `item.n * 2 + 1`, `item.n * 3`, `item.n / 2`, `item.n / 4`, `item.n > 1 ? "a" : 1`,
	`item.n > 1 ? split(item.s, ",")[1] : "x"`, `item.n > 10 ? "big" : "small"`, `item.n > 2 && item.n < 9`,
	`item.n > 3 ? split(item.a, ",")[0] : "-"`, `item.n >= 2`, `item.n >= 2.5`, `item.n >= 3 && item.a != nil`,
	`item.nope`, `item.price > 2`, `item.small * 2`, `item.small + 'x'`, `item.t == "y" ? split(item.s, ",")[1] : "x"`,
	`item.v < 3`, `item.x + item.n`, `item.x / 2.0`, `item.x == item.n`, `item.x == nil || item.n < 5`, `item.x ?? item.n`,
	`item?.name`, `item["address"]`, `len(item) > 0 && item.amount < 1`, `len(item.a)`,
	`lower(item.a) + "-" + upper(item.b)`, `lower(item.a) + "/" + upper(item.b[0:2]) + replace(item.c, "x", "y")`,
	`lower(item.n)`, `not (item.b == "q")`, `replace(item.a, " ", "_")`, `split(item.a, "")[0]`,
	`split(item.a, ", ")[0]`, `split(item.a, ", ")[2]`, `split(item.a, ",")[0]`, `split(item.a, ",")[1]`,
	`split(item.a, ",")[3]`, `split(item.a, ",")[item.i]`, `split(item.b, "*")[1]`, `split(item.b, ", ")[1]`,
	`split(item.s, "%_!")[1]`, `split(item.s, ",")[0]`, `split(item.s, ",")[0] == "x"`, `split(item.s, ",")[1]`,
	`split(item.s, ",")[2]`, `split(item.s, ";")[2]`, `split(item.t, ",")[2]`, `split(split(item.s, ";")[0], ",")[0]`,
	`split(split(item.s, ";")[0], ",")[2]`, `string(item.amount)`, `trim(item.a, " ,")`, `trim(item.b) == "q"`,
	`trim(split(item.a, ", ")[0])`, `trim(split(item.a, ", ")[2])`, `trim(split(item.a, ",")[1])`,
	`trim(split(item.a, ",")[2])`, `trim(split(item.addr, ",")[1])`, `trim(split(item.addr, ",")[2])`,
	`trim(split(item.address, ",")[1])`, `trim(split(item.s, ",")[0])`, `trim(split(item.s, ",")[1])`,
	`trim(split(item.s, ",")[2])`, `item.count + 1`, `upper(item.address)`, `item.name`, `item.address + "!"`,
	`"Paris"`, `nil == item.name`, `get(item, "address") != nil`, `int(item.name)`, `len(item)`,
	`len(item) > 1 ? trim(split(get(item, "address"), ",")[1]) : "?"`, `trim(split(item.address, ",")[0])`,
	`trim(split(item.address, ",")[2])`, `item.city != nil`, `item.mail == nil || item.email == item.mail`,
	`item.price >= 0`, `item.address == nil || item.street_name != nil || len(split(item.address, ",")) != 3`,
	`item.address == nil || trim(item.address) == "" || item.street_name != ""`, `item.city != "" && item.postcode != ""`,
	`item.plan in ["basic", "pro", "enterprise"]`, `item.street_name != nil && item.street_name != ""`,
	`item.tenant == nil || item.gsi1pk == "TENANT#" + item.tenant`, `item.mail`, `lower(item.email)`,
	`lower(trim(item.email))`, `item.address != nil && (item.v == nil || item.v < 3)`, `item.address != nil && item.city == nil`,
	`item.email != nil && item.email != lower(trim(item.email))`, `item.quantity != nil && item.quantity_big != item.quantity`,
	`item.country == nil || item.country == ""`, `type(item.price) == "string"`, `"TENANT#" + item.tenant`,
	`"CUSTOMER#" + item.customer`, `{"b": "basic", "p": "pro", "e": "enterprise"}[item.plan]`, `item.country == vars.fill`,
	`item.quantity`, `"ORDER#" + item.id`,
	// near them: literals, bounds, operators and forms the translation refuses
	`true`, `false`, `nil`, `0`, `-0`, `2147483647`, `2147483648`, `-2147483647`, `-2147483648`, `2.5`, `3.0`, `1e300`,
	`0.1`, `"it's"`, `""`, `item["a b"]`, `item["q\"uote"]`, `item[item.a]`, `item.a.b`, `item?.a ?? "x"`,
	`!item.ok`, `not item.ok`, `-item.f`, `+item.n`, `-"x"`, `!item.n`, `item.n ** 2`, `item.n ^ 2`, `item.a in item.b`,
	`item.a matches "x"`, `item.a contains "x"`, `item.a startsWith "x"`, `item.a endsWith "x"`, `item.n .. 3`,
	`item.ok == true`, `item.ok != item.flag`, `item.ok == 1`, `item.a == 1`, `"a" == 1`, `1 == 1.0`, `nil == nil`,
	`nil != nil`, `item.a < 1`, `"a" < "b"`, `1 < 2.5`, `item.n + "x"`, `"x" + 1`, `item.n - item.f`, `item.f * item.x`,
	`item.n / 0`, `item.f / item.n`, `item.n % item.x`, `item.f % 2`, `2.5 % 2`, `item.a ?? item.b ?? "z"`,
	`nil ?? item.a`, `item.a ?? nil`, `item.n ?? "x"`, `true ? nil : item.a`, `item.ok ? item.n : item.f`,
	`item.n ? 1 : 2`, `item.ok ? nil : nil`, `item.ok && item.n`, `item.ok || false`, `trim(item.a, item.b)`,
	`trim(item.a, "")`, `trim(item.n)`, `trim(1)`, `lower(item.a, item.b)`, `upper("Ab")`, `replace(item.a, "", "x")`,
	`replace(item.a, item.b, item.c)`, `replace(item.n, "a", "b")`, `abs(item.n)`, `split(item.a, ",")`,
	`split(item.a, ",")[-1]`, `split(item.a, ",")[4]`, `split(item.a, ",")[5]`, `split(item.a, item.b)[0]`,
	`split(item.a, ",", 2)[0]`, `split(item.n, ",")[0]`, `split(item.a, ",")?.[1]`, `split(item.a, "é")[1]`,
	`split(item.a, "\t")[1]`, `split(item.a, "[?")[2]`, `split(item.a, "'")[1]`, `split(item.a, ",")[1] + split(item.a, ",")[2]`,
	`item.a[0:0]`, `item.a[2:1]`, `item.a[-1:]`, `item.a[:3]`, `item.a[:]`, `item.a[item.n:]`, `item.a[1:item.n]`,
	`item.n[1:2]`, `lower(split(item.a, ",")[1])[0:2]`, `trim(trim(split(item.a, ",")[1]))`,
	`item.a == nil ? "none" : trim(item.a)`, `(item.n > 1) == (item.x > 1)`, `item.a + item.b`, `item.a + item.b + "x"`,
	`item.n * item.x * 2`, `-(item.n * item.x)`, `(item.n + 1) / (item.x - 1)`, `item.n > item.x`, `item.a >= "m"`,
	`"x" == item.a`, `1 == item.n`, `2.5 != item.f`, `trim(item.n, " ,")`, `trim(item.a, item.n)`, `item.a +`, `2.5 * 2`,
	`item.ok ?? false`, `item.n > 1 ? item.ok : false`, `2 * 3`, `1 + 2 - 4`, `item.n % 2 * 3`, `-(2 % 3)`,
}

// goldenSteps are whole migrate steps: several set values, rename,
// remove, a transform, and steps writing the key or the version.
var goldenSteps = []runbook.MigrateSpec{
	set("item.addr != nil", "city", `trim(split(item.addr, ",")[1])`, "code", `trim(split(item.addr, ",")[2])`),
	set("", "o1", `split(item.a, ",")[0]`, "o2", `trim(split(item.a, ",")[1])`, "o3", `trim(split(item.a, ",")[2])`),
	set("", "o1", `trim(split(item.a, ", ")[0])`, "o2", `split(item.a, ", ")[2]`, "o3", `split(item.b, ", ")[1]`),
	set("", "o1", `split(item.a, ",")[1]`, "o2", `item.n > 3 ? split(item.a, ",")[0] : "-"`, "o3", `split(item.a, ",")[3]`),
	set("", "a", `split(item.s, ",")[0]`, "b", `trim(split(item.s, ",")[2])`),
	set("", "a", `split(item.s, ",")[0]`, "b", `split(item.s, ";")[2]`),
	set("", "a", `split(item.s, ",")[1]`, "b", `split(item.t, ",")[2]`),
	set("", "a", `split(split(item.s, ";")[0], ",")[0]`, "b", `split(split(item.s, ";")[0], ",")[2]`),
	set("", "a", `item.n > 1 ? split(item.s, ",")[1] : "x"`, "b", `split(item.s, ",")[2]`),
	set("", "a", `item.t == "y" ? split(item.s, ",")[1] : "x"`, "b", `split(item.s, ",")[2]`),
	set(`split(item.s, ",")[0] == "x"`, "b", `split(item.s, ",")[2]`),
	set("item.address != nil", "street_name", `trim(split(item.address, ",")[0])`, "city", `trim(split(item.address, ",")[1])`,
		"postcode", `trim(split(item.address, ",")[2])`),
	set("item.address != nil", "street", `item.address + "!"`, "city", `"Paris"`),
	set("item.a == nil", "a", `item.b ?? "none"`),
	set("item.email != nil && item.email != lower(trim(item.email))", "email", `lower(trim(item.email))`),
	set("", "id", `1`),
	set("", "v", `1`),
	set("", "a", `"x"`, "a", `"y"`),
	withRename(set("item.addr != nil", "city", `trim(split(item.addr, ",")[1])`), map[string]string{"x": "o4"}),
	withRename(set("", "o1", `item.n * 2`), map[string]string{"x": "o4", "a": "b"}),
	withRename(set("", "o1", `item.n * 2`), map[string]string{"x": "o1"}),
	withRename(set(""), map[string]string{"id": "o1"}),
	withRename(set(""), map[string]string{"n": "f"}),
	withRename(set(""), map[string]string{"city": "a"}),
	withRename(set(""), map[string]string{"a": "city"}),
	withRename(set(""), map[string]string{"n": "m", "m": "n"}),
	withRemove(set("item.n > 2", "o1", `item.n % 2`), "x", "a"),
	withRemove(set(""), "v"),
	withRemove(set(""), "price"),
	withRemove(withRename(set("", "o1", `lower(item.a)`), map[string]string{"b": "s"}), "t"),
	{Transform: []string{"jq", "."}, Set: set("", "a", `"x"`).Set},
	set(""),
	set("item.flag"),
	set("item.ok", "o1", `item.ok`, "o2", `!item.ok`),
	set("", "nope", `"x"`),
	withRename(set(""), map[string]string{"z": "a"}),
	withRename(set(""), map[string]string{"a": "nope"}),
}

// set is a step with where (none when empty) and attr, expr pairs.
func set(where string, pairs ...string) runbook.MigrateSpec {
	var sp runbook.MigrateSpec
	if where != "" {
		sp.Where = &runbook.Expr{Source: where}
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		sp.Set = append(sp.Set, runbook.SetClause{Attr: pairs[i], Expr: &runbook.Expr{Source: pairs[i+1]}})
	}
	return sp
}

func withRename(sp runbook.MigrateSpec, r map[string]string) runbook.MigrateSpec {
	sp.Rename = r
	return sp
}

func withRemove(sp runbook.MigrateSpec, cols ...string) runbook.MigrateSpec {
	sp.Remove = cols
	return sp
}

// genExprs are n expressions drawn from the grammar the translation
// knows, with some of what it refuses, from a fixed seed.
func genExprs(n int) []string {
	r := rand.New(rand.NewPCG(17, 2028))
	out := make([]string, n)
	for i := range out {
		out[i] = genExpr(r, 3, true)
	}
	return out
}

// genExpr is an expression at most depth deep; split says whether a
// split may cut it (nested splits repeat their text 48 times each).
func genExpr(r *rand.Rand, depth int, split bool) string {
	if depth == 0 || r.IntN(4) == 0 {
		return pick(r, []string{`item.a`, `item.b`, `item.s`, `item.n`, `item.x`, `item.f`, `item.ok`, `item.p`,
			`item.z`, `item["a"]`, `item?.b`, `nil`, `true`, `false`, `0`, `2`, `-3`, `2147483647`, `2.5`, `3.0`,
			`""`, `"x"`, `","`, `"a'b"`, `" q "`})
	}
	sub := func() string { return genExpr(r, depth-1, split) }
	switch r.IntN(10) {
	case 0:
		return pick(r, []string{"!", "not ", "-", "+"}) + "(" + sub() + ")"
	case 1, 2, 3:
		op := pick(r, []string{"and", "&&", "or", "||", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "??", "**", "in"})
		return "(" + sub() + " " + op + " " + sub() + ")"
	case 4:
		return "(" + sub() + " ? " + sub() + " : " + sub() + ")"
	case 5, 6:
		switch r.IntN(6) {
		case 0:
			return pick(r, []string{"lower", "upper"}) + "(" + sub() + ")"
		case 1:
			return "trim(" + sub() + ")"
		case 2:
			return "trim(" + sub() + ", " + pick(r, []string{`" ,"`, `"x"`, `item.b`, `"é"`}) + ")"
		case 3:
			return "replace(" + sub() + ", " + pick(r, []string{`" "`, `""`, `item.b`, `"'"`}) + ", " + sub() + ")"
		case 4:
			return pick(r, []string{"len", "abs", "string"}) + "(" + sub() + ")"
		}
		fallthrough
	case 7, 8:
		if !split {
			return sub()
		}
		text := genExpr(r, depth-1, false)
		sep := pick(r, []string{`","`, `", "`, `";"`, `"*"`, `"%_!"`, `"é"`, `"\t"`, `""`, `item.b`})
		return "split(" + text + ", " + sep + ")[" + pick(r, []string{"0", "1", "2", "3", "4", "5", "-1", "item.n"}) + "]"
	}
	bounds := pick(r, []string{"[1:3]", "[2:]", "[:2]", "[0:0]", "[3:1]", "[-1:]", "[item.n:]"})
	return "(" + sub() + ")" + bounds
}

func pick(r *rand.Rand, from []string) string { return from[r.IntN(len(from))] }

// goldenTypes are the column types ForTypes is called with: every column
// text, or a mix in which out, the column the expressions are written
// to, takes each type in turn.
func goldenTypes() []struct {
	name  string
	types func(string) (sqlexpr.Column, bool)
} {
	text := func(c string) (sqlexpr.Column, bool) {
		return sqlexpr.Column{Type: sqlexpr.TypeText}, c != "z" && c != "nope"
	}
	mixed := map[string]sqlexpr.Column{
		"n": {Type: sqlexpr.TypeInt, IntBits: 32}, "m": {Type: sqlexpr.TypeInt, IntBits: 64}, "x": {Type: sqlexpr.TypeInt, IntBits: 64},
		"i": {Type: sqlexpr.TypeInt, IntBits: 16}, "v": {Type: sqlexpr.TypeInt, IntBits: 64}, "id": {Type: sqlexpr.TypeInt, IntBits: 64},
		"count": {Type: sqlexpr.TypeInt, IntBits: 32}, "quantity": {Type: sqlexpr.TypeInt, IntBits: 64},
		"quantity_big": {Type: sqlexpr.TypeInt, IntBits: 64}, "small": {Type: sqlexpr.TypeInt, IntBits: 16},
		"f": {Type: sqlexpr.TypeFloat}, "amount": {Type: sqlexpr.TypeFloat},
		"ok": {Type: sqlexpr.TypeBool}, "flag": {Type: sqlexpr.TypeBool},
		"p": {}, "price": {}, "city": {Type: sqlexpr.TypeText, MaxLen: 20}, "code": {Type: sqlexpr.TypeText, MaxLen: 5},
		"o4": {Type: sqlexpr.TypeInt, IntBits: 32},
	}
	outs := []struct {
		name string
		col  sqlexpr.Column
	}{
		{"text", sqlexpr.Column{Type: sqlexpr.TypeText}}, {"text(8)", sqlexpr.Column{Type: sqlexpr.TypeText, MaxLen: 8}},
		{"int16", sqlexpr.Column{Type: sqlexpr.TypeInt, IntBits: 16}}, {"int32", sqlexpr.Column{Type: sqlexpr.TypeInt, IntBits: 32}},
		{"int64", sqlexpr.Column{Type: sqlexpr.TypeInt, IntBits: 64}}, {"float", sqlexpr.Column{Type: sqlexpr.TypeFloat}},
		{"bool", sqlexpr.Column{Type: sqlexpr.TypeBool}}, {"other", sqlexpr.Column{}},
	}
	all := []struct {
		name  string
		types func(string) (sqlexpr.Column, bool)
	}{{"all text", text}}
	for _, o := range outs {
		all = append(all, struct {
			name  string
			types func(string) (sqlexpr.Column, bool)
		}{"mixed, out " + o.name, func(c string) (sqlexpr.Column, bool) {
			switch c {
			case "out", "o1", "o2", "o3":
				return o.col, true
			case "z", "nope":
				return sqlexpr.Column{}, false
			}
			if col, ok := mixed[c]; ok {
				return col, true
			}
			return sqlexpr.Column{Type: sqlexpr.TypeText}, true
		}})
	}
	return all
}

// TestTranslationGolden pins what the public API answers for every
// expression and step above, in both dialects: the SQL, its conditions,
// the columns read and written, or the error. go test -update rewrites
// testdata/TestTranslationGolden.*.golden.
func TestTranslationGolden(t *testing.T) {
	exprs := append(append([]string{}, goldenExprs...), genExprs(400)...)
	var steps []runbook.MigrateSpec
	for _, e := range exprs {
		steps = append(steps, set("", "out", e), set(e))
	}
	steps = append(steps, goldenSteps...)
	var lite, pg strings.Builder
	for i, e := range exprs {
		fmt.Fprintf(&lite, "### expr %d: %s\n", i, e)
		tr, err := sqlexpr.Translate(e, sqlexpr.SQLite)
		if err != nil {
			fmt.Fprintf(&lite, "Translate: %s\n", errText(err))
		} else {
			fmt.Fprintf(&lite, "Translate SQL: %s\nTranslate OK: %s\n", tr.SQL, tr.OK)
		}
	}
	for _, d := range []sqlexpr.Dialect{sqlexpr.SQLite, sqlexpr.Postgres, sqlexpr.Dialect(9)} {
		_, err := sqlexpr.Translate(`item.a`, d)
		_, merr := sqlexpr.TranslateMigrate(&goldenSteps[0], d, []string{"id"}, "v")
		fmt.Fprintf(&pg, "### dialect %s: Translate: %v; TranslateMigrate: %v\n", d, err, merr)
	}
	m, _ := sqlexpr.TranslateMigrate(&goldenSteps[0], sqlexpr.SQLite, []string{"id"}, "v")
	_, err := m.ForTypes(goldenTypes()[0].types)
	fmt.Fprintf(&pg, "### ForTypes of a SQLite translation: %v\n", err)
	for i := range steps {
		sp := &steps[i]
		head := fmt.Sprintf("### step %d: %s\n", i, describe(sp))
		lite.WriteString(head)
		writeMigrate(&lite, "", sp, sqlexpr.SQLite, nil)
		pg.WriteString(head)
		m, err := sqlexpr.TranslateMigrate(sp, sqlexpr.Postgres, []string{"id"}, "v")
		if err != nil {
			fmt.Fprintf(&pg, "TranslateMigrate: %s\n", errText(err))
			continue
		}
		fmt.Fprintf(&pg, "Reads: %q\nWrites: %q\n", m.Reads, m.Writes)
		prev := ""
		for _, ty := range goldenTypes() {
			var b strings.Builder
			writeMigrate(&b, "  ", sp, sqlexpr.Postgres, ty.types)
			if b.String() == prev {
				fmt.Fprintf(&pg, "ForTypes %s: the same\n", ty.name)
				continue
			}
			prev = b.String()
			fmt.Fprintf(&pg, "ForTypes %s:\n%s", ty.name, prev)
		}
	}
	golden(t, "sqlite", lite.String())
	golden(t, "postgres", pg.String())
}

// writeMigrate writes the translation of sp into d (for PostgreSQL, with
// ForTypes on types).
func writeMigrate(b *strings.Builder, indent string, sp *runbook.MigrateSpec, d sqlexpr.Dialect, types func(string) (sqlexpr.Column, bool)) {
	m, err := sqlexpr.TranslateMigrate(sp, d, []string{"id"}, "v")
	if err == nil && types != nil {
		m, err = m.ForTypes(types)
	}
	if err != nil {
		fmt.Fprintf(b, "%serror: %s\n", indent, errText(err))
		return
	}
	fmt.Fprintf(b, "%sWhere: %s\n%sWhereOK: %s\n", indent, m.Where, indent, m.WhereOK)
	for _, a := range m.Set {
		fmt.Fprintf(b, "%sSet %s: %s\n", indent, a.Column, a.SQL)
	}
	fmt.Fprintf(b, "%sSetOK: %s\n%sUnchanged: %s\n%sReads: %q\n%sWrites: %q\n",
		indent, m.SetOK, indent, m.Unchanged, indent, m.Reads, indent, m.Writes)
}

func describe(sp *runbook.MigrateSpec) string {
	var parts []string
	if sp.Where != nil {
		parts = append(parts, "where "+sp.Where.Source)
	}
	for _, c := range sp.Set {
		parts = append(parts, "set "+c.Attr+" = "+c.Expr.Source)
	}
	if len(sp.Rename) > 0 {
		parts = append(parts, fmt.Sprintf("rename %v", sp.Rename))
	}
	if len(sp.Remove) > 0 {
		parts = append(parts, fmt.Sprintf("remove %v", sp.Remove))
	}
	if len(sp.Transform) > 0 {
		parts = append(parts, fmt.Sprintf("transform %v", sp.Transform))
	}
	return strings.Join(parts, "; ")
}

func errText(err error) string {
	return fmt.Sprintf("%s (untranslatable: %v)", err, errors.Is(err, sqlexpr.ErrUntranslatable))
}

// golden compares got with testdata/TestTranslationGolden.<name>.golden,
// or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "TestTranslationGolden."+name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (go test -update writes it): %v", err)
	}
	if got == string(want) {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := range min(len(gl), len(wl)) {
		if gl[i] != wl[i] {
			t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s", path, i+1, gl[i], wl[i])
		}
	}
	t.Fatalf("%s: %d lines, want %d", path, len(gl), len(wl))
}
