package runbook

import (
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

// Render executes the template with data.
func (t *Template) Render(data any) (string, error) {
	if t == nil || t.tmpl == nil {
		return "", fmt.Errorf("render template: %w", ErrNotCompiled)
	}
	var b strings.Builder
	if err := t.tmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render template: %w", err)
	}
	return b.String(), nil
}
