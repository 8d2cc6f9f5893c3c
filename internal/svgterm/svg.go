package svgterm

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Cell geometry and the default colours of the rendered terminal.
const (
	cellW    = 8.4 // px per column at fontSize in a typical monospace font
	cellH    = 18  // px per line
	fontSize = 14
	pad      = 12
	defaultF = "#d0d0d0"
	defaultB = "#1c1c1c"
)

// width is the number of terminal cells s takes.
func width(s string) int { return ansi.StringWidth(s) }

// SVG writes lines (from Parse) as an SVG image of a cols×rows terminal.
func SVG(w io.Writer, lines [][]Span, cols, rows int) error {
	bw := bufio.NewWriter(w)
	W, H := float64(cols)*cellW+2*pad, float64(rows*cellH+2*pad)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">`+"\n", W, H, W, H)
	fmt.Fprintf(bw, `<rect width="100%%" height="100%%" rx="6" fill="%s"/>`+"\n", defaultB)
	fmt.Fprintf(bw, `<g font-family="ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace" font-size="%d" xml:space="preserve">`+"\n", fontSize)
	for row, spans := range lines {
		if row >= rows {
			break
		}
		y := float64(pad + row*cellH)
		for _, sp := range spans {
			fg, bg := sp.Style.FG, sp.Style.BG
			if sp.Style.Reverse {
				fg, bg = bg, fg
				if fg == "" {
					fg = defaultB
				}
				if bg == "" {
					bg = defaultF
				}
			}
			x, n := float64(pad)+float64(sp.Col)*cellW, width(sp.Text)
			if bg != "" {
				fmt.Fprintf(bw, `<rect x="%.1f" y="%.0f" width="%.1f" height="%d" fill="%s"/>`+"\n", x, y, float64(n)*cellW, cellH, bg)
			}
			if strings.TrimSpace(sp.Text) == "" {
				continue
			}
			if fg == "" {
				fg = defaultF
			}
			attrs := ""
			if sp.Style.Bold {
				attrs += ` font-weight="bold"`
			}
			if sp.Style.Faint {
				attrs += ` opacity="0.6"`
			}
			fmt.Fprintf(bw, `<text x="%.1f" y="%.0f" fill="%s" textLength="%.1f" lengthAdjust="spacingAndGlyphs"%s>%s</text>`+"\n",
				x, y+cellH-5, fg, float64(n)*cellW, attrs, escapeXML(sp.Text))
		}
	}
	fmt.Fprintln(bw, "</g>\n</svg>")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write svg: %w", err)
	}
	return nil
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func escapeXML(s string) string { return xmlEscaper.Replace(s) }
