package steps

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
)

// restoreClass is what the restore makes of one backed-up item.
type restoreClass int

const (
	classUnchanged  restoreClass = iota // live equals the backup
	classRestorable                     // live equals what the migration wrote
	classConflict                       // live changed since, or deleted
)

// RestoreDiff is a sample of a restore: one item, the backed-up and the
// live values of the attributes that differ, and for a conflict what the
// migration had written there.
type RestoreDiff struct {
	Key      string         `json:"key"`
	Class    string         `json:"class"` // restore | conflict | deleted
	Backup   map[string]any `json:"backup"`
	Live     map[string]any `json:"live,omitempty"`
	Migrated map[string]any `json:"migrated,omitempty"` // conflicts: what the migration wrote
}

// sameItem reports whether a and b hold the same attributes and values; a
// null attribute counts as absent (SQLite reads an empty column as NULL).
func sameItem(a, b engine.Item) bool {
	for k, v := range a {
		if v != nil && !engine.EqualValues(v, b[k]) {
			return false
		}
	}
	for k, v := range b {
		if v != nil && a[k] == nil {
			return false
		}
	}
	return true
}

// differing lists the attributes whose values differ between a and b.
func differing(a, b engine.Item) []string {
	var out []string
	for k, v := range a {
		if !engine.EqualValues(v, b[k]) && !(v == nil && b[k] == nil) {
			out = append(out, k)
		}
	}
	for k, v := range b {
		if v != nil && a[k] == nil && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// pick returns it's values of attrs (nil for absent).
func pick(it engine.Item, attrs []string) map[string]any {
	if it == nil {
		return nil
	}
	out := make(map[string]any, len(attrs))
	for _, a := range attrs {
		out[a] = it[a]
	}
	return out
}

// sampleOf describes one item's diff for the result and the prompt.
func sampleOf(key string, class string, backup, live, migrated engine.Item) RestoreDiff {
	attrs := differing(backup, live)
	if migrated != nil {
		for _, a := range differing(migrated, live) {
			if !slices.Contains(attrs, a) {
				attrs = append(attrs, a)
			}
		}
		slices.Sort(attrs)
	}
	d := RestoreDiff{Key: key, Class: class, Backup: pick(backup, attrs), Live: pick(live, attrs)}
	if class == "conflict" {
		d.Migrated = pick(migrated, attrs)
	}
	return d
}

// String renders d on one line for the journal's output.
func (d RestoreDiff) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s:", d.Class, d.Key)
	for _, a := range slices.Sorted(mapKeys(d.Backup)) {
		fmt.Fprintf(&b, " %s: live %v, backup %v", a, show(d.Live[a]), show(d.Backup[a]))
		if d.Migrated != nil {
			fmt.Fprintf(&b, ", migration wrote %v", show(d.Migrated[a]))
		}
		b.WriteString(";")
	}
	return strings.TrimSuffix(b.String(), ";")
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func show(v any) string {
	if v == nil {
		return "(none)"
	}
	return fmt.Sprintf("%q", fmt.Sprint(v))
}

// restoreUpdate is the guarded write that takes live back to backup: it
// applies only while every attribute of live and its version still hold.
func restoreUpdate(backup, live engine.Item, key []string, vattr string) engine.Update {
	skip := func(a string) bool { return a == vattr || slices.Contains(key, a) }
	var set, unchanged []engine.Attr
	var remove []string
	for a, v := range backup {
		if !skip(a) && v != nil && !engine.EqualValues(v, live[a]) {
			set = append(set, engine.Attr{Name: a, Value: v})
		}
	}
	for a, v := range live {
		if skip(a) {
			continue
		}
		unchanged = append(unchanged, engine.Attr{Name: a, Value: v})
		if v != nil && backup[a] == nil {
			remove = append(remove, a)
		}
	}
	for a, v := range backup {
		if !skip(a) && v != nil && live[a] == nil {
			if _, ok := engine.LookupAttr(unchanged, a); !ok {
				unchanged = append(unchanged, engine.Attr{Name: a})
			}
		}
	}
	byName := func(x, y engine.Attr) int { return strings.Compare(x.Name, y.Name) }
	slices.SortFunc(set, byName)
	slices.SortFunc(unchanged, byName)
	slices.Sort(remove)
	g := engine.Guard{VersionAttr: vattr, Unchanged: unchanged}
	u := engine.Update{Key: engine.KeyOf(live, key), Set: set, Remove: remove, Guard: g}
	lv, bv := versionOf(live, vattr), versionOf(backup, vattr)
	if lv != 0 {
		u.Guard.Equals = lv // and Version 0 removes it
	} else {
		u.Guard.Below = 1 // absent
	}
	u.Version = bv
	return u
}

// versionOf reads it's version attribute (0: absent or not a number).
func versionOf(it engine.Item, vattr string) int64 {
	switch v := it[vattr].(type) {
	case engine.Number:
		var n int64
		if _, err := fmt.Sscan(string(v), &n); err == nil {
			return n
		}
	case int64:
		return v
	case int:
		return int64(v)
	case float64:
		return int64(v)
	}
	return 0
}
