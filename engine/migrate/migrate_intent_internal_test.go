package migrate

import (
	"hash/fnv"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestKeyHashIsStable pins the key hashes intents journal: a resumed
// session (possibly run by an older or newer lockstep) finds the items
// its interrupted attempt wrote by these values, so they must never
// change.
func TestKeyHashIsStable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  []string
		item engine.Item
		want uint32
	}{
		{"number", []string{"id"}, engine.Item{"id": engine.Number("42"), "v": engine.Number("1")}, 0x229c2f81},
		{"negative float", []string{"id"}, engine.Item{"id": engine.Number("-1.5")}, 0xafa076f4},
		{"string", []string{"pk"}, engine.Item{"pk": "user#7", "name": "Ada"}, 0x01f69a0a},
		{"empty string", []string{"pk"}, engine.Item{"pk": ""}, 0x9e3cd363},
		{"unicode", []string{"pk"}, engine.Item{"pk": "zoë→∑"}, 0x272a64d1},
		{"composite", []string{"pk", "sk"}, engine.Item{"pk": "tenant-1", "sk": engine.Number("9"), "x": true}, 0x2dc6e64b},
		{"binary", []string{"b"}, engine.Item{"b": []byte{0x00, 0xab, 0xff}}, 0xb0dc33a3},
		{"bool", []string{"id"}, engine.Item{"id": true}, 0xd115ee7b},
		{"missing attribute", []string{"id", "sk"}, engine.Item{"id": engine.Number("1")}, 0x77fc9b3a},
		{"no key names", nil, engine.Item{"id": engine.Number("3")}, 0x5465b825},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &migrator{key: tt.key}
			if got := m.keyHash(tt.item); got != tt.want {
				t.Errorf("keyHash(%v)=%#08x, want %#08x", tt.item, got, tt.want)
			}
		})
	}
}

// TestOriginHashIsFNV64aOfKeyString: the rollback origins journaled
// with a page's intent hash keys as FNV-1a (64 bits) of their
// KeyString; the rollback of a resumed session matches them.
func TestOriginHashIsFNV64aOfKeyString(t *testing.T) {
	t.Parallel()
	items := []engine.Item{
		{"id": engine.Number("42")},
		{"id": "user#7", "sk": []byte{0, 0xab}},
		{"id": engine.Number("1")}, // sk missing
		{"id": true, "sk": engine.Number("-2.5e3")},
	}
	for _, key := range [][]string{{"id"}, {"id", "sk"}, nil} {
		m := &migrator{key: key}
		for _, it := range items {
			h := fnv.New64a()
			h.Write([]byte(KeyString(engine.KeyOf(it, key), key)))
			if got, want := m.originHash(it), h.Sum64(); got != want {
				t.Errorf("originHash(%v) with key %v=%#x, want %#x", it, key, got, want)
			}
			h32 := fnv.New32a()
			h32.Write([]byte(KeyString(engine.KeyOf(it, key), key)))
			if got, want := m.keyHash(it), h32.Sum32(); got != want {
				t.Errorf("keyHash(%v) with key %v=%#x, want %#x", it, key, got, want)
			}
		}
	}
}
