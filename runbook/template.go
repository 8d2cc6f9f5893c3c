package runbook

import (
	"errors"
	"fmt"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// CompileTemplate parses src as a text/template whose missing map keys are
// errors.
func CompileTemplate(name, src string) (*Template, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	return &Template{Source: src, tmpl: t}, nil
}

// template compiles the template in n, reporting a failure at n's position.
func (d *decoder) template(n *yaml.Node, what string) *Template {
	if !d.scalar(n, what) {
		return nil
	}
	t, err := CompileTemplate(what, n.Value)
	if err != nil {
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		d.errorf(n, "see https://pkg.go.dev/text/template", "%s: %s", what, msg)
		return nil
	}
	t.Pos = d.pos(n)
	d.templateRefs(n, what, t.tmpl.Tree)
	return t
}

// MaxRendered is the most a template may render, in bytes (1 MiB). A
// notification never needs more; a runaway loop or printf width would
// otherwise fill memory and the journal before anything noticed.
const MaxRendered = 1 << 20

// ErrTemplateTooLarge: a template's output passed its limit; execution
// stopped there.
var ErrTemplateTooLarge = errors.New("template output too large")

// Render executes the template with data. Its output is capped at
// MaxRendered: past it, execution stops and the error wraps
// ErrTemplateTooLarge and names the template's position.
func (t *Template) Render(data any) (string, error) {
	return t.RenderLimit(data, MaxRendered)
}

// RenderLimit is Render with an output cap of limit bytes.
func (t *Template) RenderLimit(data any, limit int) (string, error) {
	if t == nil || t.tmpl == nil {
		return "", fmt.Errorf("render template: %w", ErrNotCompiled)
	}
	w := &cappedWriter{limit: limit}
	if err := t.tmpl.Execute(w, data); err != nil {
		if errors.Is(err, ErrTemplateTooLarge) {
			return "", fmt.Errorf("render template%s: %w: it passed %s and was stopped there; "+
				"look for a range or a printf width that runs away", t.where(), err, sizeText(limit))
		}
		return "", fmt.Errorf("render template: %w", err)
	}
	return w.b.String(), nil
}

// where is " at file:line:col" for a parsed template, else "".
func (t *Template) where() string {
	if t.Pos.File == "" {
		return ""
	}
	return " at " + t.Pos.String()
}

// cappedWriter keeps what is written up to limit bytes and fails the
// write that would pass it: text/template stops on a writer's error.
type cappedWriter struct {
	b     strings.Builder
	limit int
}

func (w *cappedWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > w.limit {
		return 0, ErrTemplateTooLarge
	}
	return w.b.Write(p)
}

// sizeText renders n bytes for an operator: "1 MiB", "512 KiB", "300 bytes".
func sizeText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
