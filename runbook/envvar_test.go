package runbook_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
)

func getenv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestExpand(t *testing.T) {
	vars := getenv(map[string]string{"DB": "/tmp/x.db", "REGION": "eu-west-1", "EMPTY": ""})
	tests := []struct {
		in, want string
		wantErr  error
		errName  string
	}{
		{"plain", "plain", nil, ""},
		{"${DB}", "/tmp/x.db", nil, ""},
		{"db=${DB}, region=${REGION}!", "db=/tmp/x.db, region=eu-west-1!", nil, ""},
		{"cost: $5 and $$HOME and $${DB}", "cost: $5 and $HOME and ${DB}", nil, ""},
		{"trailing $", "trailing $", nil, ""},
		{"${MISSING}", "", runbook.ErrUnsetVar, "MISSING"},
		{"${EMPTY}", "", runbook.ErrUnsetVar, "EMPTY"},
		{"${DB", "", runbook.ErrBadRef, "${DB"},
		{"${1BAD}", "", runbook.ErrBadRef, "1BAD"},
		{"${}", "", runbook.ErrBadRef, "${}"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := runbook.Expand(tt.in, vars)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Expand(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tt.errName) {
				t.Errorf("Expand(%q) error = %v, want it to name %q", tt.in, err, tt.errName)
			}
			if got != tt.want {
				t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStoreSpecExpanded(t *testing.T) {
	spec := &runbook.StoreSpec{Kind: "dynamodb", Table: "users-${STAGE}", Region: "${REGION}",
		Endpoint: "${ENDPOINT}", Key: []string{"pk"}, VersionAttribute: "v"}
	if got, want := spec.EnvRefs(), []string{"ENDPOINT", "REGION", "STAGE"}; !reflect.DeepEqual(got, want) {
		t.Errorf("EnvRefs() = %v, want %v", got, want)
	}
	got, err := spec.Expanded(getenv(map[string]string{"STAGE": "dev", "REGION": "eu-west-3", "ENDPOINT": "http://127.0.0.1:8000"}))
	if err != nil {
		t.Fatal(err)
	}
	want := &runbook.StoreSpec{Kind: "dynamodb", Table: "users-dev", Region: "eu-west-3",
		Endpoint: "http://127.0.0.1:8000", Key: []string{"pk"}, VersionAttribute: "v"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Expanded() = %+v, want %+v", got, want)
	}
	if spec.Table != "users-${STAGE}" {
		t.Errorf("Expanded() changed the original: %q", spec.Table)
	}
	_, err = spec.Expanded(getenv(map[string]string{"STAGE": "dev"}))
	if !errors.Is(err, runbook.ErrUnsetVar) || !strings.Contains(err.Error(), "REGION") || !strings.Contains(err.Error(), "ENDPOINT") {
		t.Errorf("Expanded() error = %v, want both unset variables named", err)
	}
}

func TestTemplateRender(t *testing.T) {
	tmpl, err := runbook.CompileTemplate("t", "{{.Title}} starts {{.Window.Start}}")
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Render(map[string]any{"Title": "Split", "Window": map[string]any{"Start": "22:00"}})
	if err != nil || got != "Split starts 22:00" {
		t.Errorf("Render() = %q, %v; want %q", got, err, "Split starts 22:00")
	}
	if _, err := tmpl.Render(map[string]any{"Title": "Split", "Window": map[string]any{}}); err == nil {
		t.Error("Render() with a missing key succeeded, want an error (missingkey=error)")
	}
	if _, err := (&runbook.Template{Source: "x"}).Render(nil); !errors.Is(err, runbook.ErrNotCompiled) {
		t.Errorf("Render() of an uncompiled template = %v, want ErrNotCompiled", err)
	}
	if _, err := runbook.CompileTemplate("t", "{{.Title"); err == nil {
		t.Error("CompileTemplate(unclosed) succeeded")
	}
}

func TestParsedTemplateRenders(t *testing.T) {
	rb := mustParseFile(t, "testdata/good/design.yaml")
	got, err := rb.Step("announce").Notify.Template.Render(map[string]any{
		"Title": rb.Title, "Window": map[string]any{"Start": "22:00"}, "Estimate": map[string]any{"Duration": "1h"}})
	if want := "Split users.address into street_name, city, postcode starts 22:00, about 1h"; err != nil || got != want {
		t.Errorf("Render() = %q, %v; want %q", got, err, want)
	}
}
