package postgres_test

import (
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
)

// TestAnchors: journal anchors in the database outlive the connection.
func TestAnchors(t *testing.T) {
	t.Parallel()
	st := newTable(t, "CREATE TABLE items (id text PRIMARY KEY, v int)", nil)
	storetest.Anchors(t, st, func() engine.Anchorer { return open(t, st.DSNForTest(), "items") })
}
