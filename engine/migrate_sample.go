package engine

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// maxSamples is how many changed items a dry run shows.
const maxSamples = 5

// SampleDiff is one changed item of a dry run: the attributes the write
// would touch, before and after (absent attributes are left out).
type SampleDiff struct {
	Key    string         `json:"key"`
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
}

// sampler keeps the first maxSamples diffs.
type sampler struct {
	mu    sync.Mutex
	diffs []SampleDiff
}

func (s *sampler) add(m *migrator, p plan) {
	s.mu.Lock()
	if len(s.diffs) >= maxSamples {
		s.mu.Unlock()
		return
	}
	d := SampleDiff{Key: keyString(p.upd.Key, m.key), Before: map[string]any{}, After: map[string]any{}}
	var attrs []string
	after := Item{}
	for _, a := range p.upd.Set { // sorted
		attrs = append(attrs, a.Name)
		after[a.Name] = a.Value
	}
	attrs = append(attrs, p.upd.Remove...)
	attrs = append(attrs, m.vattr)
	if p.upd.Version != 0 {
		after[m.vattr] = Number(fmt.Sprint(p.upd.Version))
	}
	for _, a := range attrs {
		if v, ok := p.item[a]; ok {
			d.Before[a] = toExprValue(v)
		}
		if v, ok := after[a]; ok {
			d.After[a] = toExprValue(v)
		}
	}
	s.diffs = append(s.diffs, d)
	s.mu.Unlock()
	_ = m.emit(NewEvent(EvOutput, m.sc.Step.ID, map[string]any{"stream": "stdout", "text": d.String()}))
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
