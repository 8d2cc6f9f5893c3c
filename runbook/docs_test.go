package runbook

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// referencePath is the runbook format reference, relative to this package.
const referencePath = "../docs/runbook.md"

// docKey is one key the parser accepts, and where the reference must name it.
type docKey struct {
	what string // "top-level", "environment", "with: of migrate", …
	key  string
	kind Kind // "": anywhere in the reference; else under `### kind`
}

// acceptedKeys lists every key the decoders accept, from their own tables.
func acceptedKeys() []docKey {
	var out []docKey
	add := func(what string, kind Kind, keys ...string) {
		for _, k := range keys {
			out = append(out, docKey{what: what, key: k, kind: kind})
		}
	}
	add("top-level", "", topKeys...)
	add("role", "", roleNames...)
	add("environment", "", envKeys...)
	add("window", "", windowKeys...)
	for _, kind := range storeKinds {
		add("store ("+kind+")", "", storeKeys[kind]...)
	}
	add("phase", "", phaseKeys...)
	add("step", "", stepKeys...)
	for _, kind := range Kinds {
		add("with: of "+string(kind), kind, withKeys[kind]...)
	}
	add("lock maintenance", KindLock, maintenanceKey...)
	add("fleet", "", fleetKeys...)
	return out
}

// kindSections splits a Markdown document into the text under each
// `### <kind>` heading (up to the next heading of level 2 or 3).
func kindSections(doc string) map[Kind]string {
	out := map[Kind]string{}
	var cur Kind
	var b strings.Builder
	flush := func() {
		if cur != "" {
			out[cur] += b.String()
		}
		b.Reset()
	}
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "## ") || strings.HasPrefix(line, "### ") {
			flush()
			cur = ""
			if h, ok := strings.CutPrefix(line, "### "); ok && slices.Contains(Kinds, Kind(strings.TrimSpace(h))) {
				cur = Kind(strings.TrimSpace(h))
			}
			continue
		}
		b.WriteString(line + "\n")
	}
	flush()
	return out
}

// missingKeys returns one message per accepted key the reference does not
// name as `key` (a kind's `with:` keys under its `### kind` heading).
func missingKeys(doc string) []string {
	sections := kindSections(doc)
	var missing []string
	for _, kind := range Kinds {
		if _, ok := sections[kind]; !ok {
			missing = append(missing, fmt.Sprintf("no `### %s` section", kind))
		}
	}
	for _, k := range acceptedKeys() {
		text, where := doc, "the reference"
		if k.kind != "" {
			text, where = sections[k.kind], "`### "+string(k.kind)+"`"
		}
		if !strings.Contains(text, "`"+k.key+"`") {
			missing = append(missing, fmt.Sprintf("%s key `%s` is not documented in %s", k.what, k.key, where))
		}
	}
	return missing
}

// TestReferenceDocumentsEveryKey fails for each key the parser accepts
// that docs/runbook.md does not document.
func TestReferenceDocumentsEveryKey(t *testing.T) {
	src, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("read reference: %v", err)
	}
	for _, m := range missingKeys(string(src)) {
		t.Errorf("%s: %s", referencePath, m)
	}
}

// TestMissingKeysNamesWhatIsMissing checks the checker: a reference
// without a key, or with a kind's key outside its section, is reported.
func TestMissingKeysNamesWhatIsMissing(t *testing.T) {
	var full strings.Builder
	for _, k := range acceptedKeys() {
		if k.kind == "" {
			fmt.Fprintf(&full, "`%s`\n", k.key)
		}
	}
	for _, kind := range Kinds {
		fmt.Fprintf(&full, "### %s\n", kind)
		for _, k := range acceptedKeys() {
			if k.kind == kind {
				fmt.Fprintf(&full, "`%s`\n", k.key)
			}
		}
	}
	complete := full.String()
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"complete", complete, nil},
		{"top-level key missing", strings.Replace(complete, "`secrets`\n", "", 1),
			[]string{"top-level key `secrets` is not documented in the reference"}},
		{"with key under another kind", strings.Replace(complete, "### migrate\n", "### migrate\n## other\n", 1),
			[]string{
				"with: of migrate key `where` is not documented in `### migrate`",
				"with: of migrate key `set` is not documented in `### migrate`",
				"with: of migrate key `remove` is not documented in `### migrate`",
				"with: of migrate key `rename` is not documented in `### migrate`",
				"with: of migrate key `transform` is not documented in `### migrate`",
				"with: of migrate key `batch_size` is not documented in `### migrate`",
				"with: of migrate key `segments` is not documented in `### migrate`",
				"with: of migrate key `error_budget` is not documented in `### migrate`",
				"with: of migrate key `max_retries` is not documented in `### migrate`",
				"with: of migrate key `fleet` is not documented in `### migrate`",
				"with: of migrate key `into` is not documented in `### migrate`",
			}},
		{"kind section missing", strings.Replace(complete, "### unlock\n", "", 1),
			[]string{"no `### unlock` section"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := missingKeys(tt.doc); !slices.Equal(got, tt.want) {
				t.Errorf("missingKeys() = %q, want %q", got, tt.want)
			}
		})
	}
}

// yamlBlock is a fenced ```yaml block of a Markdown file.
type yamlBlock struct {
	line int // line of the first line inside the fence
	src  string
}

// yamlBlocks returns the ```yaml blocks of a Markdown document.
func yamlBlocks(doc string) []yamlBlock {
	var out []yamlBlock
	var cur *yamlBlock
	for i, line := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```yaml":
			cur = &yamlBlock{line: i + 2}
		case cur != nil && trimmed == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.src += line + "\n"
		}
	}
	return out
}

// TestReferenceExamplesLint parses and lints every complete runbook (a
// ```yaml block starting with `lockstep: 1`) of docs/*.md: it must have
// no error and no warning.
func TestReferenceExamplesLint(t *testing.T) {
	files, err := filepath.Glob("../docs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs/*.md (%v)", err)
	}
	examples := 0
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range yamlBlocks(string(src)) {
			if !strings.HasPrefix(b.src, "lockstep: 1\n") {
				continue
			}
			examples++
			for _, e := range lintExample(path, b) {
				t.Error(e)
			}
		}
	}
	if examples == 0 {
		t.Fatal("no complete runbook example (```yaml starting with lockstep: 1) in docs/*.md")
	}
}

// lintExample parses and lints one example, returning its problems
// positioned in the Markdown file.
func lintExample(path string, b yamlBlock) []string {
	rb, err := Parse(path, []byte(b.src))
	problems := Errors(nil)
	switch {
	case err == nil:
		problems = Lint(rb)
	case !errors.As(err, &problems):
		return []string{fmt.Sprintf("%s:%d: %v", path, b.line, err)}
	}
	out := make([]string, 0, len(problems))
	for _, e := range problems {
		msg := e.Msg
		if e.Code != "" {
			msg = e.Code + ": " + msg
		}
		out = append(out, fmt.Sprintf("%s:%d:%d: %s: %s (%s)", path, b.line+e.Pos.Line-1, e.Pos.Col, e.Level(), msg, e.Hint))
	}
	return out
}

// TestLintExampleReportsProblems checks the example checker: an error and
// a warning are reported at their line in the Markdown file.
func TestLintExampleReportsProblems(t *testing.T) {
	const clean = `lockstep: 1
name: hello
title: Say hello
version: 1
strategy: multi-step
roles: {accountable: [ann]}
environments:
  local: {}
phases:
  - name: greet
    steps:
      - {id: hello, kind: shell, with: {run: "echo hello", dry_run: run}}
`
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"clean", clean, nil},
		{"error", strings.Replace(clean, "kind: shell", "kind: shel", 1),
			[]string{`x.md:21:27: error: unknown step kind "shel" (did you mean shell?)`}},
		{"warning", strings.Replace(clean, "strategy: multi-step\n", "", 1),
			[]string{"x.md:10:1: warning: LS101: no strategy chosen for the transition state (strategy: big-bang or multi-step)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lintExample("x.md", yamlBlock{line: 10, src: tt.src})
			if !slices.Equal(got, tt.want) {
				t.Errorf("lintExample() = %q, want %q", got, tt.want)
			}
		})
	}
}
