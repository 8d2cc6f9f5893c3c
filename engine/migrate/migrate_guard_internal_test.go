package migrate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// guardSpec parses a runbook whose one migrate step has the given with.
func guardSpec(t *testing.T, with string) *runbook.MigrateSpec {
	t.Helper()
	src := fmt.Sprintf(`lockstep: 1
name: guard
title: Guard
version: 2
strategy: multi-step
roles: {responsible: [alice], accountable: bob}
environments:
  test:
    store: {kind: sqlite, path: data.db, table: users, key: [id]}
phases:
  - name: run
    steps:
      - id: m
        kind: migrate
        with: %s
`, with)
	rb, err := runbook.Parse("guard.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse()=%v\n%s", err, src)
	}
	return rb.Step("m").Migrate
}

// guardString prints a guard's attributes as [{name value}], an absent
// one as {name absent}.
func guardString(as []engine.Attr) string {
	parts := make([]string, len(as))
	for i, a := range as {
		switch {
		case a.Absent && a.Value != nil:
			parts[i] = fmt.Sprintf("{%s %v ABSENT WITH A VALUE}", a.Name, a.Value)
		case a.Absent:
			parts[i] = "{" + a.Name + " absent}"
		default:
			parts[i] = fmt.Sprintf("{%s %v}", a.Name, a.Value)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// TestWriteGuardCoversWrittenAttributes: the guard of a planned write
// holds, at its read value (absent: marked Absent), every attribute the write sets
// or removes (both names of a rename, external outputs), besides those
// the transform reads.
func TestWriteGuardCoversWrittenAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		with      string
		item      engine.Item
		external  engine.Item // the external transform's output, when set
		wantGuard string
		wantStamp bool
	}{
		{name: "set an absent attribute", with: `{set: {street: '"x"'}}`,
			item: engine.Item{"id": engine.Number("1"), "name": "a"}, wantGuard: "[{street absent}]"},
		{name: "set an attribute held as null", with: `{set: {street: '"x"'}}`,
			item: engine.Item{"id": engine.Number("1"), "street": nil}, wantGuard: "[{street <nil>}]"},
		{name: "set a present attribute", with: `{set: {street: 'item.name'}}`,
			item: engine.Item{"id": engine.Number("1"), "name": "a", "street": "old"}, wantGuard: "[{name a} {street old}]"},
		{name: "rename: old and new name", with: `{rename: {address: street}}`,
			item: engine.Item{"id": engine.Number("1"), "address": "1 Main", "street": "old"}, wantGuard: "[{address 1 Main} {street old}]"},
		{name: "rename onto an equal value", with: `{rename: {address: street}}`,
			item: engine.Item{"id": engine.Number("1"), "address": "1 Main", "street": "1 Main"}, wantGuard: "[{address 1 Main} {street 1 Main}]"},
		{name: "remove", with: `{remove: [city]}`,
			item: engine.Item{"id": engine.Number("1"), "city": "Paris"}, wantGuard: "[{city Paris}]"},
		{name: "external outputs", with: `{transform: [cat]}`,
			item: engine.Item{"id": engine.Number("1"), "name": "a"}, external: engine.Item{"id": engine.Number("1"), "name": "A", "extra": "e"},
			wantGuard: "[{extra absent} {name a}]"},
		{name: "already in shape: version only", with: `{set: {street: '"x"'}}`,
			item: engine.Item{"id": engine.Number("1"), "street": "x"}, wantGuard: "[]", wantStamp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := guardSpec(t, tt.with)
			m := &migrator{spec: sp, key: []string{"id"}, vattr: "v", version: 2}
			m.reads, m.readsAll = sp.Reads(), sp.ReadsWholeItem()
			var p plan
			if tt.external != nil {
				p = m.diffExternal(tt.item, tt.external)
			} else {
				env := m.env()
				if out, err := selectForMigrate(env, sp.Where, tt.item, m.vattr, m.version, false); out != outWrite {
					t.Fatalf("selectForMigrate()=%v, %v, want outWrite", out, err)
				}
				p = m.transformInProcess(env, tt.item)
			}
			if p.out != outWrite || p.stamp != tt.wantStamp {
				t.Fatalf("plan out=%v stamp=%t (err %v), want a write, stamp=%t", p.out, p.stamp, p.err, tt.wantStamp)
			}
			if got := guardString(p.upd.Guard.Unchanged); got != tt.wantGuard {
				t.Errorf("Guard.Unchanged=%s, want %s", got, tt.wantGuard)
			}
			if p.upd.Version != 2 || p.upd.Guard.Below != 2 {
				t.Errorf("Version=%d Below=%d, want 2, 2", p.upd.Version, p.upd.Guard.Below)
			}
		})
	}
}
