package runbook_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
)

// TestBadRunbooks parses each testdata/bad/*.yaml and compares every
// problem reported, as "line:col: message (hint)", with the file's
// `# want:` comment block.
func TestBadRunbooks(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("Glob(testdata/bad/*.yaml) = %v, %v", files, err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := wantBlock(t, src)
			rb, err := runbook.Parse(path, src)
			if err == nil {
				t.Fatalf("Parse() = %v, nil; want errors", rb.Name)
			}
			if !errors.Is(err, runbook.ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
			}
			var errs runbook.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse() error %T, want runbook.Errors", err)
			}
			var got []string
			for _, e := range errs {
				if e.Pos.File != path {
					t.Errorf("error %q has file %q, want %q", e, e.Pos.File, path)
				}
				got = append(got, strings.TrimPrefix(e.Error(), path+":"))
			}
			if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
				t.Errorf("Parse() errors:\n%s\nwant:\n%s", g, w)
			}
		})
	}
}

// wantBlock reads the lines of the `# want:` comment block.
func wantBlock(t *testing.T, src []byte) []string {
	t.Helper()
	var want []string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "# want:":
			in = true
		case in && strings.HasPrefix(line, "# "):
			want = append(want, strings.TrimPrefix(line, "# "))
		case in:
			return want
		}
	}
	if len(want) == 0 {
		t.Fatal("no `# want:` block")
	}
	return want
}

// TestErrorFormat checks the rendering of one problem and of a list.
func TestErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"hint", &runbook.Error{Pos: runbook.Pos{File: "a.yaml", Line: 3, Col: 5}, Msg: "bad", Hint: "fix it"}, "a.yaml:3:5: bad (fix it)"},
		{"no hint", &runbook.Error{Pos: runbook.Pos{File: "a.yaml", Line: 1, Col: 1}, Msg: "bad"}, "a.yaml:1:1: bad"},
		{"list", runbook.Errors{
			{Pos: runbook.Pos{File: "a", Line: 1, Col: 2}, Msg: "x"},
			{Pos: runbook.Pos{File: "a", Line: 4, Col: 1}, Msg: "y", Hint: "h"},
		}, "a:1:2: x\na:4:1: y (h)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestParseFileMissing checks that a read failure is wrapped, not an Errors.
func TestParseFileMissing(t *testing.T) {
	_, err := runbook.ParseFile(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ParseFile() = %v, want os.ErrNotExist", err)
	}
	if errors.Is(err, runbook.ErrInvalid) {
		t.Errorf("ParseFile() = %v, should not be ErrInvalid", err)
	}
}

// ExampleParse shows the errors of an invalid runbook.
func ExampleParse() {
	_, err := runbook.Parse("rb.yaml", []byte("lockstep: 1\nname: x\ntitel: X\nversion: 1\nphases: []\n"))
	fmt.Println(err)
	// Output:
	// rb.yaml:1:1: runbook: missing required key "title"
	// rb.yaml:3:1: unknown key "titel" in runbook (did you mean title?)
	// rb.yaml:5:9: phases must be a non-empty list
}
