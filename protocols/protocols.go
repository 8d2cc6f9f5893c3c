// Package protocols is the catalog of built-in protocols: runbooks for
// common migrations with their best strategy, embedded in the binary. It
// may import only runbook and the standard library.
package protocols

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/lockstep-run/lockstep/runbook"
)

//go:embed *.yaml
var files embed.FS

// Package errors.
var (
	// ErrUnknown: no built-in protocol has that name.
	ErrUnknown = errors.New("unknown protocol")
	// ErrStore: a store kind that is not dynamodb, sqlite or postgres, or a protocol
	// with no variant for the store asked.
	ErrStore = errors.New("no protocol for that store")
)

// Info describes one built-in protocol.
type Info struct {
	Name     string `json:"name"`
	Title    string `json:"title"`
	Summary  string `json:"summary"`  // the leading comment of the file, one line
	Strategy string `json:"strategy"` // big-bang | multi-step
	Version  int    `json:"version"`
	Err      string `json:"error,omitempty"` // set when the protocol does not parse
}

// Names returns the names of the built-in protocols, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// List describes every built-in protocol, sorted by name. A protocol that
// fails to parse is listed with Err set.
func List() []Info {
	var out []Info
	for _, name := range Names() {
		src, _ := Source(name)
		info := Info{Name: name, Summary: summary(src)}
		rb, err := Get(name)
		if err != nil {
			info.Err = err.Error()
		} else {
			info.Title, info.Strategy, info.Version = rb.Title, rb.Strategy, rb.Version
		}
		out = append(out, info)
	}
	return out
}

// Source returns the YAML source of the protocol called name.
func Source(name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, "/\\") || path.Ext(name) != "" {
		return nil, unknown(name)
	}
	src, err := files.ReadFile(name + ".yaml")
	if err != nil {
		return nil, unknown(name)
	}
	return src, nil
}

// Get parses the protocol called name. Its Path is "<builtin>/NAME.yaml".
func Get(name string) (*runbook.Runbook, error) {
	src, err := Source(name)
	if err != nil {
		return nil, err
	}
	rb, err := runbook.Parse(BuiltinPath(name), src)
	if err != nil {
		return nil, fmt.Errorf("parse protocol %s: %w", name, err)
	}
	return rb, nil
}

// BuiltinPath is the Path of a parsed built-in protocol.
func BuiltinPath(name string) string { return "<builtin>/" + name + ".yaml" }

func unknown(name string) error {
	hint := ""
	if s := closest(name, Names()); s != "" {
		hint = fmt.Sprintf(" (did you mean %s?)", s)
	}
	return fmt.Errorf("%w %q%s; built-in protocols: %s", ErrUnknown, name, hint, strings.Join(Names(), ", "))
}

// summary joins the leading comment lines of src into one line.
func summary(src []byte) string {
	var parts []string
	for _, line := range strings.Split(string(src), "\n") {
		text, ok := strings.CutPrefix(line, "#")
		if !ok {
			break
		}
		if t := strings.TrimSpace(text); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, " ")
}

// closest returns the candidate sharing the longest prefix with name, if
// it shares at least three characters.
func closest(name string, candidates []string) string {
	best, bestN := "", 2
	for _, c := range candidates {
		n := 0
		for n < len(name) && n < len(c) && name[n] == c[n] {
			n++
		}
		if n > bestN {
			best, bestN = c, n
		}
	}
	return best
}
