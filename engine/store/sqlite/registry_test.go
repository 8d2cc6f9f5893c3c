package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestRegistry records sessions in lockstep_registry (created on first
// use) in the target database; the records outlive the store handle.
func TestRegistry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "target.db")
	spec := &runbook.StoreSpec{Kind: "sqlite", Path: path, Table: "items"}
	st, err := sqlite.OpenOrCreate(spec)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Registry(t, st, func() engine.Registrar {
		st.Close() // the records outlive the connection
		re, err := sqlite.Open(spec)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { re.Close() })
		storetest.RegistryRunning(t, re)
		return re
	})
}
