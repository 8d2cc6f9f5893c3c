package ansi

import (
	"io"
)

// A CodeBlockElement is used to render code blocks.
//
// lockstep fork: code blocks are rendered in the code block's style without
// syntax highlighting, so that the chroma highlighter (whose lexer, style
// and formatter registries cost ~10 ms of package initialisation in every
// process that links it) is not linked at all. See third_party/README.md.
type CodeBlockElement struct {
	Code     string
	Language string
}

// Render renders a CodeBlockElement.
func (e *CodeBlockElement) Render(w io.Writer, ctx RenderContext) error {
	bs := ctx.blockStack

	var indentation uint
	var margin uint
	rules := ctx.options.Styles.CodeBlock
	if rules.Indent != nil {
		indentation = *rules.Indent
	}
	if rules.Margin != nil {
		margin = *rules.Margin
	}

	iw := NewIndentWriter(w, int(indentation+margin), func(_ io.Writer) {
		_, _ = renderText(w, bs.Current().Style.StylePrimitive, " ")
	})
	defer iw.Close() //nolint:errcheck

	style := rules.StylePrimitive
	if rules.Chroma != nil && style.Color == nil {
		style.Color = rules.Chroma.Text.Color
	}
	el := &BaseElement{
		Token: e.Code,
		Style: style,
	}

	return el.Render(iw, ctx)
}
