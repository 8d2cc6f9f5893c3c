package ansi

import (
	"strings"

	html "charm.land/glamour/v2/internal/htmltoken"
)

// RenderContext holds the current rendering options and state.
type RenderContext struct {
	options Options

	blockStack *BlockStack
	table      *TableElement
}

// NewRenderContext returns a new RenderContext.
func NewRenderContext(options Options) RenderContext {
	return RenderContext{
		options:    options,
		blockStack: &BlockStack{},
		table:      &TableElement{},
	}
}

// skipContent are the elements whose text a strict sanitizer drops along
// with their tags (bluemonday's default list).
var skipContent = map[string]bool{
	"frameset": true, "iframe": true, "noembed": true, "noframes": true, "noscript": true,
	"nostyle": true, "object": true, "script": true, "style": true, "title": true,
}

// SanitizeHTML sanitizes HTML content: it keeps the text and drops every
// tag, as bluemonday's StrictPolicy did.
//
// lockstep fork: x/net/html's tokenizer instead of bluemonday, whose CSS
// tables cost ~2 ms of package initialisation in every process; and that
// tokenizer copied into internal/htmltoken, which leaves x/net/html's
// entity maps (~0.5 ms of initialisation) out of the binary.
func (ctx RenderContext) SanitizeHTML(s string, trimSpaces bool) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	for {
		tt := z.Next()
		switch tt {
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
