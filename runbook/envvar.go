package runbook

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ${VAR} references are expanded at run time in these fields only: every
// string of a store spec, notify path/url/topic, sql path, backup dir and
// shell cwd and env values. Shell run and argv are left to the shell. "$$"
// is a literal "$"; a "$" not followed by "{" or "$" is literal.

// scanRefs calls ref for each ${NAME} in s and lit for the text between;
// it stops at the first malformed reference.
func scanRefs(s string, lit func(string), ref func(string) error) error {
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			lit(s)
			return nil
		}
		lit(s[:i])
		switch s[i+1] {
		case '$':
			lit("$")
			s = s[i+2:]
			continue
		case '{':
		default:
			lit("$")
			s = s[i+1:]
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return fmt.Errorf("%w: unterminated %q", ErrBadRef, s[i:])
		}
		name := s[i+2 : i+end]
		if !identRe().MatchString(name) {
			return fmt.Errorf("%w: bad name %q", ErrBadRef, s[i:i+end+1])
		}
		if err := ref(name); err != nil {
			return err
		}
		s = s[i+end+1:]
	}
}

// Expand replaces each ${VAR} in s with getenv(VAR). An unset or empty
// variable is an error wrapping ErrUnsetVar that names it.
func Expand(s string, getenv func(string) string) (string, error) {
	var b strings.Builder
	err := scanRefs(s, func(t string) { b.WriteString(t) }, func(name string) error {
		v := getenv(name)
		if v == "" {
			return fmt.Errorf("expand ${%s}: %w %s", name, ErrUnsetVar, name)
		}
		b.WriteString(v)
		return nil
	})
	if err != nil {
		return "", err
	}
	return b.String(), nil
}

// refsIn returns the variable names referenced in s (nil if malformed).
func refsIn(s string) []string {
	var out []string
	_ = scanRefs(s, func(string) {}, func(name string) error { out = append(out, name); return nil })
	return out
}

// checkRefs reports a malformed ${...} in the value of n.
func (d *decoder) checkRefs(n *yaml.Node, s string) {
	if err := scanRefs(s, func(string) {}, func(string) error { return nil }); err != nil {
		d.errorf(n, "write ${NAME}, or $$ for a literal $", "%s", err)
	}
}

// expandable returns the fields of the spec that may hold ${VAR}.
func (s *StoreSpec) expandable() []*string {
	return []*string{&s.Kind, &s.Table, &s.Region, &s.Endpoint, &s.Profile, &s.Path, &s.VersionAttribute, &s.DSN, &s.Schema, &s.RegistryTable}
}

// Expanded returns a copy of the spec with every ${VAR} expanded and a
// relative Path resolved against Dir; all unset variables are reported
// together.
func (s *StoreSpec) Expanded(getenv func(string) string) (*StoreSpec, error) {
	out := *s
	out.Key = append([]string(nil), s.Key...)
	var errs []error
	for _, f := range out.expandable() {
		v, err := Expand(*f, getenv)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*f = v
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("store at %s: %w", s.Pos, errors.Join(errs...))
	}
	out.Path = resolveExpanded(s.Dir, out.Path)
	return &out, nil
}

// EnvRefs returns the environment variables the store spec references.
func (s *StoreSpec) EnvRefs() []string {
	seen := map[string]bool{}
	for _, f := range s.expandable() {
		for _, n := range refsIn(*f) {
			seen[n] = true
		}
	}
	return sortedKeys(seen)
}

// EnvRefs returns every environment variable the runbook references with
// ${VAR} (stores of all environments and step fields), sorted and unique.
func (r *Runbook) EnvRefs() []string {
	seen := map[string]bool{}
	add := func(ss ...string) {
		for _, s := range ss {
			for _, n := range refsIn(s) {
				seen[n] = true
			}
		}
	}
	for _, e := range r.Environments {
		if e.Store != nil {
			for _, n := range e.Store.EnvRefs() {
				seen[n] = true
			}
		}
	}
	for _, s := range r.Steps() {
		for _, st := range []*Step{s, s.Rollback} {
			if st != nil {
				add(st.expandable()...)
			}
		}
	}
	return sortedKeys(seen)
}

// expandable returns the step's strings that may hold ${VAR}.
func (s *Step) expandable() []string {
	var out []string
	if s.Shell != nil {
		out = append(out, s.Shell.Cwd)
		for _, v := range s.Shell.Env {
			out = append(out, v)
		}
	}
	if s.SQL != nil {
		out = append(out, s.SQL.Path)
	}
	if s.Notify != nil {
		out = append(out, s.Notify.Path, s.Notify.URL, s.Notify.Topic)
	}
	if s.Backup != nil {
		out = append(out, s.Backup.Dir)
	}
	if s.Migrate.Copy() {
		out = append(out, s.Migrate.Into.Table)
	}
	return out
}
