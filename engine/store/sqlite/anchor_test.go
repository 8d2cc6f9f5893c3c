package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestAnchors records journal anchors in lockstep_anchors (created on
// first use) in the target database: recording one twice is a no-op,
// another head for the same session and count is refused, and listing
// filters by runbook and environment; anchors outlive the store handle.
func TestAnchors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "target.db")
	spec := &runbook.StoreSpec{Kind: "sqlite", Path: path, Table: "items"}
	st, err := sqlite.OpenOrCreate(spec)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Anchors(t, st, func() engine.Anchorer {
		st.Close() // the anchors outlive the connection
		re, err := sqlite.Open(spec)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { re.Close() })
		return re
	})
}
