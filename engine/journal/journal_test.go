package journal_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
)

func TestAppendReadRoundTrip(t *testing.T) {
	ctx := context.Background()
	j, _ := openTemp(t)
	s := createSession(t, j, sessionInfo("staging", "split-address", engine.ModeRehearsal, time.Time{}))
	if ok, _ := regexp.MatchString(`^\d{8}T\d{6}-[0-9a-f]{4}$`, s.ID); !ok {
		t.Errorf("session id = %q, want like 20261123T193702-4f2a", s.ID)
	}
	at := time.Date(2026, 11, 23, 19, 37, 2, 123456789, time.FixedZone("CET", 3600))
	in := []engine.Event{
		{Kind: engine.EvSessionStart, Data: json.RawMessage(`{"env":"staging"}`), Time: at},
		{Kind: engine.EvStepStart, Step: "size", Data: json.RawMessage(`{"kind":"estimate","attempt":1}`)},
		{Kind: engine.EvPause}, // no data
		{Kind: engine.EvNote, Data: json.RawMessage(`{"text":"héllo \u2603"}`)},
	}
	var stored []engine.Event
	for _, ev := range in {
		ev.SessionID, ev.Operator = s.ID, "bob"
		got, err := j.Append(ctx, ev)
		if err != nil {
			t.Fatalf("Append(%s): %v", ev.Kind, err)
		}
		stored = append(stored, got)
	}
	if got, want := stored[0].Time, at.UTC().Truncate(time.Microsecond); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Time = %v, want %v in UTC", got, want)
	}
	read, err := j.Events(ctx, s.ID)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	if len(read) != len(in) {
		t.Fatalf("Events() returned %d events, want %d", len(read), len(in))
	}
	for i, ev := range read {
		w := stored[i]
		if ev.Seq != int64(i+1) || !ev.Time.Equal(w.Time) || ev.Kind != in[i].Kind || ev.Step != in[i].Step ||
			string(ev.Data) != string(in[i].Data) || ev.Operator != "bob" || ev.Hash != w.Hash || ev.PrevHash != w.PrevHash {
			t.Errorf("event %d = %+v, want %+v", i+1, ev, w)
		}
	}
	info, err := j.Session(ctx, s.ID)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if info.Events != 4 || string(info.RunbookSource) != string(s.RunbookSource) || !info.Started.Equal(s.Started) {
		t.Errorf("Session() = %+v, want 4 events and the stored source/start", info)
	}
}

func TestHashChainLinks(t *testing.T) {
	j, _ := openTemp(t)
	s := createSession(t, j, sessionInfo("staging", "split-address", engine.ModeLive, time.Time{}))
	evs := appendEvents(t, j, s.ID, 5)
	if got, want := evs[0].PrevHash, journal.SessionHeaderHash(t, j, s.ID); got != want {
		t.Errorf("first PrevHash = %s, want header hash %s", got, want)
	}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Errorf("Seq = %d, want %d", ev.Seq, i+1)
		}
		if got := journal.EventHash(ev); got != ev.Hash {
			t.Errorf("event %d Hash = %s, recomputed %s", ev.Seq, ev.Hash, got)
		}
		if i > 0 && ev.PrevHash != evs[i-1].Hash {
			t.Errorf("event %d PrevHash = %s, want previous hash %s", ev.Seq, ev.PrevHash, evs[i-1].Hash)
		}
	}
}

func TestEventHashDistinguishesFieldBoundaries(t *testing.T) {
	base := engine.Event{SessionID: "s", Seq: 1, Time: time.Unix(0, 0), Step: "ab", Kind: "c", Operator: "x"}
	moved := base
	moved.Step, moved.Kind = "a", "bc"
	if journal.EventHash(base) == journal.EventHash(moved) {
		t.Error("EventHash: step/kind boundary shift hashes alike")
	}
}

func TestAppendRejects(t *testing.T) {
	j, _ := openTemp(t)
	s := createSession(t, j, sessionInfo("staging", "r", engine.ModeLive, time.Time{}))
	tests := []struct {
		name string
		ev   engine.Event
		want error
	}{
		{"no operator", engine.Event{SessionID: s.ID, Kind: engine.EvNote}, journal.ErrNoOperator},
		{"no kind", engine.Event{SessionID: s.ID, Operator: "a"}, journal.ErrInvalidEvent},
		{"bad json", engine.Event{SessionID: s.ID, Operator: "a", Kind: engine.EvNote, Data: []byte("{")}, journal.ErrInvalidEvent},
		{"unknown session", engine.Event{SessionID: "nope", Operator: "a", Kind: engine.EvNote}, engine.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := j.Append(context.Background(), tt.ev); !errors.Is(err, tt.want) {
				t.Errorf("Append() error = %v, want %v", err, tt.want)
			}
		})
	}
	if evs, _ := j.Events(context.Background(), s.ID); len(evs) != 0 {
		t.Errorf("rejected appends stored %d events", len(evs))
	}
}

func TestFileModes(t *testing.T) {
	j, path := openTemp(t)
	s := createSession(t, j, sessionInfo("staging", "r", engine.ModeLive, time.Time{}))
	appendEvents(t, j, s.ID, 1)
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("stat %s: %v", p, err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("mode of %s = %v, want 0600", filepath.Base(p), got)
		}
	}
	if fi, _ := os.Stat(filepath.Dir(path)); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode = %v, want 0700", fi.Mode().Perm())
	}
}

func TestOpenTightensLooseFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer j.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	j, path := openTemp(t)
	s := createSession(t, j, sessionInfo("production", "r", engine.ModeLive, time.Time{}))
	appendEvents(t, j, s.ID, 3)
	if err := j.SaveCheckpoint(ctx, s.ID, "backfill", 2, []byte("cur"), nil); err != nil {
		t.Fatalf("SaveCheckpoint: %v", err)
	}
	endSession(t, j, s.ID, engine.OutcomeStopped)
	if err := j.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	j2, err := journal.Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer j2.Close()
	info, err := j2.Session(ctx, s.ID)
	if err != nil {
		t.Fatalf("Session after reopen: %v", err)
	}
	if info.Events != 5 || info.Outcome != engine.OutcomeStopped || info.Ended.IsZero() {
		t.Errorf("Session after reopen = %+v, want 5 events, stopped, ended", info)
	}
	cps, err := j2.Checkpoints(ctx, s.ID, "backfill")
	if err != nil || string(cps[2]) != "cur" {
		t.Errorf("Checkpoints after reopen = %v, %v; want segment 2 = cur", cps, err)
	}
	if res, err := j2.Verify(ctx, s.ID); err != nil || !res.OK {
		t.Errorf("Verify after reopen = %+v, %v; want OK", res, err)
	}
	ev, err := j2.Append(ctx, engine.Event{SessionID: s.ID, Kind: engine.EvSessionResume, Operator: "carol"})
	if err != nil || ev.Seq != 6 {
		t.Errorf("Append after reopen: seq %d, err %v; want seq 6", ev.Seq, err)
	}
	if info, _ := j2.Session(ctx, s.ID); info.Outcome != engine.OutcomeRunning || !info.Ended.IsZero() {
		t.Errorf("after session.resume: outcome %q ended %v, want running", info.Outcome, info.Ended)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	j, path := openTemp(t)
	j.Close()
	db := rawDB(t, path)
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := journal.Open(path)
	if !errors.Is(err, journal.ErrSchemaTooNew) {
		t.Fatalf("Open() error = %v, want ErrSchemaTooNew", err)
	}
	if !regexp.MustCompile(`99.*upgrade lockstep`).MatchString(err.Error()) {
		t.Errorf("error %q should name the version and say to upgrade", err)
	}
}

func TestOpenSetsSchemaAndPragmas(t *testing.T) {
	_, path := openTemp(t)
	db := rawDB(t, path)
	var version int
	var mode string
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if version != journal.SchemaVersion() || mode != "wal" {
		t.Errorf("user_version = %d, journal_mode = %s; want %d, wal", version, mode, journal.SchemaVersion())
	}
}

func TestDefaultPath(t *testing.T) {
	home, _ := os.UserHomeDir()
	tests := []struct {
		name, journalEnv, xdg, want string
	}{
		{"explicit", "/x/j.db", "/state", "/x/j.db"},
		{"xdg", "", "/state", "/state/lockstep/journal.db"},
		{"relative xdg ignored", "", "state", filepath.Join(home, ".local/state/lockstep/journal.db")},
		{"home", "", "", filepath.Join(home, ".local/state/lockstep/journal.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("LOCKSTEP_JOURNAL", tt.journalEnv)
			t.Setenv("XDG_STATE_HOME", tt.xdg)
			if got := journal.DefaultPath(); got != tt.want {
				t.Errorf("DefaultPath() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConnectionPragmas(t *testing.T) {
	j, _ := openTemp(t)
	db := journal.DB(j)
	db.SetMaxOpenConns(1) // every query below on the same pooled connection
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", "5000"},
		{"foreign_keys", "1"},
	}
	for _, tt := range tests {
		var got string
		if err := db.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %s, want %s", tt.pragma, got, tt.want)
		}
	}
}

func TestOpenOddPaths(t *testing.T) {
	for _, name := range []string{"with space.db", "hash#and?query.db", "percent%20.db"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			j, err := journal.Open(path)
			if err != nil {
				t.Fatalf("Open(%q): %v", path, err)
			}
			defer j.Close()
			s := createSession(t, j, sessionInfo("staging", "r", engine.ModeLive, time.Time{}))
			appendEvents(t, j, s.ID, 1)
			if fi, err := os.Stat(path); err != nil || fi.Size() == 0 && !fileExists(path+"-wal") {
				t.Errorf("journal not written at %q: %v", path, err)
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			for _, e := range entries {
				if !strings.HasPrefix(e.Name(), name) {
					t.Errorf("stray file %q next to %q", e.Name(), name)
				}
			}
		})
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
