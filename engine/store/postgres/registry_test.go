package postgres_test

import (
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
)

// TestRegistry: the registry in the store's schema outlives the
// connection.
func TestRegistry(t *testing.T) {
	t.Parallel()
	st := newTable(t, "CREATE TABLE items (id text PRIMARY KEY, v int)", nil)
	storetest.Registry(t, st, func() engine.Registrar {
		re := open(t, st.DSNForTest(), "items")
		storetest.RegistryRunning(t, re)
		return re
	})
}
