package migrate

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
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

// originHash is the hash the origin record keeps of an item's key.
func (m *migrator) originHash(it engine.Item) uint64 {
	h := fnv.New64a()
	h.Write([]byte(KeyString(engine.KeyOf(it, m.key), m.key)))
	return h.Sum64()
}

// recordOrigin adds a planned write's origin to in unless the item was at
// version−1, which a rollback assumes when it finds no record.
func (m *migrator) recordOrigin(in *pageIntent, it engine.Item) {
	if m.atVersion() {
		return
	}
	from := fromVersionKey(it, m.vattr)
	if from == strconv.FormatInt(m.version-1, 10) || from == "none" && m.version == 1 {
		return // what the rollback assumes (to 0: the version is removed)
	}
	if in.From == nil {
		in.From = map[string][]byte{}
	}
	in.From[from] = binary.BigEndian.AppendUint64(in.From[from], m.originHash(it))
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
			v := int64(0) // "none": the rollback removes the version
			if from != "none" {
				if v, err = strconv.ParseInt(from, 10, 64); err != nil {
					return fmt.Errorf("read origins of %s: version %q: %w", m.sc.Of.ID, from, err)
				}
			}
			if m.origins == nil {
				m.origins = origins{}
			}
			for b := hashes; len(b) >= 8; b = b[8:] {
				m.origins[binary.BigEndian.Uint64(b)] = v
			}
		}
	}
	return nil
}

// rollbackVersion is the version the rollback writes for it: the one the
// forward step found it at.
func (m *migrator) rollbackVersion(it engine.Item) int64 {
	if v, ok := m.origins[m.originHash(it)]; ok {
		return v
	}
	return m.version - 1
}
