package journal_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// openTemp opens a fresh journal in t.TempDir() and returns it with its path.
func openTemp(t *testing.T) (*journal.Journal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "journal.db")
	j, err := journal.Open(path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() { j.Close() })
	return j, path
}

// rawDB opens a second, independent database/sql connection to the file,
// the way someone tampering with the journal would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatalf("open raw db: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func sessionInfo(env, runbook string, mode engine.Mode, started time.Time) engine.SessionInfo {
	src := []byte("lockstep: 1\nname: " + runbook + "\n")
	return engine.SessionInfo{
		Runbook: runbook, RunbookPath: "/runbooks/" + runbook + ".yaml", RunbookSource: src,
		Title: "Migrate " + runbook, Env: env, Mode: mode, Operator: "alice", Started: started,
	}
}

func createSession(t *testing.T, j *journal.Journal, info engine.SessionInfo) engine.SessionInfo {
	t.Helper()
	s, err := j.CreateSession(context.Background(), info)
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return s
}

// appendEvents appends n events (step.output with distinct text) and
// returns them as stored.
func appendEvents(t *testing.T, j *journal.Journal, sessionID string, n int) []engine.Event {
	t.Helper()
	var out []engine.Event
	for i := range n {
		ev := eventtest.Raw(engine.EvOutput, "backfill", map[string]any{"stream": "stdout", "text": i})
		ev.SessionID, ev.Operator = sessionID, "alice"
		got, err := j.Append(context.Background(), ev)
		if err != nil {
			t.Fatalf("Append #%d: %v", i+1, err)
		}
		out = append(out, got)
	}
	return out
}

// endSession ends a session the way the engine does: session.end, then
// EndSession.
func endSession(t *testing.T, j *journal.Journal, id string, outcome engine.Outcome) {
	t.Helper()
	ev := eventtest.Raw(engine.EvSessionEnd, "", map[string]any{"outcome": outcome})
	ev.SessionID, ev.Operator = id, "alice"
	if _, err := j.Append(context.Background(), ev); err != nil {
		t.Fatalf("Append session.end: %v", err)
	}
	if err := j.EndSession(context.Background(), id, outcome); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
}
