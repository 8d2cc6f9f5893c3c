package runbook

import (
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Relative paths. A runbook names the same files whatever the operator's
// working directory: a relative path in a runbook file (a sqlite store's
// path, a sql step's path, a notify file channel's path, a backup's dir,
// a shell step's cwd) is relative to the directory of the runbook file,
// as in docker-compose. A built-in protocol has no file: its paths are
// relative to the working directory when it is loaded. A shell step
// without cwd runs in that directory too, as an external transform does.
//
// A literal path is resolved when the runbook is parsed. A path that
// starts with ${VAR} is resolved once expanded, when its value is known
// to be relative: StoreSpec.Expanded does so for the store path, and
// Runbook.ExpandPath for the others.

// baseDir returns the directory the relative paths of the runbook read
// from path are resolved against: path's (made absolute), or the working
// directory for a built-in protocol ("<builtin>/…") or an unnamed one.
// It is "" (paths stay relative) when the working directory is unknown.
func baseDir(path string) string {
	if path == "" || strings.HasPrefix(path, "<") {
		wd, err := os.Getwd()
		if err != nil {
			return ""
		}
		return wd
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	return filepath.Dir(abs)
}

// resolvePath returns p resolved against dir. A path that starts with
// ${VAR} is left for expansion time (resolveExpanded); one that starts
// with literal text and holds ${VAR} further on is prefixed with dir
// without being cleaned (a ${VAR} may expand to several elements).
func resolvePath(dir, p string) string {
	switch {
	case dir == "" || p == "" || filepath.IsAbs(p) || p == ":memory:" || strings.HasPrefix(p, "${"):
		return p
	case strings.Contains(p, "${"):
		return strings.TrimSuffix(dir, string(filepath.Separator)) + string(filepath.Separator) + p
	}
	return filepath.Join(dir, p)
}

// resolveExpanded resolves an expanded path against dir when it is relative.
func resolveExpanded(dir, p string) string {
	if dir == "" || p == "" || filepath.IsAbs(p) || p == ":memory:" {
		return p
	}
	return filepath.Join(dir, p)
}

// ExpandPath expands the ${VAR} references of p, a path field of one of
// the runbook's steps (sql path, notify path, backup dir, shell cwd), and
// resolves the result against Dir when it is relative, so that it names
// the same file whatever the working directory.
func (r *Runbook) ExpandPath(p string, getenv func(string) string) (string, error) {
	v, err := Expand(p, getenv)
	if err != nil {
		return "", err
	}
	return resolveExpanded(r.Dir, v), nil
}

// path reads a file path field: a non-empty string, ${VAR} references
// checked, resolved against the runbook's directory.
func (d *decoder) path(n *yaml.Node, what string) string {
	p := d.nonEmpty(n, what)
	d.checkRefs(n, p)
	return resolvePath(d.dir, p)
}
