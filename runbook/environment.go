package runbook

import (
	"fmt"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

// Store kinds.
const (
	StoreDynamoDB = "dynamodb"
	StoreSQLite   = "sqlite"
	StorePostgres = "postgres"
)

var (
	envKeys    = []string{"store", "protected", "window", "max_write_rate", "fleet"}
	windowKeys = []string{"days", "from", "to", "tz"}
	// Days are the values of a window's `days:`.
	Days = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	// storeKeys are the keys each store kind accepts.
	storeKeys = map[string][]string{
		StoreDynamoDB: {"kind", "table", "region", "endpoint", "profile", "key", "version_attribute", "registry_table"},
		StoreSQLite:   {"kind", "path", "table", "key", "version_attribute"},
		StorePostgres: {"kind", "dsn", "schema", "table", "key", "version_attribute"},
	}
	storeRequired = map[string][]string{
		StoreDynamoDB: {"table", "region"},
		StoreSQLite:   {"path", "table", "key"},
		StorePostgres: {"dsn", "table", "key"},
	}
	storeKinds = []string{StoreDynamoDB, StoreSQLite, StorePostgres}
)

// environments decodes the `environments:` mapping in source order.
func (d *decoder) environments(n *yaml.Node, versionAttr string) []*Environment {
	f, ok := d.mapping(n, "environments", nil)
	if !ok {
		return nil
	}
	out := make([]*Environment, 0, len(f.keys))
	for _, name := range f.keys {
		e := f.by[name]
		if !nameRe().MatchString(name) {
			d.errorf(e.key, "use lowercase letters, digits, '.', '-' and '_'", "invalid environment name %q", name)
		}
		out = append(out, d.environment(name, e, versionAttr))
	}
	return out
}

// environment decodes one environment.
func (d *decoder) environment(name string, e entry, versionAttr string) *Environment {
	env := &Environment{Pos: d.pos(e.key), Name: name}
	what := "environment " + name
	f, ok := d.mapping(e.val, what, envKeys)
	if !ok {
		return env
	}
	if v := f.get("store"); v != nil {
		env.Store = d.store(v, what+" store", versionAttr)
	}
	if v := f.get("protected"); v != nil {
		env.Protected = d.boolean(v, "protected")
	}
	if v := f.get("window"); v != nil {
		env.Window = d.window(v, what+" window")
	}
	if v := f.get("max_write_rate"); v != nil {
		env.MaxWriteRate = d.integer(v, "max_write_rate", 0)
	}
	if v := f.get("fleet"); v != nil {
		env.Fleet = d.fleet(v, what)
	}
	return env
}

// store decodes a store spec, checking the keys its kind accepts.
func (d *decoder) store(n *yaml.Node, what, versionAttr string) *StoreSpec {
	s := &StoreSpec{Pos: d.pos(n)}
	kindFields, ok := d.mapping(n, what, nil)
	if !ok {
		return s
	}
	kn := kindFields.get("kind")
	if kn == nil {
		d.errorf(kindFields.node, "dynamodb, sqlite or postgres", "%s: missing required key %q", what, "kind")
		return s
	}
	s.Kind = d.str(kn, "store kind")
	keys, known := storeKeys[s.Kind]
	if !known {
		if s.Kind != "" {
			d.errorf(kn, orElse(didYouMean(s.Kind, storeKinds), "dynamodb, sqlite or postgres"), "unknown store kind %q", s.Kind)
		}
		return s
	}
	what = fmt.Sprintf("%s (%s)", what, s.Kind)
	f, _ := d.mapping(kindFields.node, what, keys)
	d.require(f, what, storeRequired[s.Kind]...)
	for key, dst := range map[string]*string{"table": &s.Table, "region": &s.Region,
		"endpoint": &s.Endpoint, "profile": &s.Profile, "version_attribute": &s.VersionAttribute,
		"dsn": &s.DSN, "schema": &s.Schema, "registry_table": &s.RegistryTable} {
		if v := f.get(key); v != nil {
			*dst = d.nonEmpty(v, key)
			d.checkRefs(v, *dst)
		}
	}
	if v := f.get("path"); v != nil {
		s.Path, s.Dir = d.path(v, "path"), d.dir
	}
	if v := f.get("key"); v != nil {
		s.Key = d.list(v, "key", true)
		if len(s.Key) == 0 || len(s.Key) > 2 {
			d.errorf(v, "[partition] or [partition, sort]", "key must name one or two attributes")
		}
	}
	if s.VersionAttribute == "" {
		s.VersionAttribute = orElse(versionAttr, DefaultVersionAttribute)
	}
	return s
}

// window decodes an environment's change window.
func (d *decoder) window(n *yaml.Node, what string) *Window {
	w := &Window{Pos: d.pos(n), TZ: "UTC"}
	f, ok := d.mapping(n, what, windowKeys)
	if !ok {
		return w
	}
	d.require(f, what, "from", "to")
	if v := f.get("days"); v != nil {
		var nodes []*yaml.Node
		w.Days, nodes = d.listNodes(v, "days", true)
		for i, day := range w.Days {
			if !slices.Contains(Days, day) {
				d.errorf(nodes[i], orElse(didYouMean(day, Days), "mon, tue, wed, thu, fri, sat or sun"), "unknown day %q", day)
			}
		}
	}
	for key, dst := range map[string]*string{"from": &w.From, "to": &w.To} {
		if v := f.get(key); v != nil {
			*dst = d.str(v, key)
			if _, err := time.Parse("15:04", *dst); *dst != "" && err != nil {
				d.errorf(v, "use 24-hour HH:MM, quoted", "window %s: invalid time %q", key, *dst)
			}
		}
	}
	if v := f.get("tz"); v != nil {
		w.TZ = d.str(v, "tz")
		if _, err := time.LoadLocation(w.TZ); w.TZ != "" && err != nil {
			d.errorf(v, "use an IANA name such as Europe/Paris or UTC", "unknown time zone %q", w.TZ)
		}
	}
	return w
}
