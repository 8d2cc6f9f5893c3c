package main

import (
	"os"
	"runtime/debug"
	"time"
)

// Start-up collection: most commands start, read a runbook or a journal
// and exit within tens of milliseconds, and the runtime's first heap goal
// is 4 MB, which package initialisation (~2.5 MB) and a lint or a plan
// cross: a whole GC cycle, with its stop-the-world pauses, for a process
// about to exit. As cmd/compile does (base.AdjustStartingHeap), lockstep
// starts with a higher GC percent and returns to the usual one after
// startupGCWindow, so a long command (run, a fleet worker, the journal
// browser) collects as usual after its first moments.
const (
	startupGCPercent = 400
	startupGCWindow  = 200 * time.Millisecond
)

// relaxStartupGC raises the GC percent for startupGCWindow, unless the
// operator set GOGC (then the runtime's setting stands).
func relaxStartupGC() {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	prev := debug.SetGCPercent(startupGCPercent)
	time.AfterFunc(startupGCWindow, func() { debug.SetGCPercent(prev) })
}
