package runbook_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
)

// refsRunbook wraps steps (YAML list entries) in a runbook declaring the
// var banner.
func refsRunbook(steps ...string) []byte {
	return []byte("lockstep: 1\nname: r\ntitle: R\nversion: 1\nvars: {banner: hi}\nphases:\n  - name: p\n    steps:\n      - " +
		strings.Join(steps, "\n      - ") + "\n")
}

// TestRefsAccepted: references to earlier steps, declared vars and env
// fields, in every spelling, parse; so do the ones that are not checked
// (computed keys, fields of another dot in a template).
func TestRefsAccepted(t *testing.T) {
	const first = `{id: first, kind: shell, with: {run: "true"}}`
	tests := []struct {
		name string
		step string
	}{
		{"member", `{id: s, kind: manual, when: 'steps.first.exit_code == 0 && vars.banner == "hi" && env.mode != "live"'}`},
		{"brackets", `{id: s, kind: manual, when: 'steps["first"] != nil && vars["banner"] != "" && env["protected"] == false'}`},
		{"optional chaining", `{id: s, kind: manual, when: 'steps?.first?.exit_code == 0'}`},
		{"computed key", `{id: s, kind: manual, when: 'steps[vars.banner] == nil && "x" in vars'}`},
		{"rollback reads its own step", `{id: s, kind: shell, with: {run: "true"}, rollback: {kind: shell, with: {run: "true"}, when: 'steps.s.exit_code == 0'}}`},
		{"data step", `{id: s, kind: verify, with: {expect_none: 'item.v < steps.first.exit_code', assert: 'item.x != vars.banner'}}`},
		{"template", `{id: s, kind: notify, with: {channel: stdout, template: '{{.Vars.banner}} {{.Steps.first.ExitCode}} {{index .Vars "banner"}} {{$.Steps.first}}'}}`},
		{"template other dot", `{id: s, kind: notify, with: {channel: stdout, template: '{{range .Steps.first}}{{.Vars.x}}{{end}}{{with .Estimate}}{{.Steps.y}}{{end}}'}}`},
		{"template if keeps dot", `{id: s, kind: notify, with: {channel: stdout, template: '{{if .Vars.banner}}{{.Steps.first}}{{else}}{{.Vars.banner}}{{end}}'}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := runbook.Parse("r.yaml", refsRunbook(first, tt.step)); err != nil {
				t.Errorf("Parse() = %v, want no error", err)
			}
		})
	}
}

// TestRefsRejected: each bad reference is reported once, at the
// expression, with a hint (the full set of messages is in
// testdata/bad/refs.yaml).
func TestRefsRejected(t *testing.T) {
	const first = `{id: first, kind: shell, with: {run: "true"}}`
	tests := []struct {
		name string
		step string
		want string
	}{
		{"step typo", `{id: s, kind: manual, when: 'steps.frist.exit_code == 0'}`,
			`r.yaml:10:37: when: steps.frist: unknown step "frist" (did you mean first?)`},
		{"var typo twice", `{id: s, kind: manual, when: 'vars.baner == "" || vars.baner == "x"'}`,
			`r.yaml:10:37: when: vars.baner: undeclared var "baner" (did you mean banner?)`},
		{"later step", `{id: s, kind: manual, when: 'steps.last != nil'}`,
			`r.yaml:10:37: when: steps.last: step "last" runs after this one, so it has no result yet (a step sees the results of earlier steps only; move it before this one)`},
		{"rollback reads a later step", `{id: s, kind: shell, with: {run: "true"}, rollback: {kind: shell, with: {run: "true"}, when: 'steps.last != nil'}}`,
			`r.yaml:10:102: when: steps.last: step "last" runs after this one, so it has no result yet (a step sees the results of earlier steps only; move it before this one)`},
		{"env field", `{id: s, kind: manual, when: 'env.nmae == "prod"'}`,
			`r.yaml:10:37: when: env.nmae: env has no "nmae" (did you mean name?)`},
		{"template step", `{id: s, kind: notify, with: {channel: stdout, template: '{{.Steps.frist}}'}}`,
			`r.yaml:10:65: template: .Steps.frist: unknown step "frist" (did you mean first?)`},
		{"template var", `{id: s, kind: notify, with: {channel: stdout, template: '{{with .Steps}}{{$.Vars.baner}}{{end}}'}}`,
			`r.yaml:10:65: template: $.Vars.baner: undeclared var "baner" (did you mean banner?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runbook.Parse("r.yaml", refsRunbook(first, tt.step, `{id: last, kind: manual}`))
			var errs runbook.Errors
			if !errors.As(err, &errs) || len(errs) != 1 {
				t.Fatalf("Parse() = %v, want one error", err)
			}
			if got := errs[0].Error(); got != tt.want {
				t.Errorf("Parse() = %s\nwant         %s", got, tt.want)
			}
		})
	}
}

func TestCheckVars(t *testing.T) {
	tests := []struct {
		name  string
		vars  string // the runbook's vars: line, "" for none
		names []string
		want  string // "" : no error
	}{
		{"declared", "vars: {banner: hi, owner: me}", []string{"owner", "banner"}, ""},
		{"none given", "", nil, ""},
		{"typo", "vars: {banner: hi, owner: me}", []string{"banner", "bannr"},
			`unknown var "bannr": runbook r does not declare it (did you mean banner? declared vars: banner, owner)`},
		{"far off", "vars: {banner: hi}", []string{"zzz"}, `unknown var "zzz": runbook r does not declare it (declared vars: banner)`},
		{"no vars", "", []string{"banner"}, `unknown var "banner": runbook r declares no vars (declare it under vars:)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb, err := runbook.Parse("r.yaml", []byte("lockstep: 1\nname: r\ntitle: R\nversion: 1\n"+tt.vars+
				"\nphases: [{name: p, steps: [{id: a, kind: manual}]}]\n"))
			if err != nil {
				t.Fatal(err)
			}
			err = rb.CheckVars(tt.names)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckVars(%q) = %v, want nil", tt.names, err)
			case tt.want != "" && (err == nil || err.Error() != tt.want || !errors.Is(err, runbook.ErrUnknownVar)):
				t.Errorf("CheckVars(%q) = %v, want %q (ErrUnknownVar)", tt.names, err, tt.want)
			}
		})
	}
}
