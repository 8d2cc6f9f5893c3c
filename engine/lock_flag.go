package engine

import (
	"context"
)

// FlagHolder is implemented by Leasers whose maintenance flags may be
// shared by several locks (runbooks of different datasets, or one dataset
// in several environments, whose flag is the same attribute of the same
// row). The store records the flag's holders and its value from before
// the first of them next to the flag and updates them with the flag in
// one atomic write, so the flag stays on while any holder is left and the
// last one out restores the earlier value. Without it the engine falls
// back to SetFlag: on at lock, removed at unlock.
type FlagHolder interface {
	// HoldFlag adds holder to the flag's holders and sets it on. Holding
	// it again is harmless and sets it on again (a resume).
	HoldFlag(ctx context.Context, table string, key Item, attr, holder string) (FlagHold, error)
	// UnholdFlag removes holder from the flag's holders; when none is
	// left it restores the flag's value from before the first holder
	// (removing it, or NULL, when it was absent). A holder not holding
	// the flag changes nothing.
	UnholdFlag(ctx context.Context, table string, key Item, attr, holder string) (FlagHold, error)
}

// FlagHold is a shared maintenance flag's state after HoldFlag or
// UnholdFlag.
type FlagHold struct {
	Before   any      // the value before the first holder set it; nil when absent
	Others   []string // the holders other than the caller, sorted
	Held     bool     // UnholdFlag: the caller was a holder
	Restored bool     // UnholdFlag: it was the last holder; Before is back
}

// FlagRelease is what letting go of a lock's maintenance flag did.
type FlagRelease struct {
	Restored bool     // the flag is back to its value from before the locks
	Others   []string // the locks still holding it on
}

// flagHolderID names a lock among a flag's holders: its lease's dataset
// and environment. A session that takes an expired lease over takes the
// flag over with it; a session that lost its lease never lets it go.
func flagHolderID(l Lease) string { return l.Dataset + "/" + l.Env }

// HoldFlag sets m's flag on for the lock holding lease l.
func HoldFlag(ctx context.Context, leaser Leaser, m *MaintenanceState, l Lease) (FlagHold, error) {
	if fh, ok := leaser.(FlagHolder); ok {
		return fh.HoldFlag(ctx, m.Table, flagKey(m.Key), m.Attribute, flagHolderID(l))
	}
	return FlagHold{}, leaser.SetFlag(ctx, m.Table, flagKey(m.Key), m.Attribute, true)
}

// UnholdFlag lets go of m's flag for the lock holding lease l.
func UnholdFlag(ctx context.Context, leaser Leaser, m *MaintenanceState, l Lease) (FlagRelease, error) {
	if fh, ok := leaser.(FlagHolder); ok {
		h, err := fh.UnholdFlag(ctx, m.Table, flagKey(m.Key), m.Attribute, flagHolderID(l))
		if err != nil {
			return FlagRelease{}, err
		}
		return FlagRelease{Restored: h.Restored, Others: h.Others}, nil
	}
	if err := leaser.SetFlag(ctx, m.Table, flagKey(m.Key), m.Attribute, false); err != nil {
		return FlagRelease{}, err
	}
	return FlagRelease{Restored: true}, nil
}

// flagKey turns a maintenance key (strings from YAML) into an item key.
func flagKey(k map[string]string) Item {
	it := Item{}
	for a, v := range k {
		it[a] = v
	}
	return it
}
