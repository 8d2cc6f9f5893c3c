package migrate

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/lockstep-run/lockstep/engine"
)

// A rollback returns each item to the version it had before the forward
// migrate step wrote it, not to "version − 1": a runbook at version 3 may
// migrate items found at 1, at 2 or without a version. The forward step
// records the origin with the intent of each page it writes (pageIntent.From):
// for every version other than version−1, the 64-bit hashes of the keys of
// the items it found there (version−1, the common case, costs nothing). The
// rollback reads them back from the forward step's checkpoints in the
// journal. 64 bits, not the intent's 32: a collision between two items of
// different origins must stay negligible at hundreds of millions of items.
//
// A pushed-down page (migrate_pushdown.go) writes its whole key range with
// one UPDATE and reads no keys: when every row it writes comes from one
// version other than version−1 (an unversioned table's first migration),
// its intent records that version once for the range (RangeFrom, with
// the range's end, Upto; the checkpoint's cursor is its start), and the
// store sends any other page per row. The rollback lists the keys of
// each such range from the store (RangeKeyer) and hashes them as if they
// had been recorded one by one; a key recorded by the per-row path
// overrides its range. The range held no row at the target version
// besides the ones the page wrote, so the rows the rollback finds there
// at the target are the page's, or rows written since by others.

// originHash is the hash the origin record keeps of an item's key.
func (m *migrator) originHash(it engine.Item) uint64 {
	var buf [128]byte
	return fnv64a(appendKeyString(buf[:0], it, m.key))
}

// fnv64a is FNV-1a (64 bits) of b.
func fnv64a(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// pageOrigins collects the origins of a page's planned writes
// (pageIntent.From) as intentOf plans them.
type pageOrigins struct {
	vattr string
	skip  bool   // a rollback or contract step records none
	prev  string // version−1: what the rollback assumes, not recorded
	none  bool   // no version is what the rollback assumes (version 1)
	size  int    // the page's plans: the first origin's room
	// runs holds each origin's hashes, in the order first seen: a page
	// has one or a few, so a scan beats a map lookup per row.
	runs []originRun
}

type originRun struct {
	from   string
	hashes []byte
}

// originsOf starts the origin record of a page of n plans.
func (m *migrator) originsOf(n int) pageOrigins {
	return pageOrigins{vattr: m.vattr, skip: m.atVersion(), prev: strconv.FormatInt(m.version-1, 10), none: m.version == 1, size: n}
}

// add records the origin of a planned write of it, whose KeyString is
// ks, unless the item was at version−1, which a rollback assumes when it
// finds no record.
func (o *pageOrigins) add(it engine.Item, ks []byte) {
	if o.skip {
		return
	}
	from := fromVersionKey(it, o.vattr)
	if from == o.prev || o.none && from == "none" {
		return // what the rollback assumes (to 0: the version is removed)
	}
	i := len(o.runs) - 1
	for ; i >= 0 && o.runs[i].from != from; i-- {
	}
	if i < 0 {
		r := originRun{from: from}
		if len(o.runs) == 0 {
			r.hashes = make([]byte, 0, 8*o.size)
		}
		o.runs = append(o.runs, r)
		i = len(o.runs) - 1
	}
	o.runs[i].hashes = binary.BigEndian.AppendUint64(o.runs[i].hashes, fnv64a(ks))
}

// record returns the page's origins as pageIntent.From (nil: none).
func (o *pageOrigins) record() map[string][]byte {
	if len(o.runs) == 0 {
		return nil
	}
	from := make(map[string][]byte, len(o.runs))
	for _, r := range o.runs {
		from[r.from] = r.hashes
	}
	return from
}

// origins maps key hashes to the version their item had before the
// forward step (0: none); items not in it were at version−1.
type origins map[uint64]int64

// loadOrigins reads the origins the forward step sc.Of recorded in the
// session's journal, for the rollback of it.
func (m *migrator) loadOrigins(ctx context.Context) error {
	if !m.movesDown() || m.sc.Of == nil || m.sc.Journal == nil {
		return nil
	}
	evs, err := m.sc.Journal.Events(ctx, m.sc.Session.ID)
	if err != nil {
		return fmt.Errorf("read origins of %s: %w", m.sc.Of.ID, err)
	}
	type keyed struct {
		v      int64
		hashes []byte
	}
	type ranged struct {
		v int64
		r engine.KeyRange
	}
	var keys []keyed
	var ranges []ranged
	for _, ev := range evs {
		if ev.Kind != engine.EvCheckpoint || ev.Step != m.sc.Of.ID {
			continue
		}
		c, err := engine.DecodeAs[engine.Checkpointed](ev)
		var cp checkpointData
		if err != nil || json.Unmarshal(c.Data, &cp) != nil || cp.Intent == nil {
			continue
		}
		for from, hashes := range cp.Intent.From {
			v, err := originVersion(from)
			if err != nil {
				return fmt.Errorf("read origins of %s: %w", m.sc.Of.ID, err)
			}
			keys = append(keys, keyed{v, hashes})
		}
		if in := cp.Intent; in.Range && in.RangeFrom != "" {
			v, err := originVersion(in.RangeFrom)
			if err != nil {
				return fmt.Errorf("read origins of %s: %w", m.sc.Of.ID, err)
			}
			ranges = append(ranges, ranged{v, engine.KeyRange{Segment: c.Segment, TotalSegments: max(cp.Segments, 1), After: c.Cursor, Upto: in.Upto}})
		}
	}
	if len(keys)+len(ranges) > 0 && m.origins == nil {
		m.origins = origins{}
	}
	if len(ranges) > 0 {
		rk, ok := m.store.(engine.RangeKeyer)
		if !ok {
			return fmt.Errorf("read origins of %s: its pushed-down pages recorded the versions of key ranges, and this store cannot list a range's keys", m.sc.Of.ID)
		}
		for _, r := range ranges {
			err := rk.RangeKeys(ctx, r.r, func(key engine.Item) error {
				m.origins[m.originHash(key)] = r.v
				return nil
			})
			if err != nil {
				return fmt.Errorf("read origins of %s: segment %d: %w", m.sc.Of.ID, r.r.Segment, err)
			}
		}
	}
	for _, k := range keys { // the per-row path's records win over a range's
		for b := k.hashes; len(b) >= 8; b = b[8:] {
			m.origins[binary.BigEndian.Uint64(b)] = k.v
		}
	}
	return nil
}

// originVersion parses a recorded origin: "none" (0, the rollback removes
// the version) or a number.
func originVersion(from string) (int64, error) {
	if from == "none" {
		return 0, nil
	}
	v, err := strconv.ParseInt(from, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("version %q: %w", from, err)
	}
	return v, nil
}

// rollbackVersion is the version the rollback writes for it: the one the
// forward step found it at.
func (m *migrator) rollbackVersion(it engine.Item) int64 {
	if v, ok := m.origins[m.originHash(it)]; ok {
		return v
	}
	return m.version - 1
}
