package journal_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
)

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name       string
		tamper     string // SQL run through a second connection; ?1 is the session id
		wantOK     bool
		wantSeq    int64
		wantReason string
	}{
		{name: "untouched", wantOK: true},
		{"edit data", `UPDATE events SET data = '{"stream":"stdout","text":"forged"}' WHERE session = ?1 AND seq = 3`,
			false, 3, "hash mismatch"},
		{"edit time", `UPDATE events SET time = '2020-01-01T00:00:00.000000Z' WHERE session = ?1 AND seq = 2`,
			false, 2, "hash mismatch"},
		{"edit operator", `UPDATE events SET operator = 'mallory' WHERE session = ?1 AND seq = 4`,
			false, 4, "hash mismatch"},
		{"unparsable time", `UPDATE events SET time = 'yesterday' WHERE session = ?1 AND seq = 1`,
			false, 1, "hash mismatch"},
		{"edit prev_hash", `UPDATE events SET prev_hash = 'x' WHERE session = ?1 AND seq = 5`,
			false, 5, "broken link"},
		{"delete an event", `DELETE FROM events WHERE session = ?1 AND seq = 3`,
			false, 3, "gap in seq"},
		{"delete the first event", `DELETE FROM events WHERE session = ?1 AND seq = 1`,
			false, 1, "gap in seq"},
		{"delete the last event", `DELETE FROM events WHERE session = ?1 AND seq = 5`,
			false, 5, "events missing"},
		{"edit session env", `UPDATE sessions SET env = 'staging' WHERE id = ?1`,
			false, 1, "session header changed"},
		{"edit session operator", `UPDATE sessions SET operator = 'mallory' WHERE id = ?1`,
			false, 1, "session header changed"},
		{"edit runbook source", `UPDATE sessions SET runbook_source = 'name: other' WHERE id = ?1`,
			false, 0, "runbook source changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			j, path := openTemp(t)
			s := createSession(t, j, sessionInfo("production", "r", engine.ModeLive, time.Time{}))
			appendEvents(t, j, s.ID, 5)
			if tt.tamper != "" {
				if _, err := rawDB(t, path).Exec(tt.tamper, s.ID); err != nil {
					t.Fatalf("tamper: %v", err)
				}
			}
			res, err := j.Verify(ctx, s.ID)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.OK != tt.wantOK || res.BadSeq != tt.wantSeq || !strings.Contains(res.Reason, tt.wantReason) {
				t.Errorf("Verify() = %+v, want OK=%v BadSeq=%d reason containing %q", res, tt.wantOK, tt.wantSeq, tt.wantReason)
			}
		})
	}
}

// TestVerifyDetectsRehashedEdit: a forger who recomputes the edited
// event's hash still breaks the link to the next event.
func TestVerifyDetectsRehashedEdit(t *testing.T) {
	ctx := context.Background()
	j, path := openTemp(t)
	s := createSession(t, j, sessionInfo("production", "r", engine.ModeLive, time.Time{}))
	evs := appendEvents(t, j, s.ID, 4)
	forged := evs[1]
	forged.Data = []byte(`{"stream":"stdout","text":"forged"}`)
	forged.Hash = journal.EventHash(forged)
	if _, err := rawDB(t, path).Exec(`UPDATE events SET data = ?, hash = ? WHERE session = ? AND seq = 2`,
		string(forged.Data), forged.Hash, s.ID); err != nil {
		t.Fatal(err)
	}
	res, err := j.Verify(ctx, s.ID)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.OK || res.BadSeq != 3 || !strings.Contains(res.Reason, "broken link") {
		t.Errorf("Verify() = %+v, want broken link at 3", res)
	}
}

// TestVerifyDetectsCLIEdit edits the journal with the sqlite3 CLI while
// the journal is open, as an operator tampering by hand would.
func TestVerifyDetectsCLIEdit(t *testing.T) {
	cli, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("sqlite3 CLI not on PATH")
	}
	ctx := context.Background()
	j, path := openTemp(t)
	s := createSession(t, j, sessionInfo("production", "r", engine.ModeLive, time.Time{}))
	appendEvents(t, j, s.ID, 3)
	stmt := `UPDATE events SET data = '{"stream":"stdout","text":"edited by hand"}' WHERE session = '` +
		s.ID + `' AND seq = 2; SELECT changes();`
	out, err := exec.Command(cli, "-cmd", ".timeout 5000", path, stmt).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Fatalf("sqlite3: %v: %s (want 1 row changed)", err, out)
	}
	res, err := j.Verify(ctx, s.ID)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.OK || res.BadSeq != 2 {
		t.Errorf("Verify() = %+v, want failure at seq 2", res)
	}
}

func TestVerifyUnknownSession(t *testing.T) {
	j, _ := openTemp(t)
	if _, err := j.Verify(context.Background(), "20260101T000000-0000"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Verify(unknown) error = %v, want ErrNotFound", err)
	}
}

func TestVerifyEmptySession(t *testing.T) {
	j, _ := openTemp(t)
	s := createSession(t, j, sessionInfo("staging", "r", engine.ModeLive, time.Time{}))
	res, err := j.Verify(context.Background(), s.ID)
	if err != nil || !res.OK || res.Events != 0 {
		t.Errorf("Verify(empty) = %+v, %v; want OK with 0 events", res, err)
	}
}
