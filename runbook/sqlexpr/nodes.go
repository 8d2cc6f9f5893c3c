package sqlexpr

import (
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/lockstep-run/lockstep/runbook"
)

// Bounds: a number read from a column joins arithmetic only below 2^31 in
// magnitude, so that no sum or product of two of them leaves 64 bits
// (expr-lang wraps around, SQLite turns to REAL) and every real is exact.
const bound = "2147483648"

// maxSplitIndex caps split(s, sep)[i]: its SQL repeats s 3·2^i times.
const maxSplitIndex = 4

func (t *translator) node(n ast.Node) (val, error) {
	switch n := n.(type) {
	case *ast.NilNode:
		return val{sql: "NULL", k: kNil}, nil
	case *ast.BoolNode:
		if n.Value {
			return val{sql: "1", k: kBool}, nil
		}
		return val{sql: "0", k: kBool}, nil
	case *ast.IntegerNode:
		if n.Value <= -1<<31 || n.Value >= 1<<31 {
			return val{}, untranslatable("integer %d beyond ±2^31", n.Value)
		}
		return val{sql: strconv.Itoa(n.Value), k: kInt}, nil
	case *ast.FloatNode:
		s := strconv.FormatFloat(n.Value, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEnN") {
			s += ".0" // a REAL, not an INTEGER
		}
		return val{sql: s, k: kNum}, nil
	case *ast.StringNode:
		return val{sql: literal(n.Value), k: kStr}, nil
	case *ast.MemberNode:
		return t.member(n)
	case *ast.UnaryNode:
		return t.unary(n)
	case *ast.BinaryNode:
		return t.binary(n)
	case *ast.ConditionalNode:
		return t.conditional(n)
	case *ast.BuiltinNode:
		return t.builtin(n)
	case *ast.SliceNode:
		return t.slice(n)
	}
	return val{}, untranslatable("%T is not translated", n)
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// member is item.X, item["X"] or split(...)[i].
func (t *translator) member(n *ast.MemberNode) (val, error) {
	if id, ok := n.Node.(*ast.IdentifierNode); ok && id.Value == runbook.EnvItem {
		p, ok := n.Property.(*ast.StringNode)
		if !ok {
			return val{}, untranslatable("item[…] with a computed name")
		}
		t.read(p.Value)
		return val{sql: t.col(p.Value), k: kAny}, nil
	}
	if b, ok := n.Node.(*ast.BuiltinNode); ok && b.Name == "split" && len(b.Arguments) == 2 && !n.Optional {
		i, ok := n.Property.(*ast.IntegerNode)
		if !ok || i.Value < 0 || i.Value > maxSplitIndex {
			return val{}, untranslatable("split(…)[i] needs i a literal in 0..%d", maxSplitIndex)
		}
		return t.splitPart(b.Arguments[0], b.Arguments[1], i.Value)
	}
	return val{}, untranslatable("member access other than item.X and split(…)[i]")
}

// asStr makes v a string operand: a column must hold text.
func asStr(v val) (val, bool) {
	switch v.k {
	case kStr:
		return v, true
	case kAny:
		v.ok = append(v.ok, "typeof("+v.sql+") = 'text'")
		v.k = kStr
		return v, true
	}
	return v, false
}

// asASCII is asStr on printable ASCII text, where SQLite's lower, upper
// and slices agree with Go's. GLOB sees text up to a NUL: the lengths
// (characters up to a NUL, and bytes) rule one out.
func asASCII(v val) (val, bool) {
	v, ok := asStr(v)
	if ok {
		text := rootOf(v)
		v.ok = append(v.ok, "NOT ("+text+" GLOB '*[^ -~]*')", noWideChars(text))
	}
	return v, ok
}

// asTrimmable is asStr on text whose spaces SQLite's trim, which removes
// ' ' alone, removes as Go's strings.TrimSpace does: no NUL, no
// multibyte character (so none of Unicode's spaces) and no ASCII control
// character (\t \n \v \f \r among them), checked in one condition:
// json_quote escapes control characters (a NUL too), and '"' and '\\',
// lengthening the text by a byte or more each and copying every other
// byte, while length counts the characters up to a NUL, fewer than the
// bytes when there is a multibyte one; so the quoted text is two bytes
// longer than the text's length in characters exactly when it holds none
// of them (a text with '"' or '\\' goes per row too). Bytes of invalid
// UTF-8 may remain: Go decodes them as U+FFFD, not a space, and trim
// keeps them too. The printable-ASCII GLOB (asASCII) runs a class test at
// every character: it was a fifth of a guarded UPDATE splitting and
// trimming an address; this scan costs a tenth of it, and five GLOBs
// '*\t*'… (a strcspn each) instead of json_quote twice as much.
func asTrimmable(v val) (val, bool) {
	v, ok := asStr(v)
	if ok {
		text := rootOf(v)
		v.ok = append(v.ok, "octet_length(json_quote("+text+")) = length("+text+") + 2")
	}
	return v, ok
}

// noWideChars holds on text without a NUL or a multibyte character:
// length counts characters up to a NUL, octet_length bytes.
func noWideChars(text string) string {
	return "length(" + text + ") = octet_length(" + text + ")"
}

// asNum makes v a number operand: a column must hold a number below bound.
func asNum(v val, intOnly bool) (val, bool) {
	switch {
	case v.k == kInt, v.k == kNum && !intOnly:
		return v, true
	case v.k == kAny:
		types := "('integer', 'real')"
		v.k = kNum
		if intOnly {
			types, v.k = "('integer')", kInt
		}
		v.ok = append(v.ok, "typeof("+v.sql+") IN "+types, v.sql+" > -"+bound, v.sql+" < "+bound)
		return v, true
	}
	return v, false
}

func (t *translator) unary(n *ast.UnaryNode) (val, error) {
	v, err := t.node(n.Node)
	if err != nil {
		return val{}, err
	}
	switch n.Operator {
	case "not", "!":
		if v.k != kBool {
			return val{}, untranslatable("%s of a non-boolean", n.Operator)
		}
		return val{sql: "(NOT " + v.sql + ")", k: kBool, ok: v.ok}, nil
	case "-", "+":
		v, ok := asNum(v, false)
		if !ok {
			return val{}, untranslatable("%s of a non-number", n.Operator)
		}
		return val{sql: "(" + n.Operator + v.sql + ")", k: v.k, ok: v.ok}, nil
	}
	return val{}, untranslatable("operator %s", n.Operator)
}

func (t *translator) conditional(n *ast.ConditionalNode) (val, error) {
	c, err := t.node(n.Cond)
	if err != nil {
		return val{}, err
	}
	if c.k != kBool {
		return val{}, untranslatable("a condition that is not boolean")
	}
	a, err := t.node(n.Exp1)
	if err != nil {
		return val{}, err
	}
	b, err := t.node(n.Exp2)
	if err != nil {
		return val{}, err
	}
	k := kAny
	if a.k == b.k {
		k = a.k
	}
	ok := append(c.ok, "CASE WHEN "+c.sql+" THEN "+a.okSQL()+" ELSE "+b.okSQL()+" END")
	return val{sql: "(CASE WHEN " + c.sql + " THEN " + a.sql + " ELSE " + b.sql + " END)", k: k, ok: ok}, nil
}

func (t *translator) builtin(n *ast.BuiltinNode) (val, error) {
	args := make([]val, len(n.Arguments))
	for i, a := range n.Arguments {
		v, err := t.node(a)
		if err != nil {
			return val{}, err
		}
		args[i] = v
	}
	switch {
	case (n.Name == "lower" || n.Name == "upper") && len(args) == 1:
		s, ok := asASCII(args[0])
		if !ok {
			return val{}, untranslatable("%s of a non-string", n.Name)
		}
		return val{sql: n.Name + "(" + s.sql + ")", k: kStr, ok: s.ok}, nil
	case n.Name == "trim" && len(args) == 1:
		s, ok := asTrimmable(args[0])
		if !ok {
			return val{}, untranslatable("trim of a non-string")
		}
		return val{sql: "trim(" + s.sql + ")", k: kStr, ok: s.ok, root: rootOf(s)}, nil
	case n.Name == "trim" && len(args) == 2:
		s, ok1 := asStr(args[0])
		cut, ok2 := asASCII(args[1])
		if !ok1 || !ok2 {
			return val{}, untranslatable("trim of a non-string")
		}
		return val{sql: "trim(" + s.sql + ", " + cut.sql + ")", k: kStr, ok: append(s.ok, cut.ok...)}, nil
	case n.Name == "replace" && len(args) == 3:
		var oks []string
		for i := range args {
			s, ok := asStr(args[i])
			if !ok {
				return val{}, untranslatable("replace of a non-string")
			}
			args[i], oks = s, append(oks, s.ok...)
		}
		// Go's ReplaceAll inserts between runes for an empty old; SQLite
		// leaves the string.
		oks = append(oks, "length("+args[1].sql+") > 0")
		return val{sql: "replace(" + args[0].sql + ", " + args[1].sql + ", " + args[2].sql + ")", k: kStr, ok: oks}, nil
	}
	return val{}, untranslatable("function %s/%d", n.Name, len(args))
}

// splitPart is split(s, sep)[i]: the i-th field, present when s holds sep
// at least i times.
func (t *translator) splitPart(sn, sepn ast.Node, i int) (val, error) {
	s, err := t.node(sn)
	if err != nil {
		return val{}, err
	}
	sepv, ok := sepn.(*ast.StringNode)
	if !ok || sepv.Value == "" {
		return val{}, untranslatable("split needs a non-empty literal separator")
	}
	s, ok = asStr(s)
	if !ok {
		return val{}, untranslatable("split of a non-string")
	}
	// The fields are cut from the bytes of s, as Go's Split cuts them:
	// instr and substr on blobs count bytes, where on text they count
	// characters each their own way on invalid UTF-8, and substr stops at
	// a NUL.
	sep := blobLiteral(sepv.Value)
	n := strconv.Itoa(len(sepv.Value))
	// Field i exists when s holds the separator i times; its CASE, for a
	// last field, is needless when the step's values are exact only
	// where s holds it once more.
	globbed := i > 0 && t.globbable(sepv.Value)
	if globbed && !t.holdsSeps(s.sql, sepv.Value, i+1) {
		s.ok = append(s.ok, sepsAtLeast(s.sql, sepv.Value, i))
	}
	last := !t.holdsSeps(s.sql, sepv.Value, i+1)
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
	return val{sql: "CAST(" + field + " AS TEXT)", k: kStr, ok: s.ok, root: rootOf(s)}, nil
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

// rootOf is the text v was cut from: its root, or v itself.
func rootOf(v val) string {
	if v.root != "" {
		return v.root
	}
	return v.sql
}

// slice is s[from:to] on ASCII text with literal bounds within it.
func (t *translator) slice(n *ast.SliceNode) (val, error) {
	s, err := t.node(n.Node)
	if err != nil {
		return val{}, err
	}
	s, ok := asASCII(s)
	if !ok {
		return val{}, untranslatable("a slice of a non-string")
	}
	from, to := 0, -1
	if n.From != nil {
		f, ok := n.From.(*ast.IntegerNode)
		if !ok || f.Value < 0 {
			return val{}, untranslatable("a slice needs non-negative literal bounds")
		}
		from = f.Value
	}
	if n.To != nil {
		e, ok := n.To.(*ast.IntegerNode)
		if !ok || e.Value < from {
			return val{}, untranslatable("a slice needs non-negative literal bounds")
		}
		to = e.Value
	}
	if to < 0 {
		s.ok = append(s.ok, "length("+s.sql+") >= "+strconv.Itoa(from))
		return val{sql: "substr(" + s.sql + ", " + strconv.Itoa(from+1) + ")", k: kStr, ok: s.ok}, nil
	}
	s.ok = append(s.ok, "length("+s.sql+") >= "+strconv.Itoa(to))
	return val{sql: "substr(" + s.sql + ", " + strconv.Itoa(from+1) + ", " + strconv.Itoa(to-from) + ")", k: kStr, ok: s.ok}, nil
}
