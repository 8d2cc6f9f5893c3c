package journal

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// v1Journal writes, at path, a journal as lockstep with schema 1 wrote it:
// one ended session whose chain uses the unlinked v1 header.
func v1Journal(t *testing.T, path string) engine.SessionInfo {
	t.Helper()
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(migrations[0] + "; PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	s := engine.SessionInfo{ID: "20260101T000000-abcd", Runbook: "r", RunbookPath: "/r.yaml", RunbookSHA256: "aa",
		Title: "R", Env: "prod", Mode: engine.ModeLive, Operator: "alice", Started: normTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	if _, err := db.Exec(`INSERT INTO sessions (id, runbook, runbook_path, runbook_sha256, title, env, mode, operator, started)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, s.Runbook, s.RunbookPath, s.RunbookSHA256, s.Title, s.Env, string(s.Mode),
		s.Operator, formatStoreTime(s.Started)); err != nil {
		t.Fatal(err)
	}
	prev := HeaderHash(s)
	for i, kind := range []engine.EventKind{engine.EvOutput, engine.EvSessionEnd} {
		ev := engine.Event{SessionID: s.ID, Seq: int64(i + 1), Time: s.Started.Add(time.Duration(i+1) * time.Second),
			Kind: kind, Operator: "alice", Data: []byte(`{"outcome":"completed"}`), PrevHash: prev}
		ev.Hash = EventHash(ev)
		if _, err := db.Exec(`INSERT INTO events (session, seq, time, step, kind, operator, data, prev_hash, hash)
			VALUES (?, ?, ?, '', ?, ?, ?, ?, ?)`, s.ID, ev.Seq, formatStoreTime(ev.Time), string(ev.Kind), ev.Operator,
			string(ev.Data), ev.PrevHash, ev.Hash); err != nil {
			t.Fatal(err)
		}
		prev = ev.Hash
		if _, err := db.Exec(`UPDATE sessions SET head_seq = ?, head_hash = ?, ended = ?, outcome = 'completed' WHERE id = ?`,
			ev.Seq, ev.Hash, formatStoreTime(ev.Time), s.ID); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestReadAndUpgradeASchema1Journal: a journal from before the session
// chain stays readable and verifiable read-only (through an upgraded
// private copy, the file untouched), and the first write upgrades it:
// the old session keeps its v1 chain, the next one links to it.
func TestReadAndUpgradeASchema1Journal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal.db")
	old := v1Journal(t, path)
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatalf("OpenReadOnly(schema 1) = %v", err)
	}
	if res, err := ro.VerifyAll(ctx); err != nil || len(res) != 1 || !res[0].OK {
		t.Errorf("read-only VerifyAll = %+v, %v; want the old session OK", res, err)
	}
	ro.Close()
	if ro.tmpDir == "" || exists(ro.tmpDir) {
		t.Errorf("private copy %q not used or not removed", ro.tmpDir)
	}
	var v int
	raw, _ := sql.Open("sqlite3", path)
	raw.QueryRow("PRAGMA user_version").Scan(&v)
	raw.Close()
	if v != 1 {
		t.Fatalf("a read-only open changed the schema to %d", v)
	}

	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	s, err := j.CreateSession(ctx, engine.SessionInfo{Runbook: "r", Env: "prod", Mode: engine.ModeLive, Operator: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	hd, err := readHeader(ctx, j.db, s.ID)
	if err != nil || hd.prev.session != old.ID || hd.ordinal != 2 || hd.chain != chainV2 {
		t.Errorf("new session header = %+v, %v; want ordinal 2 linked to %s", hd, err, old.ID)
	}
	if res, err := j.VerifyAll(ctx); err != nil || len(res) != 2 || !res[0].OK || !res[1].OK {
		t.Errorf("VerifyAll after upgrade = %+v, %v; want both OK", res, err)
	}
}
