package runbook

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// topKeys are the keys of a runbook document.
var topKeys = []string{"lockstep", "name", "title", "version", "strategy", "roles",
	"environments", "secrets", "vars", "version_attribute", "phases", "lint"}

// Strategies are the values of `strategy:`.
var Strategies = []string{"big-bang", "multi-step"}

// ExtensionPrefix starts top-level keys lockstep ignores, e.g.
// `x-store: &store {kind: sqlite, ...}` to be reused with *store.
const ExtensionPrefix = "x-"

// DefaultVersionAttribute is the item attribute holding the data version
// when neither the store nor the runbook names one.
const DefaultVersionAttribute = "v"

var (
	nameRe     = lazyRegexp(`^[a-z0-9][a-z0-9._-]*$`)
	identRe    = lazyRegexp(`^[A-Za-z_][A-Za-z0-9_]*$`)
	stepIDRe   = lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	yamlLineRe = lazyRegexp(`^yaml: line (\d+): (.*)$`)
)

// lazyRegexp returns a function that compiles expr on its first call:
// Go initialises every linked package on every command, and most
// commands never parse a runbook (issue 17).
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// ParseFile reads and parses the runbook at path.
func ParseFile(path string) (*Runbook, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read runbook: %w", err)
	}
	rb, err := Parse(path, src)
	if err != nil {
		return nil, err
	}
	// Journaled as the session's runbook path, and parsed again from
	// there on resume, maybe from another directory.
	if abs, err := filepath.Abs(path); err == nil {
		rb.Path = abs
	}
	return rb, nil
}

// Parse parses and validates a runbook. path is used in positions. On
// failure the error is an Errors value listing every problem found, sorted
// by position, and the runbook is nil.
func Parse(path string, src []byte) (*Runbook, error) {
	d := &decoder{file: path, dir: baseDir(path)}
	sum := sha256.Sum256(src)
	rb := &Runbook{Path: path, Dir: d.dir, SHA256: hex.EncodeToString(sum[:]), Source: src, file: path}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		d.errs = append(d.errs, yamlError(path, err))
		return nil, d.errs
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		d.errorf(nil, "start from `lockstep protocols new NAME`", "empty runbook")
		return nil, d.errs
	}
	d.extraDocuments(dec)
	d.runbook(rb, doc.Content[0])
	validate(d, rb)
	if len(d.errs) > 0 {
		d.errs.Sort()
		return nil, d.errs
	}
	return rb, nil
}

// extraDocuments reports a YAML document after the runbook's: only the
// first document of a file is read, so whatever follows a `---` would be
// silently ignored (a phase or a protected environment pasted after it
// would not exist). An empty trailing document ignores nothing and passes.
func (d *decoder) extraDocuments(dec *yaml.Decoder) {
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		switch {
		case errors.Is(err, io.EOF):
			return
		case err != nil:
			d.errs = append(d.errs, yamlError(d.file, err))
			return
		case emptyDocument(&doc):
			continue
		}
		d.errorf(&doc, "a runbook is one YAML document: remove the `---` line to merge it into the runbook, or move it to a file of its own",
			"a second YAML document starts here; lockstep would ignore it")
		return
	}
}

// emptyDocument reports a document holding nothing but comments or a null.
func emptyDocument(doc *yaml.Node) bool {
	if len(doc.Content) == 0 {
		return true
	}
	n := doc.Content[0]
	return len(doc.Content) == 1 && n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == ""
}

// YAMLSyntaxHint is the hint of a YAML syntax error: the line named is
// where the YAML library noticed, which may be past the mistake.
const YAMLSyntaxHint = "YAML syntax: check the quotes, brackets and indentation around this line"

// yamlError turns a YAML syntax error into a positioned Error.
func yamlError(path string, err error) *Error {
	line, msg := YAMLSyntaxLine(err)
	return &Error{Pos: Pos{File: path, Line: line, Col: 1}, Msg: msg, Hint: YAMLSyntaxHint, Severity: SeverityError}
}

// YAMLSyntaxLine splits a YAML syntax error from yaml.Unmarshal into the
// line it names (1 when it names none) and the message without it, for
// errors positioned as file:line:col. The library names the line of a
// parser error (its messages start "did not find expected" or "found"
// and are not the scanner's) 0-based, one above the construct it was
// parsing: it is moved down to it.
func YAMLSyntaxLine(err error) (line int, msg string) {
	m := yamlLineRe().FindStringSubmatch(err.Error())
	if m == nil {
		return 1, err.Error()
	}
	line, _ = strconv.Atoi(m[1])
	if isParserError(m[2]) {
		line++
	}
	return line, "yaml: " + m[2]
}

// isParserError reports the messages of go.yaml.in/yaml/v3's parser
// (parserc.go), whose lines are 0-based; the scanner's are 1-based.
func isParserError(msg string) bool {
	for _, p := range []string{"did not find expected", "found duplicate %", "found incompatible YAML document", "found undefined tag handle"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// runbook decodes the top-level mapping.
// Top-level keys starting with ExtensionPrefix are ignored: a place for
// YAML anchors shared by the rest of the runbook.
func (d *decoder) runbook(rb *Runbook, n *yaml.Node) {
	f, ok := d.mapping(n, "runbook", nil)
	if !ok {
		return
	}
	for _, k := range f.keys {
		if !slices.Contains(topKeys, k) && !strings.HasPrefix(k, ExtensionPrefix) {
			d.errorf(f.by[k].key, orElse(didYouMean(k, topKeys), "prefix your own keys with "+ExtensionPrefix), "unknown key %q in runbook", k)
		}
	}
	d.require(f, "runbook", "lockstep", "name", "title", "version", "phases")
	if v := f.get("lockstep"); v != nil {
		rb.Lockstep = d.integer(v, "lockstep", math.MinInt32)
		if v.Kind == yaml.ScalarNode && v.Tag == "!!int" && rb.Lockstep != FormatVersion {
			d.errorf(v, fmt.Sprintf("this lockstep reads format %d", FormatVersion), "unsupported format lockstep: %s", v.Value)
		}
	}
	if v := f.get("name"); v != nil {
		rb.Name = d.nonEmpty(v, "name")
		if rb.Name != "" && !nameRe().MatchString(rb.Name) {
			d.errorf(v, "use lowercase letters, digits, '.', '-' and '_'", "invalid name %q", rb.Name)
		}
	}
	if v := f.get("title"); v != nil {
		rb.Title = d.nonEmpty(v, "title")
	}
	if v := f.get("version"); v != nil {
		rb.Version = d.integer(v, "version", 1)
	}
	if v := f.get("strategy"); v != nil {
		rb.Strategy = d.str(v, "strategy")
		if rb.Strategy != "" && !slices.Contains(Strategies, rb.Strategy) {
			d.errorf(v, orElse(didYouMean(rb.Strategy, Strategies), "big-bang or multi-step"), "unknown strategy %q", rb.Strategy)
		}
	}
	if v := f.get("roles"); v != nil {
		rb.Roles = d.roles(v)
	}
	if v := f.get("version_attribute"); v != nil {
		rb.VersionAttribute = d.nonEmpty(v, "version_attribute")
	}
	if v := f.get("environments"); v != nil {
		rb.Environments = d.environments(v, rb.VersionAttribute)
	}
	if v := f.get("secrets"); v != nil {
		var nodes []*yaml.Node
		rb.Secrets, nodes = d.listNodes(v, "secrets", false)
		for i, s := range rb.Secrets {
			if !identRe().MatchString(s) {
				d.errorf(nodes[i], "secrets are environment variable names", "invalid secret name %q", s)
			}
		}
	}
	if v := f.get("vars"); v != nil {
		rb.Vars, _ = d.stringMap(v, "vars")
	}
	if v := f.get("phases"); v != nil {
		rb.Phases = d.phases(v)
	}
	if v := f.get("lint"); v != nil {
		rb.Lint = d.lintSpec(v, "runbook lint")
	}
}

// roleNames are the RACI roles, in order.
var roleNames = []string{"responsible", "accountable", "consulted", "informed"}

// roles decodes the RACI mapping; each role is a name or a list of names.
func (d *decoder) roles(n *yaml.Node) Roles {
	var r Roles
	f, ok := d.mapping(n, "roles", roleNames)
	if !ok {
		return r
	}
	dst := map[string]*[]string{"responsible": &r.Responsible, "accountable": &r.Accountable,
		"consulted": &r.Consulted, "informed": &r.Informed}
	for _, k := range f.keys {
		*dst[k] = d.list(f.get(k), "roles."+k, true)
	}
	return r
}

// orElse returns s, or fallback when s is empty.
func orElse(s, fallback string) string {
	if s != "" {
		return s
	}
	return fallback
}
