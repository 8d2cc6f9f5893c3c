package runbook_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
)

var update = flag.Bool("update", false, "rewrite the # want: blocks of testdata/lint and docs/lint.md")

// rewriteWant replaces the `# want:` block of a testdata runbook with got.
func rewriteWant(t *testing.T, path string, src []byte, got []string) {
	t.Helper()
	i := bytes.Index(src, []byte("# want:"))
	if i < 0 {
		t.Fatalf("%s has no # want: block", path)
	}
	lines := got
	if len(lines) == 0 {
		lines = []string{"(none)"}
	}
	out := append(src[:i:i], "# want:\n"...)
	for _, l := range lines {
		out = append(out, "# "+l+"\n"...)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLint lints each testdata/lint/*.yaml and compares the warnings with
// the file's `# want:` block ("(none)" for a clean runbook).
func TestLint(t *testing.T) {
	files, _ := filepath.Glob("testdata/lint/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata/lint/*.yaml")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := wantBlock(t, src)
			if len(want) == 1 && want[0] == "(none)" {
				want = nil
			}
			rb, err := runbook.Parse(path, src)
			if err != nil {
				t.Fatalf("Parse(): %v", err)
			}
			var got []string
			for _, e := range runbook.Lint(rb) {
				if e.Severity != runbook.SeverityWarning {
					t.Errorf("%v: severity %q, want warning", e, e.Severity)
				}
				got = append(got, strings.TrimPrefix(e.Error(), path+":"))
			}
			if *update {
				rewriteWant(t, path, src, got)
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Lint():\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	errs := []*runbook.Error{
		{Pos: runbook.Pos{File: "b.yaml", Line: 2, Col: 1}, Code: "LS101", Msg: "later", Severity: runbook.SeverityWarning},
		{Pos: runbook.Pos{File: "b.yaml", Line: 1, Col: 3}, Msg: `unknown key "x"`, Hint: "did you mean y?"},
	}
	var buf bytes.Buffer
	if err := runbook.WriteJSON(&buf, errs); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, buf.String())
	}
	want := []map[string]any{
		{"file": "b.yaml", "line": 1.0, "col": 3.0, "code": "", "severity": "error", "message": `unknown key "x"`, "hint": "did you mean y?"},
		{"file": "b.yaml", "line": 2.0, "col": 1.0, "code": "LS101", "severity": "warning", "message": "later", "hint": ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WriteJSON() = %v, want %v", got, want)
	}
	if errs[0].Msg != "later" {
		t.Error("WriteJSON() reordered its argument")
	}
	buf.Reset()
	if err := runbook.WriteJSON(&buf, nil); err != nil || strings.TrimSpace(buf.String()) != "[]" {
		t.Errorf("WriteJSON(nil) = %q, %v; want []", buf.String(), err)
	}
}

// TestLintSuppressed: the report lists each ignore that silenced something,
// with its reason, step and count, for session.start to journal.
func TestLintSuppressed(t *testing.T) {
	rb, err := runbook.ParseFile("testdata/lint/ignored.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rep := runbook.DefaultRules().Check(rb)
	if len(rep.Findings) != 0 {
		t.Errorf("Findings = %v, want none", rep.Findings)
	}
	var got []string
	for _, s := range rep.Suppressed {
		got = append(got, fmt.Sprintf("%s step=%q count=%d: %s", s.Code, s.Step, s.Count, s.Reason))
	}
	want := []string{
		`LS305 step="" count=2: the nightly snapshot is the plan B of these statements`,
		`LS203 step="bump" count=1: n is reset by the next step; a re-run is harmless`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Suppressed =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	prod := &runbook.Environment{Name: "prod", Protected: true}
	rb2, err := runbook.ParseFile("testdata/lint/sql-counter.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range runbook.DefaultRules().Check(rb2).Enforced(prod) {
		if e.Severity != runbook.SeverityError {
			t.Errorf("Enforced(protected) %v: severity %q, want error", e, e.Severity)
		}
	}
}
