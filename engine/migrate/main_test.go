package migrate_test

import (
	"os"
	"testing"

	"github.com/lockstep-run/lockstep/engine/enginetest"
)

// TestMain keeps the tests' journals and stores in memory (see
// enginetest.Main): their syncs, not the engine, were most of the time.
func TestMain(m *testing.M) { os.Exit(enginetest.Main(m)) }
