package sqlexpr

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/lockstep-run/lockstep/runbook"
)

// The SQLite dialect. SQLite types values, not columns: a column's value
// is kAny, its type tested where an operator needs one (typeof), and the
// conditions are joined with AND, which SQLite evaluates in order.

// translator is the SQLite dialect.
type translator struct {
	reads []string
	// sure are conditions that hold wherever the values being translated
	// are used: the top-level conditions of a step's set values, which
	// its UPDATE writes only where all of them hold. A split then skips a
	// test those imply (another field proves the separators present).
	// Never a where's: where is evaluated on every row.
	sure map[string]bool
	vals []val // the values sets translated
}

// sets translates the step's set values, in order.
func (t *translator) sets(spec *runbook.MigrateSpec) ([]val, error) {
	t.vals = t.vals[:0]
	for _, c := range spec.Set {
		v, err := walker{t}.expr(c.Expr.Source)
		if err != nil {
			return nil, fmt.Errorf("set %s: %w", c.Attr, err)
		}
		t.vals = append(t.vals, v)
	}
	return t.vals, nil
}

func (t *translator) read(col string) {
	if !slices.Contains(t.reads, col) {
		t.reads = append(t.reads, col)
	}
}

// and joins conditions, each once.
func and(conds []string) string {
	conds = uniq(conds)
	if len(conds) == 0 {
		return "1"
	}
	return "(" + strings.Join(conds, " AND ") + ")"
}

func (t *translator) and(conds []string) string { return and(conds) }

func (t *translator) lit(n ast.Node) val {
	switch n := n.(type) {
	case *ast.BoolNode:
		if n.Value {
			return val{sql: "1", k: kBool}
		}
		return val{sql: "0", k: kBool}
	case *ast.IntegerNode:
		return val{sql: strconv.Itoa(n.Value), k: kInt}
	case *ast.FloatNode:
		s := strconv.FormatFloat(n.Value, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEnN") {
			s += ".0" // a REAL, not an INTEGER
		}
		return val{sql: s, k: kNum}
	case *ast.StringNode:
		return val{sql: literal(n.Value), k: kStr}
	}
	return val{sql: "NULL", k: kNil}
}

func (t *translator) column(name string) (val, error) {
	t.read(name)
	return val{sql: Quote(name), k: kAny}, nil
}

// computed: SQLite's arith bounds its operands itself.
func (t *translator) computed(v val) val { return v }

func (t *translator) collate(kind) string { return " COLLATE BINARY" }

// ascii: GLOB sees text up to a NUL: the lengths (characters up to a
// NUL, and bytes) rule one out.
func (t *translator) ascii(text string) []string {
	return []string{"NOT (" + text + " GLOB '*[^ -~]*')", noWideChars(text)}
}

// call: SQLite's lower and upper map ASCII letters alone, as Go does on
// the ASCII text they are given.
func (t *translator) call(name string, args ...string) string {
	return name + "(" + strings.Join(args, ", ") + ")"
}

// trimmable: SQLite's trim removes ' ' alone; it removes what Go's
// strings.TrimSpace does from text without a NUL, a multibyte character
// (so none of Unicode's spaces) or an ASCII control character (\t \n \v
// \f \r among them), checked in one condition: json_quote escapes
// control characters (a NUL too), and '"' and '\\', lengthening the text
// by a byte or more each and copying every other byte, while length
// counts the characters up to a NUL, fewer than the bytes when there is a
// multibyte one; so the quoted text is two bytes longer than the text's
// length in characters exactly when it holds none of them (a text with
// '"' or '\\' goes per row too). Bytes of invalid UTF-8 may remain: Go
// decodes them as U+FFFD, not a space, and trim keeps them too. The
// printable-ASCII GLOB (ascii) runs a class test at every character: it
// was a fifth of a guarded UPDATE splitting and trimming an address; this
// scan costs a tenth of it, and five GLOBs '*\t*'… (a strcspn each)
// instead of json_quote twice as much.
func (t *translator) trimmable(text string) []string {
	return []string{"octet_length(json_quote(" + text + ")) = length(" + text + ") + 2"}
}

// noWideChars holds on text without a NUL or a multibyte character:
// length counts characters up to a NUL, octet_length bytes.
func noWideChars(text string) string {
	return "length(" + text + ") = octet_length(" + text + ")"
}

// splitPart is the i-th field of s, present when s holds sep at least i
// times.
func (t *translator) splitPart(s val, sepv string, i int) val {
	// The fields are cut from the bytes of s, as Go's Split cuts them:
	// instr and substr on blobs count bytes, where on text they count
	// characters each their own way on invalid UTF-8, and substr stops at
	// a NUL.
	sep := blobLiteral(sepv)
	n := strconv.Itoa(len(sepv))
	// Field i exists when s holds the separator i times; its CASE, for a
	// last field, is needless when the step's values are exact only
	// where s holds it once more.
	globbed := i > 0 && t.globbable(sepv)
	if globbed && !t.holdsSeps(s.sql, sepv, i+1) {
		s.ok = append(s.ok, sepsAtLeast(s.sql, sepv, i))
	}
	last := !t.holdsSeps(s.sql, sepv, i+1)
	rest := "CAST(" + s.sql + " AS BLOB)" // s after the i-th separator
	// field is rest up to its first separator, cut from the text before
	// the last cut (one substr fewer than cutting rest).
	field := "substr(" + rest + ", 1, instr(" + rest + ", " + sep + ") - 1)"
	for range i {
		if !globbed {
			// instr scans; counting by replace copied the text twice a row.
			s.ok = append(s.ok, "instr("+rest+", "+sep+") > 0")
		}
		from := "instr(" + rest + ", " + sep + ") + " + n
		prev := rest
		rest = "substr(" + prev + ", " + from + ")"
		field = "substr(" + prev + ", " + from + ", instr(" + rest + ", " + sep + ") - 1)"
	}
	if last {
		field = "(CASE WHEN instr(" + rest + ", " + sep + ") > 0 THEN " + field + " ELSE " + rest + " END)"
	}
	return val{sql: "CAST(" + field + " AS TEXT)", k: kStr, ok: s.ok, root: rootOf(s)}
}

// holdsSeps reports whether the step's values are exact only where text
// holds sep at least n times (see translator.sure). Only a column's text
// is known so: a computed text's SQL may change once its own splits
// know more, and then no longer be the one the condition names.
func (t *translator) holdsSeps(text, sep string, n int) bool {
	column := slices.ContainsFunc(t.reads, func(c string) bool { return Quote(c) == text })
	if !column || !t.globbable(sep) {
		return false
	}
	for k := n; k <= maxSplitIndex+1; k++ {
		if t.sure[sepsAtLeast(text, sep, k)] {
			return true
		}
	}
	return false
}

// globbable reports whether sepsAtLeast has a GLOB for sep.
func (t *translator) globbable(sep string) bool {
	_, ok := globSeps(sep, 1)
	return ok
}

// sepsAtLeast is the condition that text holds sep at least n (> 0)
// times, for a globbable separator.
func sepsAtLeast(text, sep string, n int) string {
	pat, _ := globSeps(sep, n)
	return text + " GLOB " + literal(pat)
}

// blobLiteral is the SQL blob literal of s's bytes.
func blobLiteral(s string) string { return "X'" + hex.EncodeToString([]byte(s)) + "'" }

// globSeps is the GLOB pattern of a text holding sep at least i times
// ("*,*,*"), for a printable ASCII separator, whose first character
// after each star SQLite's GLOB finds with strcspn: one fast scan,
// where each instr of a chain runs a comparison per character and the
// substrings between them are copied (a third of the cost of a guarded
// UPDATE splitting an address). Its occurrences are found from the left
// without overlap, as Go's Split cuts them. A text holding a NUL is
// seen up to it, so the pattern may miss separators after it: such a
// row is then not exact, and goes per row. ok is false for i 0 or
// another separator.
func globSeps(sep string, i int) (pat string, ok bool) {
	if i == 0 {
		return "", false
	}
	var b strings.Builder
	for _, c := range []byte(sep) {
		switch {
		case c < ' ' || c > '~':
			return "", false
		case c == '*' || c == '?' || c == '[':
			b.WriteString("[" + string(c) + "]")
		default:
			b.WriteByte(c)
		}
	}
	return "*" + strings.Repeat(b.String()+"*", i), true
}
