package journal_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/internal/eventtest"
	"github.com/lockstep-run/lockstep/internal/journaltest"
)

// rehash recomputes, with plain SHA-256, the hashes of the session's
// events from its first one (whose prev_hash, the header hash, is kept)
// and its head: what someone rewriting the journal file without a key
// can do after editing an event.
func rehash(t *testing.T, db *sql.DB, sessionID string) {
	t.Helper()
	journaltest.Rechain(t, db, sessionID)
}

// editDecision rewrites the reason of the session's last step.output
// event, as someone covering their tracks would.
func editEvent(t *testing.T, db *sql.DB, sessionID string) {
	t.Helper()
	if _, err := db.Exec(`UPDATE events SET data = '{"stream":"stdout","text":"all good"}'
		WHERE session = ? AND seq = (SELECT MAX(seq) FROM events WHERE session = ? AND kind = 'step.output')`,
		sessionID, sessionID); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyDetectsSessionChainBreaks: deleting a whole session (its row
// and events), truncating one below what its successor saw, rewriting one
// with a recomputed chain, or renumbering sessions each passed a
// per-session check. The session chain must catch them.
func TestVerifyDetectsSessionChainBreaks(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, db *sql.DB, ids []string)
		want   string // in some failed result's reason
	}{
		{"untouched", func(*testing.T, *sql.DB, []string) {}, ""},
		{"middle session deleted", func(t *testing.T, db *sql.DB, ids []string) {
			mustExec(t, db, `DELETE FROM events WHERE session = ?`, ids[1])
			mustExec(t, db, `DELETE FROM sessions WHERE id = ?`, ids[1])
		}, "the previous session " + "%1" + " was deleted"},
		{"first session truncated and its head moved", func(t *testing.T, db *sql.DB, ids []string) {
			mustExec(t, db, `DELETE FROM events WHERE session = ?1 AND seq = (SELECT MAX(seq) FROM events WHERE session = ?1)`, ids[0])
			rehash(t, db, ids[0])
		}, "was truncated"},
		{"first session rewritten with a recomputed chain", func(t *testing.T, db *sql.DB, ids []string) {
			editEvent(t, db, ids[0])
			rehash(t, db, ids[0])
		}, "was rewritten"},
		{"sessions renumbered", func(t *testing.T, db *sql.DB, ids []string) {
			mustExec(t, db, `UPDATE sessions SET ordinal = ordinal + 10 WHERE id = ?`, ids[2])
		}, "session header changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			j, path := openTemp(t)
			var ids []string
			for range 3 {
				ids = append(ids, endedSession(t, j, engine.OutcomeCompleted).ID)
			}
			tt.tamper(t, rawDB(t, path), ids)
			results, err := j.VerifyAll(ctx)
			if err != nil {
				t.Fatalf("VerifyAll: %v", err)
			}
			want := strings.ReplaceAll(tt.want, "%1", ids[1])
			var bad []string
			for _, r := range results {
				if !r.OK {
					bad = append(bad, r.SessionID+": "+r.Reason)
				}
			}
			if want == "" {
				if len(bad) > 0 {
					t.Errorf("VerifyAll() found %q, want all OK", bad)
				}
				return
			}
			if !strings.Contains(strings.Join(bad, "\n"), want) {
				t.Errorf("VerifyAll() failures %q, want one containing %q", bad, want)
			}
		})
	}
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestKeyedChain: an edit followed by a recomputed SHA-256 chain passes a
// plain chain; with LOCKSTEP_JOURNAL_KEY the chain is HMAC-SHA256 and the
// same rewrite, done without the key, is detected. Without the key a
// keyed session cannot be checked (NeedsKey) nor written.
func TestKeyedChain(t *testing.T) {
	key := journal.WithKey([]byte("correct horse battery staple"))
	tests := []struct {
		name     string
		opts     []journal.Option
		rewrite  bool
		verifyBy []journal.Option
		wantOK   bool
		needsKey bool
	}{
		{"plain chain, rewritten: undetectable", nil, true, nil, true, false},
		{"keyed chain, untouched", []journal.Option{key}, false, []journal.Option{key}, true, false},
		{"keyed chain, rewritten without the key", []journal.Option{key}, true, []journal.Option{key}, false, false},
		{"keyed chain, verified without the key", []journal.Option{key}, false, nil, false, true},
		{"keyed chain, verified with another key", []journal.Option{key}, false,
			[]journal.Option{journal.WithKey([]byte("guess"))}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			_, path := openTemp(t)
			j, err := journal.Open(path, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			s := endedSession(t, j, engine.OutcomeCompleted)
			j.Close()
			if tt.rewrite {
				db := rawDB(t, path)
				editEvent(t, db, s.ID)
				rehash(t, db, s.ID)
			}
			ro, err := journal.OpenReadOnly(path, tt.verifyBy...)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			res, err := ro.Verify(ctx, s.ID)
			if err != nil || res.OK != tt.wantOK || res.NeedsKey != tt.needsKey {
				t.Errorf("Verify() = %+v, %v; want OK %v, NeedsKey %v", res, err, tt.wantOK, tt.needsKey)
			}
		})
	}
}

// TestKeyedSessionNeedsTheKeyToWrite: appending to a keyed session
// without its key would extend its chain with hashes nobody can check.
func TestKeyedSessionNeedsTheKeyToWrite(t *testing.T) {
	_, path := openTemp(t)
	j, err := journal.Open(path, journal.WithKey([]byte("k1")))
	if err != nil {
		t.Fatal(err)
	}
	s := createSession(t, j, sessionInfo("production", "r", engine.ModeLive, time.Time{}))
	j.Close()
	for _, opts := range [][]journal.Option{nil, {journal.WithKey([]byte("k2"))}} {
		w, err := journal.Open(path, opts...)
		if err != nil {
			t.Fatal(err)
		}
		ev := eventtest.Raw(engine.EvNote, "", map[string]any{"text": "hi"})
		ev.SessionID, ev.Operator = s.ID, "alice"
		if _, err := w.Append(context.Background(), ev); !errors.Is(err, journal.ErrKeyRequired) {
			t.Errorf("Append without the session's key: %v, want ErrKeyRequired", err)
		}
		w.Close()
	}
}
