// Package forktest checks the forks in third_party as lockstep links them
// (through the replace directives of go.mod): their output must stay
// byte for byte what the upstream code gave.
package forktest

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"charm.land/glamour/v2"
	"charm.land/glamour/v2/styles"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// document uses every construct whose parsing the forks changed: the GFM
// extensions (tables in each alignment, task lists, strikethrough, linkify
// of URLs, www. addresses and e-mail addresses), definition lists, inline
// and block HTML, entities, autolinks, and a link reference whose label
// only matches after Unicode case folding.
const document = `# Backfill ` + "`users.address`" + `

Split the address into three columns; see https://example.com/runbooks/split?x=1&y=2,
www.example.org/docs or write to ops@example.com. Not ~~this~~ that.
An autolink: <https://example.com/a> and <ops@example.com>.

| step | rows | state | note |
|:-----|-----:|:-----:|------|
| scan | 1000 | ok | **fast** |
| write | 20 | ~~slow~~ | see [the guide][GUIDE] |

- [x] Backup taken
- [ ] Restore drilled
- plain item

Term
: Its definition.

Press <kbd>y</kbd> &amp; wait &copy; 2026 &#x2014; &nbsp;done.

<div>
Check <b>the dashboard</b> first.
</div>

<!-- a comment -->

<script>alert(1)</script>

[Straße][STRASSE] and [guide][]

[guide]: https://example.com/guide "The guide"
[straße]: https://example.com/strasse
`

// TestRenderGolden renders document with glamour's standard styles and
// compares the output, escape sequences included, with the golden file
// written by the upstream code (go test -update rewrites it).
func TestRenderGolden(t *testing.T) {
	tests := []struct {
		name  string
		style glamour.TermRendererOption
		width int
	}{
		// As tui renders step texts: a style value, a width.
		{"dark", glamour.WithStyles(styles.DarkStyleConfig()), 80},
		{"light", glamour.WithStyles(styles.LightStyleConfig()), 60},
		{"notty", glamour.WithStyles(styles.NoTTYStyleConfig()), 80},
		// The other standard styles, by name.
		{"ascii", glamour.WithStandardStyle(styles.AsciiStyle), 80},
		{"pink", glamour.WithStylePath(styles.PinkStyle), 80},
		{"dracula", glamour.WithStandardStyle(styles.DraculaStyle), 80},
		{"tokyo-night", glamour.WithStandardStyle(styles.TokyoNightStyle), 80},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := glamour.NewTermRenderer(tc.style, glamour.WithWordWrap(tc.width))
			if err != nil {
				t.Fatalf("NewTermRenderer: %v", err)
			}
			got, err := r.Render(document)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			path := filepath.Join("testdata", "render-"+tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("render differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}
