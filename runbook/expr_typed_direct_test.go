package runbook_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
)

// TestDirectAgreesWithProgram is a property test: for generated
// expressions of Direct's shapes (and some near them) and generated item
// values, whenever the direct form answers, it answers what the compiled
// program returns; and it answers for most strings.
func TestDirectAgreesWithProgram(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 3))
	var direct, fellBack int
	for range 400 {
		src := genExpr(r)
		e, err := runbook.CompileExpr(src, false)
		if err != nil {
			t.Fatalf("CompileExpr(%q): %v", src, err)
		}
		d, ok := e.Direct()
		if !ok {
			continue
		}
		if d.Attr != "a" {
			t.Fatalf("Direct(%q).Attr = %q, want a", src, d.Attr)
		}
		for range 40 {
			v := genValue(r)
			got, ok := d.Eval(v)
			if !ok {
				fellBack++
				continue
			}
			direct++
			want, err := e.Eval(map[string]any{runbook.EnvItem: map[string]any{"a": v}})
			if err != nil {
				t.Fatalf("%s on %#v: direct %#v, program failed: %v", src, v, got, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s on %#v: direct %#v, program %#v", src, v, got, want)
			}
			if s, ok := d.String(v); ok && s != got {
				t.Fatalf("%s on %#v: String %q, Eval %#v", src, v, s, got)
			}
		}
	}
	if direct < 5000 || fellBack == 0 {
		t.Errorf("direct answered %d times and fell back %d: the generators miss the shapes", direct, fellBack)
	}
}

// TestDirectShapes lists which expressions have a direct form.
func TestDirectShapes(t *testing.T) {
	tests := []struct {
		src  string
		want bool
	}{
		{`item.a`, true},
		{`item["a"]`, true},
		{`item?.a`, true},
		{`trim(item.a)`, true},
		{`split(item.a, ",")[0]`, true},
		{`trim(split(item.a, ", ")[2])`, true},
		{`item.a != nil`, true},
		{`nil == item.a`, true},
		{`split(item.a, ",")[-1]`, false},
		{`split(item.a, "")[0]`, false},
		{`split(item.a, ",")?.[0]`, false},
		{`trim(item.a, " ")`, false},
		{`trim(split(item.a, vars.sep)[0])`, false},
		{`upper(item.a)`, false},
		{`item.a != ""`, false},
		{`item.a + "x"`, false},
		{`vars.a`, false},
		{`split(vars.a, ",")[0]`, false},
	}
	for _, tt := range tests {
		e, err := runbook.CompileExpr(tt.src, false)
		if err != nil {
			t.Fatalf("CompileExpr(%q): %v", tt.src, err)
		}
		if _, got := e.Direct(); got != tt.want {
			t.Errorf("Direct(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
}

var directSeps = []string{",", ", ", ";", "ab", "α", " ", "\t"}

// genExpr returns an expression of one of Direct's shapes, or near one.
func genExpr(r *rand.Rand) string {
	attr := []string{`item.a`, `item["a"]`, `item?.a`}[r.IntN(3)]
	sep := directSeps[r.IntN(len(directSeps))]
	field := fmt.Sprintf(`split(%s, %q)[%d]`, attr, sep, r.IntN(6)-1)
	switch r.IntN(6) {
	case 0:
		return attr
	case 1:
		return "trim(" + attr + ")"
	case 2:
		return field
	case 3, 4:
		return "trim(" + field + ")"
	default:
		op := []string{"==", "!="}[r.IntN(2)]
		if r.IntN(2) == 0 {
			return attr + " " + op + " nil"
		}
		return "nil " + op + " " + attr
	}
}

// genValue returns an item's expression value: mostly strings built of
// separators, spaces (Unicode ones too) and letters, sometimes another
// kind.
func genValue(r *rand.Rand) any {
	switch r.IntN(12) {
	case 0:
		return nil
	case 1:
		return 42
	case 2:
		return 1.5
	case 3:
		return true
	case 4:
		return []any{"a,b"}
	}
	parts := []string{",", ", ", ";", "a", "b", "ab", "α", " ", "\t", "\u00a0", "\u2003", "Main St", "7", "\n", ""}
	var b strings.Builder
	for range r.IntN(12) {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	return b.String()
}
