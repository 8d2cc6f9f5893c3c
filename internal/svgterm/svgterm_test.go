package svgterm_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/internal/svgterm"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		capture string
		want    [][]svgterm.Span
	}{
		{"plain", "hello", [][]svgterm.Span{{{Col: 0, Text: "hello"}}}},
		{"16 colours and reset", "a\x1b[31mb\x1b[0mc", [][]svgterm.Span{{
			{Col: 0, Text: "a"}, {Col: 1, Text: "b", Style: svgterm.Style{FG: "#cd0000"}}, {Col: 2, Text: "c"}}}},
		{"256 and 24-bit, bold", "\x1b[1;38;5;196;48;2;0;0;255mX", [][]svgterm.Span{{
			{Col: 0, Text: "X", Style: svgterm.Style{FG: "#ff0000", BG: "#0000ff", Bold: true}}}}},
		{"wide glyphs move the column", "中文 │\x1b[7mok", [][]svgterm.Span{{
			{Col: 0, Text: "中文 │"}, {Col: 6, Text: "ok", Style: svgterm.Style{Reverse: true}}}}},
		{"style carries to the next line; other escapes dropped", "\x1b[32ma\x1b[?25l\nb", [][]svgterm.Span{
			{{Col: 0, Text: "a", Style: svgterm.Style{FG: "#00cd00"}}},
			{{Col: 0, Text: "b", Style: svgterm.Style{FG: "#00cd00"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := svgterm.Parse(tt.capture); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.capture, got, tt.want)
			}
		})
	}
}

// TestSVGIsWellFormed: the image parses as XML, escapes text, and holds
// every visible word of the screen.
func TestSVGIsWellFormed(t *testing.T) {
	lines := svgterm.Parse("\x1b[1mrun <a> & b\x1b[0m\n\x1b[41m  \x1b[0m ✓ done")
	var buf bytes.Buffer
	if err := svgterm.SVG(&buf, lines, 40, 3); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&buf)
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			text.Write(cd)
		}
	}
	for _, w := range []string{"run <a> & b", "✓ done"} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("SVG text lacks %q: %q", w, text.String())
		}
	}
}
