package forktest

import (
	"strings"
	"testing"

	"charm.land/glamour/v2/ansi"
	"golang.org/x/net/html"
)

// sanitizeUpstream is glamour's SanitizeHTML as it was on
// golang.org/x/net/html's tokenizer, before the tokenizer was copied into
// glamour/internal/htmltoken: the reference the copy must match.
func sanitizeUpstream(s string, trimSpaces bool) string {
	skipContent := map[string]bool{
		"frameset": true, "iframe": true, "noembed": true, "noframes": true, "noscript": true,
		"nostyle": true, "object": true, "script": true, "style": true, "title": true,
	}
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			out := b.String()
			if trimSpaces {
				out = strings.TrimSpace(out)
			}
			return out
		case html.StartTagToken:
			if name, _ := z.TagName(); skipContent[string(name)] {
				skip++
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); skipContent[string(name)] && skip > 0 {
				skip--
			}
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		}
	}
}

// sanitizeSeeds are HTML fragments of the kinds step texts carry, and the
// tokenizer's corner cases: entities with and without semicolons, numeric
// references (Windows-1252, invalid, huge), raw-text and RCDATA elements,
// comments, doctypes, CDATA, NUL bytes, CRLF, unclosed tags.
var sanitizeSeeds = []string{
	"",
	"Press <kbd>y</kbd> &amp; wait.",
	"<div>Check <b>the dashboard</b> first</div>",
	"<script>alert(1)</script>Safe text.",
	"<style>p{color:red}</style><title>T &amp; t</title><p>x</p>",
	"&lt;&gt;&amp;&quot;&apos;&copy;&nbsp;&NotEqualTilde;&acE;",
	"&amp &ampfoo &notit; &notin; &noti &#128; &#x80; &#0; &#xD800; &#x110000; &#65 &#x41; &#; &#x;",
	"<textarea>a &lt; <b>b</b></textarea><xmp><i>raw</i></xmp>",
	"<!-- hidden --> shown <!DOCTYPE html> <![CDATA[cdata]]> <?php x ?>",
	"a\x00b<b>c\x00d</b>\r\ne\rf",
	"<a href=\"x?a=1&amp;b=2\" title='t'>link</a> <img src=x alt=\"A&B\"/>",
	"<p>unclosed <b>bold <i>both",
	"<scr<script>ipt>x</script> <noscript>n</noscript> <iframe>i</iframe>after",
	"<svg><desc>d</desc><math>m</math></svg>",
	"  <p> spaced </p>  ",
	"x < y > z & w",
	"<plaintext>everything <b>after</b> &amp;",
}

// TestSanitizeHTMLMatchesUpstream: glamour's SanitizeHTML on the copied
// tokenizer gives what it gave on golang.org/x/net/html, trimmed or not.
func TestSanitizeHTMLMatchesUpstream(t *testing.T) {
	ctx := ansi.NewRenderContext(ansi.Options{})
	for _, s := range sanitizeSeeds {
		for _, trim := range []bool{false, true} {
			if got, want := ctx.SanitizeHTML(s, trim), sanitizeUpstream(s, trim); got != want {
				t.Errorf("SanitizeHTML(%q, %t)=%q, want %q", s, trim, got, want)
			}
		}
	}
}

// FuzzSanitizeHTML compares the two on arbitrary input
// (go test -fuzz FuzzSanitizeHTML ./third_party/forktest).
func FuzzSanitizeHTML(f *testing.F) {
	for _, s := range sanitizeSeeds {
		f.Add(s)
	}
	ctx := ansi.NewRenderContext(ansi.Options{})
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ctx.SanitizeHTML(s, false), sanitizeUpstream(s, false); got != want {
			t.Errorf("SanitizeHTML(%q)=%q, want %q", s, got, want)
		}
	})
}
