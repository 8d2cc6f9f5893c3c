package migrate

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/lockstep-run/lockstep/engine"
)

// pageIntent is journaled with the checkpoint that precedes a page's
// writes: how many items the page plans to write and a 32-bit hash of
// each one's key (4 bytes an item, base64 in the event). A resumed step
// redoes the page that follows its last checkpoint; the items of that
// page it finds already at the target version and whose key hash is in
// the intent were written by the interrupted attempt after its last
// checkpoint: they count as migrated (and recovered), not as already.
// The resumed segment looks for them until it has found them all (its
// pages may be smaller than the interrupted attempt's: a lower limit).
type pageIntent struct {
	Writes int    `json:"writes"`
	Keys   []byte `json:"keys,omitempty"` // big-endian FNV-1a 32-bit hashes of the keys
	// From records the version each planned write found its item at,
	// when not version−1, for a truthful rollback (rollback_origins.go).
	From map[string][]byte `json:"from,omitempty"`
	// Range marks a pushdown page (migrate_pushdown.go): Writes of the
	// Rows rows of its key range, written by one atomic UPDATE; no keys.
	Range bool `json:"range,omitempty"`
	Rows  int  `json:"rows,omitempty"`
	// RangeFrom is the version every row a pushdown page writes had,
	// when not version−1 ("none": no version); Upto ends the page's key
	// range (nil: the segment's end). See rollback_origins.go.
	RangeFrom string `json:"range_from,omitempty"`
	Upto      []byte `json:"upto,omitempty"`
}

// intentOf returns the intent of a planned page: its writes, and the
// items the resumed run counts as recovered (written by the interrupted
// attempt), so that a second interruption before the page is written
// again still knows them. nil when the page writes nothing.
func (m *migrator) intentOf(plans []plan, rec intentKeys) *pageIntent {
	if m.dry || m.sc.Journal == nil && m.sink == nil {
		return nil
	}
	in := &pageIntent{}
	from := m.originsOf(len(plans))
	var buf [128]byte // an item's key text, on the stack for usual keys
	for _, p := range plans {
		write := p.out == outWrite
		if !write && (p.out != outAlready || len(rec) == 0) {
			continue
		}
		ks := appendKeyString(buf[:0], p.item, m.key) // built once for both hashes
		h := fnv32a(ks)
		if !write && !rec.has(h) {
			continue
		}
		if in.Keys == nil {
			in.Keys = make([]byte, 0, 4*len(plans))
		}
		in.Writes++
		in.Keys = binary.BigEndian.AppendUint32(in.Keys, h)
		if write {
			from.add(p.item, ks)
		}
	}
	if in.Writes == 0 {
		return nil
	}
	in.From = from.record()
	return in
}

// keyHash is the hash an intent keeps of an item's key: FNV-1a (32 bits)
// of its KeyString. Journals and resumed runs depend on the values
// (TestKeyHashIsStable pins them).
func (m *migrator) keyHash(it engine.Item) uint32 {
	var buf [128]byte // the key's text, on the stack for usual keys
	return fnv32a(appendKeyString(buf[:0], it, m.key))
}

// fnv32a is FNV-1a (32 bits) of b.
func fnv32a(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

// appendKeyString appends KeyString(engine.KeyOf(it, names), names) to
// b without building the key item or the intermediate strings.
func appendKeyString(b []byte, it engine.Item, names []string) []byte {
	if len(names) == 0 {
		return append(b, KeyString(engine.KeyOf(it, names), names)...)
	}
	for i, k := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(b, k...), '=')
		switch x := it[k].(type) { // as valueString
		case string:
			b = append(b, x...)
		case engine.Number:
			b = append(b, x...)
		case []byte:
			b = hex.AppendEncode(b, x)
		default:
			b = fmt.Append(b, x)
		}
	}
	return b
}

// intentKeys is the set of key hashes of a journaled intent.
type intentKeys map[uint32]struct{}

// keys returns the intent's key hashes as a set (nil for no intent).
func (in *pageIntent) keys() intentKeys {
	if in == nil || len(in.Keys) < 4 {
		return nil
	}
	set := make(intentKeys, len(in.Keys)/4)
	for b := in.Keys; len(b) >= 4; b = b[4:] {
		set[binary.BigEndian.Uint32(b)] = struct{}{}
	}
	return set
}

func (k intentKeys) has(h uint32) bool {
	_, ok := k[h]
	return ok
}

// take reports whether h is in the set and removes it: each key of an
// intent is recovered once at most.
func (k intentKeys) take(h uint32) bool {
	if !k.has(h) {
		return false
	}
	delete(k, h)
	return true
}
