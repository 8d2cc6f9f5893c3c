package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/internal/eventtest"
	"github.com/lockstep-run/lockstep/internal/journaltest"
)

// TestMigrateResumeRefusesUnvouchedCheckpoints: the checkpoints table is
// not hashed, so someone editing it (marking segments done, deleting or
// forging a row) could make a resumed migrate skip rows and still report
// success. Resume must trust a checkpoint row only when the session's
// verified chain holds the same cursor, and refuse otherwise, naming the
// row and `lockstep journal verify`.
func TestMigrateResumeRefusesUnvouchedCheckpoints(t *testing.T) {
	t.Parallel()
	done := "\x00lockstep:segment-done"
	tests := []struct {
		name   string
		tamper string // ?1 session, ?2 the segment-done cursor
	}{
		{"segments marked done", `UPDATE checkpoints SET cursor = ?2 WHERE session = ?1`},
		{"cursor moved forward", `UPDATE checkpoints SET cursor = (SELECT cursor FROM checkpoints WHERE session = ?1 AND segment = 1)
			WHERE session = ?1 AND segment = 0`},
		{"forged row", `INSERT INTO checkpoints (session, step, segment, cursor, updated)
			VALUES (?1, 'bump', 5, ?2, '2026-12-01T00:00:00.000000Z')`},
		{"row deleted", `DELETE FROM checkpoints WHERE session = ?1 AND segment = (SELECT MIN(segment) FROM checkpoints WHERE session = ?1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := rig.DataRunbook(t, 2, "", rig.CounterSteps)
			r := rig.NewSQLite(t, rb, 2000)
			r.St = perRowSQLite{r.St.(*sqlite.Store)}
			ctx, cancel := context.WithCancel(context.Background())
			sc := r.StepContext("bump")
			sc.Journal = &midwayJournal{Journal: r.J, done: done, cancel: cancel, midway: map[int]bool{}}
			if _, err := rig.ExecutorFor(sc.Step.Kind).Execute(ctx, sc); !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run error = %v, want context.Canceled", err)
			}
			db := journalDB(t, r)
			var distinct int
			if err := db.QueryRow(`SELECT count(DISTINCT cursor) FROM checkpoints WHERE session = ?`, r.Session.ID).Scan(&distinct); err != nil || distinct < 2 {
				t.Fatalf("the interrupted run left %d distinct checkpoint cursors (%v): the tampering would change nothing", distinct, err)
			}
			if _, err := db.Exec(tt.tamper, r.Session.ID, []byte(done)); err != nil {
				t.Fatalf("tamper: %v", err)
			}
			sc = r.StepContext("bump")
			sc.Resumed, sc.Attempt = true, 2
			_, err := r.Run(sc)
			if err == nil {
				left := 0
				for _, it := range r.All() {
					if rig.AttrNum(it, "v") != 2 {
						left++
					}
				}
				t.Fatalf("resume after tampering succeeded with %d of 2000 rows never migrated; want refused", left)
			}
			if !errors.Is(err, journal.ErrUnvouched) || !strings.Contains(err.Error(), "lockstep journal verify") {
				t.Errorf("resume error = %v, want journal.ErrUnvouched naming `lockstep journal verify`", err)
			}
			res, verr := r.J.Verify(r.Ctx, r.Session.ID)
			if verr != nil || res.OK || !strings.Contains(res.Reason, "checkpoint") {
				t.Errorf("Verify() = %+v, %v; want a checkpoint mismatch", res, verr)
			}
		})
	}
}

// midwayJournal cancels the run once two segments each hold a checkpoint
// in the middle of their range: a crash that leaves distinct cursors to
// tamper with. Counting checkpoints instead (the first eight) depended on
// how fast the journal syncs: with fast syncs one segment took all eight
// before another saved any.
// perRowSQLite is the SQLite store without pushdown: its SQLDialect,
// shadowed with another signature, leaves engine.Pushdowner unmet. The
// per-row path's pipeline interleaves the segments, so that both hold a
// mid-range checkpoint when midwayJournal cancels the run; a pushed-down
// segment may finish its pages before the other starts.
type perRowSQLite struct{ *sqlite.Store }

func (perRowSQLite) SQLDialect() {}

type midwayJournal struct {
	engine.Journal
	done   string // the segment-done cursor
	cancel context.CancelFunc
	mu     sync.Mutex
	midway map[int]bool // segment → its last checkpoint is mid-range
}

func (j *midwayJournal) SaveCheckpoint(ctx context.Context, s, step string, seg int, cur []byte, data any) error {
	err := j.Journal.SaveCheckpoint(ctx, s, step, seg, cur, data)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.midway[seg] = err == nil && len(cur) > 0 && string(cur) != j.done
	n := 0
	for _, mid := range j.midway {
		if mid {
			n++
		}
	}
	if n >= 2 {
		j.cancel()
	}
	return err
}

// journalDB opens the rig's journal file the way someone editing it with
// the sqlite3 CLI would; closed when the test ends.
func journalDB(t *testing.T, r *rig.Data) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", filepath.Join(r.Dir, "journal.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// recordRehearsal stores a rehearsal of runbook name at version with the
// given SHA-256 in staging that ended with outcome (completed or failed),
// as a session would have: session.start, session.end, then its applied
// record.
func recordRehearsal(t *testing.T, j *journal.Journal, name string, version int, sha string, outcome engine.Outcome) engine.SessionInfo {
	t.Helper()
	ctx := context.Background()
	s, err := j.CreateSession(ctx, engine.SessionInfo{Runbook: name, RunbookSHA256: sha, Title: name,
		Env: "staging", Mode: engine.ModeRehearsal, Operator: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []engine.Event{
		eventtest.Raw(engine.EvSessionStart, "", map[string]any{"runbook": name, "version": version, "sha256": sha,
			"env": "staging", "mode": engine.ModeRehearsal, "operator": "carol"}),
		eventtest.Raw(engine.EvSessionEnd, "", map[string]any{"outcome": outcome}),
	} {
		ev.SessionID, ev.Operator = s.ID, "carol"
		if _, err := j.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.EndSession(ctx, s.ID, outcome); err != nil {
		t.Fatal(err)
	}
	if err := j.RecordApplied(ctx, engine.Applied{Name: name, Version: version, Env: "staging", RunbookSHA256: sha,
		SessionID: s.ID, Mode: engine.ModeRehearsal, Status: string(outcome), Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRehearsalDriftRefusesForgedApplied: applied rows are not hashed, so
// one forged row claiming a completed rehearsal of this very runbook let
// a protected live run skip the rehearsal-drift prompt. A row the chain
// does not vouch for must stop the run, naming the row.
func TestRehearsalDriftRefusesForgedApplied(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		outcome engine.Outcome // of the real rehearsal
		forge   string         // ?1 the runbook's SHA-256, ?2 the real rehearsal's session
		target  string         // in the error
	}{
		{"row without a session", engine.OutcomeCompleted, `INSERT INTO applied (name, version, env, runbook_sha256, session, mode, status, time)
			VALUES ('t', 1, 'staging', ?1, NULL, 'rehearsal', 'completed', '2099-12-01T00:00:00.000000Z')`, "names no session"},
		{"sha edited", engine.OutcomeCompleted, `UPDATE applied SET runbook_sha256 = ?1 WHERE session = ?2`, "its session ran runbook SHA-256"},
		{"failed rehearsal made completed", engine.OutcomeFailed,
			`UPDATE applied SET status = 'completed', runbook_sha256 = ?1 WHERE session = ?2`, "its session ran runbook SHA-256"},
		{"row pointing at another session", engine.OutcomeCompleted, `INSERT INTO applied (name, version, env, runbook_sha256, session, mode, status, time)
			SELECT 't', 1, env, ?1, id, 'rehearsal', 'completed', '2099-12-02T00:00:00.000000Z' FROM sessions WHERE id = ?2`,
			"its session ran runbook SHA-256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := rig.Answers(map[string][]rig.Reply{"confirm_env": {{Ans: engine.Answer{Value: "prod"}}}})
			h := rig.NewHarness(t, protectedRunbook, p)
			h.Cfg.Env, h.Cfg.Clock = "prod", rig.FixedClock{T: paris(t, "2026-11-24 23:00")}
			old := recordRehearsal(t, h.J, "t", 1, "0123abcd", tt.outcome)
			db, err := sql.Open("sqlite3", h.J.Path()+"?_busy_timeout=5000")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(tt.forge, h.Cfg.Runbook.SHA256, old.ID); err != nil {
				t.Fatalf("forge: %v", err)
			}
			s, err := engine.Start(context.Background(), h.Cfg)
			if err == nil {
				h.S = s
				t.Fatalf("Start() with a forged applied row succeeded (drift prompts asked: %v); want refused", p.Kinds())
			}
			if !errors.Is(err, journal.ErrUnvouched) || !strings.Contains(err.Error(), tt.target) ||
				!strings.Contains(err.Error(), "lockstep journal verify") {
				t.Errorf("Start() error = %v, want journal.ErrUnvouched saying %q and naming `lockstep journal verify`", err, tt.target)
			}
		})
	}
}

// rewriteJournal edits the data of the session's last event and
// recomputes, with plain SHA-256, every hash after the header: a full
// rewrite of the journal file, which its own chain cannot catch.
func rewriteJournal(t *testing.T, db *sql.DB, sessionID string) {
	t.Helper()
	if _, err := db.Exec(`UPDATE events SET data = '{"outcome":"completed","note":"nothing to see"}'
		WHERE session = ?1 AND seq = (SELECT MAX(seq) FROM events WHERE session = ?1)`, sessionID); err != nil {
		t.Fatal(err)
	}
	journaltest.Rechain(t, db, sessionID)
}

// TestSessionEndAnchorsTheJournal: a live session that used its store
// records its end and final head in the store's registry; a full rewrite of the journal file
// (hashes recomputed) passes the journal's own chain but not its anchor,
// and a deleted session is missing from the journal.
func TestSessionEndAnchorsTheJournal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func(t *testing.T, db *sql.DB, id string)
		want   string // in the anchor check's reason; "" = OK
	}{
		{"untouched", func(*testing.T, *sql.DB, string) {}, ""},
		{"journal rewritten", rewriteJournal, "session rewritten"},
		{"session deleted", func(t *testing.T, db *sql.DB, id string) {
			for _, q := range []string{`DELETE FROM checkpoints WHERE session = ?`, `DELETE FROM applied WHERE session = ?`,
				`DELETE FROM events WHERE session = ?`, `DELETE FROM sessions WHERE id = ?`} {
				if _, err := db.Exec(q, id); err != nil {
					t.Fatal(err)
				}
			}
		}, "missing from the journal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			rb := rig.DataRunbook(t, 2, "", rig.CounterSteps)
			dr := rig.NewSQLite(t, rb, 50)
			dbPath := filepath.Join(dr.Dir, "data.db")
			cfg := rig.SQLiteSessionConfig(t, rb, dbPath)
			s, err := engine.Start(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if out, err := s.Run(ctx); err != nil || out != engine.OutcomeCompleted {
				t.Fatalf("Run() = %v, %v; want completed", out, err)
			}
			j := cfg.Journal.(*journal.Journal)
			info, err := j.LatestSession(ctx, engine.SessionFilter{})
			if err != nil {
				t.Fatal(err)
			}
			st, err := cfg.Stores(ctx, rb.Env("test").Store)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			recs, err := st.(engine.Registrar).Registry(ctx, "test")
			if err != nil || len(recs) != 1 || recs[0].SessionID != info.ID || recs[0].Head != info.Head ||
				recs[0].Events != info.Events || recs[0].Outcome != engine.OutcomeCompleted || recs[0].Migrated != 50 {
				t.Fatalf("Registry() = %+v, %v; want one completed with 50 migrated and the session's head %s at %d",
					recs, err, info.Head, info.Events)
			}
			anchors := engine.RegistryAnchors(recs)
			db, err := sql.Open("sqlite3", j.Path()+"?_busy_timeout=5000")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			tt.tamper(t, db, info.ID)
			if res, err := j.Verify(ctx, info.ID); tt.name == "journal rewritten" && (err != nil || !res.OK) {
				t.Fatalf("the rewrite should pass the journal's own chain: Verify() = %+v, %v", res, err)
			}
			checks, err := engine.CheckAnchors(ctx, j, anchors)
			if err != nil || len(checks) != 1 {
				t.Fatalf("CheckAnchors() = %+v, %v", checks, err)
			}
			if c := checks[0]; c.OK != (tt.want == "") || !strings.Contains(c.Reason, tt.want) {
				t.Errorf("CheckAnchors() = %+v, want reason containing %q", c, tt.want)
			}
		})
	}
}
