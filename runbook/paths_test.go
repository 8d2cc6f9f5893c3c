package runbook_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
)

// pathsRunbook has every file path field, each set to p.
func pathsRunbook(p string) string {
	return `lockstep: 1
name: paths
title: Paths
version: 1
environments:
  local:
    store: {kind: sqlite, path: "` + p + `", table: items, key: [id]}
phases:
  - name: p
    steps:
      - {id: sh, kind: shell, with: {run: "true", cwd: "` + p + `"}}
      - {id: bare, kind: shell, with: {run: "true"}}
      - {id: q, kind: sql, with: {statements: ["SELECT 1"], path: "` + p + `"}}
      - {id: tell, kind: notify, with: {channel: file, path: "` + p + `", template: "x"}}
      - {id: dump, kind: backup, with: {dir: "` + p + `"}}
`
}

// pathFields returns the path fields of pathsRunbook's runbook.
func pathFields(rb *runbook.Runbook) map[string]string {
	return map[string]string{
		"store path": rb.Env("local").Store.Path, "shell cwd": rb.Step("sh").Shell.Cwd,
		"sql path": rb.Step("q").SQL.Path, "notify path": rb.Step("tell").Notify.Path,
		"backup dir": rb.Step("dump").Backup.Dir,
	}
}

// TestRelativePaths: the relative paths of a runbook file are relative to
// its directory, whatever the working directory; absolute ones and those
// that start with ${VAR} are kept as written (the latter resolved once
// expanded, see TestExpandedRelativePaths).
func TestRelativePaths(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, path, want string
	}{
		{"relative", "data/shop.db", filepath.Join(dir, "data", "shop.db")},
		{"dot", "./shop.db", filepath.Join(dir, "shop.db")},
		{"parent", "../shop.db", filepath.Join(filepath.Dir(dir), "shop.db")},
		{"absolute", "/srv/shop.db", "/srv/shop.db"},
		{"starts with a var", "${DATA}/shop.db", "${DATA}/shop.db"},
		{"var inside", "data/${ENV}/../shop.db", dir + "/data/${ENV}/../shop.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "rb.yaml"), []byte(pathsRunbook(tt.path)), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Chdir(t.TempDir()) // the working directory is not the runbook's
			rb, err := runbook.ParseFile(filepath.Join(dir, "rb.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			for field, got := range pathFields(rb) {
				if got != tt.want {
					t.Errorf("%s = %q, want %q", field, got, tt.want)
				}
			}
			if got := rb.Step("bare").Shell.Cwd; got != dir {
				t.Errorf("shell cwd (none given) = %q, want the runbook's directory %q", got, dir)
			}
		})
	}
}

// TestParseFileRelativeName: a runbook named relative to the working
// directory records its absolute path (journaled, and parsed again from
// there by resume) while its problems keep the name as given.
func TestParseFileRelativeName(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rb.yaml"), []byte(pathsRunbook("shop.db")), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	rb, err := runbook.ParseFile("rb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	runChecks(t, []check{
		{"Path", rb.Path, filepath.Join(dir, "rb.yaml")},
		{"Dir", rb.Dir, dir},
		{"store path", rb.Env("local").Store.Path, filepath.Join(dir, "shop.db")},
		{"step position file", rb.Step("sh").Pos.File, "rb.yaml"},
		{"lint position file", runbook.Lint(rb)[0].Pos.File, "rb.yaml"},
	})
	// Parsed again from the journaled path and source in another
	// directory (resume), it names the same files.
	t.Chdir(t.TempDir())
	again, err := runbook.Parse(rb.Path, rb.Source)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := again.Env("local").Store.Path, filepath.Join(dir, "shop.db"); got != want {
		t.Errorf("store path on resume = %q, want %q", got, want)
	}
}

// TestProtocolPathsFollowTheWorkingDirectory: a runbook without a file
// (a built-in protocol) resolves its relative paths against the working
// directory at load.
func TestProtocolPathsFollowTheWorkingDirectory(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	rb, err := runbook.Parse("<builtin>/paths.yaml", []byte(pathsRunbook("shop.db")))
	if err != nil {
		t.Fatal(err)
	}
	runChecks(t, []check{
		{"Dir", rb.Dir, wd},
		{"store path", rb.Env("local").Store.Path, filepath.Join(wd, "shop.db")},
		{"Path", rb.Path, "<builtin>/paths.yaml"},
	})
}

// TestExpandedRelativePaths: a path that starts with ${VAR} is resolved
// against the runbook's directory once expanded, when it is relative.
func TestExpandedRelativePaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rb.yaml"), []byte(pathsRunbook("${DATA}/shop.db")), 0o600); err != nil {
		t.Fatal(err)
	}
	rb, err := runbook.ParseFile(filepath.Join(dir, "rb.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, data, want string
	}{
		{"relative", "data", filepath.Join(dir, "data", "shop.db")},
		{"absolute", "/srv", "/srv/shop.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			getenv := func(k string) string { return map[string]string{"DATA": tt.data}[k] }
			spec, err := rb.Env("local").Store.Expanded(getenv)
			if err != nil {
				t.Fatal(err)
			}
			if spec.Path != tt.want {
				t.Errorf("Store.Expanded().Path = %q, want %q", spec.Path, tt.want)
			}
			for field, raw := range pathFields(rb) {
				got, err := rb.ExpandPath(raw, getenv)
				if err != nil || got != tt.want {
					t.Errorf("ExpandPath(%s %q) = %q, %v; want %q", field, raw, got, err, tt.want)
				}
			}
		})
	}
}
