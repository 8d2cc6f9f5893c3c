package migrate

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/lockstep-run/lockstep/engine"
)

// maxSamples is how many changed items a dry run shows.
const maxSamples = 5

// SampleDiff is one changed item of a dry run: the attributes the write
// would touch, before and after (absent attributes are left out).
type SampleDiff struct {
	Key    string         `json:"key"`
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
	// Types names, for each attribute whose type the write changes, the
	// type before and after ("string set → list"): Before and After show
	// values as expressions see them, where a set looks like a list.
	Types map[string]string `json:"types,omitempty"`
}

// sampler keeps the first maxSamples diffs.
type sampler struct {
	mu    sync.Mutex
	diffs []SampleDiff
}

func (s *sampler) add(m *migrator, p plan) {
	if p.stamp { // only the version would change: not worth a sample
		return
	}
	s.mu.Lock()
	if len(s.diffs) >= maxSamples {
		s.mu.Unlock()
		return
	}
	d := SampleDiff{Key: KeyString(p.upd.Key, m.key), Before: map[string]any{}, After: map[string]any{}}
	var attrs []string
	after := engine.Item{}
	for _, a := range p.upd.Set { // sorted
		attrs = append(attrs, a.Name)
		after[a.Name] = a.Value
	}
	attrs = append(attrs, p.upd.Remove...)
	attrs = append(attrs, m.vattr)
	if p.upd.Version != 0 {
		after[m.vattr] = engine.Number(fmt.Sprint(p.upd.Version))
	}
	for _, a := range attrs {
		bv, hadB := p.item[a]
		av, hasA := after[a]
		if hadB {
			d.Before[a] = engine.ToExprValue(bv)
		}
		if hasA {
			d.After[a] = engine.ToExprValue(av)
		}
		if tb, ta := valueType(bv), valueType(av); hadB && hasA && tb != ta {
			if d.Types == nil {
				d.Types = map[string]string{}
			}
			d.Types[a] = tb + " → " + ta
		}
	}
	s.diffs = append(s.diffs, d)
	s.mu.Unlock()
	_ = m.emit(engine.NewEvent(m.sc.Step.ID, engine.Output{Stream: "stdout", Text: d.String()}))
}

func (s *sampler) list() []SampleDiff {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.diffs)
}

// String renders the diff on one line per attribute.
func (d SampleDiff) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "would update %s:", d.Key)
	keys := map[string]bool{}
	for k := range d.Before {
		keys[k] = true
	}
	for k := range d.After {
		keys[k] = true
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "\n  %s: %s → %s", k, showValue(d.Before, k), showValue(d.After, k))
		if t, ok := d.Types[k]; ok {
			fmt.Fprintf(&b, " (%s)", t)
		}
	}
	return b.String()
}

func showValue(m map[string]any, k string) string {
	v, ok := m[k]
	if !ok {
		return "(absent)"
	}
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// valueType names the type of a value-model value as DynamoDB would
// store it.
func valueType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case engine.Number, int, int64, float64:
		return "number"
	case bool:
		return "bool"
	case []byte:
		return "binary"
	case engine.StringSet:
		return "string set"
	case engine.NumberSet:
		return "number set"
	case engine.BinarySet:
		return "binary set"
	case []any:
		return "list"
	case engine.Item, map[string]any:
		return "map"
	}
	return fmt.Sprintf("%T", v)
}
