// Package journaltest holds test helpers that act on a journal file the
// way someone editing it behind lockstep's back would. Tests only.
package journaltest

import (
	"database/sql"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
)

// Rechain recomputes, with plain SHA-256, the hash of every event of the
// session — keeping the first one's prev_hash, the header hash — and the
// session's head: what someone rewriting the journal file without a key
// can do after editing its events. db is the journal opened read-write.
func Rechain(t testing.TB, db *sql.DB, sessionID string) {
	t.Helper()
	rows, err := db.Query(`SELECT seq, time, step, kind, operator, COALESCE(data, ''), prev_hash FROM events
		WHERE session = ? ORDER BY seq`, sessionID)
	if err != nil {
		t.Fatal(err)
	}
	var evs []engine.Event
	for rows.Next() {
		ev := engine.Event{SessionID: sessionID}
		var tm, kind, data string
		if err := rows.Scan(&ev.Seq, &tm, &ev.Step, &kind, &ev.Operator, &data, &ev.PrevHash); err != nil {
			t.Fatal(err)
		}
		ev.Kind, ev.Data = engine.EventKind(kind), []byte(data)
		if ev.Time, err = time.Parse(time.RFC3339Nano, tm); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	rows.Close()
	prev := ""
	for i, ev := range evs {
		if i > 0 {
			ev.PrevHash = prev
		}
		prev = journal.EventHash(ev)
		if _, err := db.Exec(`UPDATE events SET prev_hash = ?, hash = ? WHERE session = ? AND seq = ?`,
			ev.PrevHash, prev, sessionID, ev.Seq); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`UPDATE sessions SET head_seq = ?, head_hash = ? WHERE id = ?`, len(evs), prev, sessionID); err != nil {
		t.Fatal(err)
	}
}
