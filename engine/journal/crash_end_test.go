package journal_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// TestHelperEndThenHang is not a test: TestKillAfterSessionEnd runs the
// test binary as a child that does what the engine does when a session
// ends — append session.end — then stops right where the engine would
// call EndSession, and waits to be killed.
func TestHelperEndThenHang(t *testing.T) {
	path, id, ready := os.Getenv("JOURNAL_HELPER_PATH"), os.Getenv("JOURNAL_HELPER_SESSION"), os.Getenv("JOURNAL_HELPER_READY")
	if path == "" || ready == "" {
		t.Skip("helper process only")
	}
	j, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ev := eventtest.Raw(engine.EvSessionEnd, "", map[string]any{"outcome": engine.OutcomeCompleted})
	ev.SessionID, ev.Operator = id, "alice"
	if _, err := j.Append(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ready, []byte("ended"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {} // killed here, before EndSession
}

// TestKillAfterSessionEnd: a process killed (SIGKILL) between appending
// session.end and EndSession used to leave a row showing the session
// running while its chain says it ended: verify failed forever and resume
// saw an interrupted session. The row must agree with the chain.
func TestKillAfterSessionEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	ctx := context.Background()
	j, path := openTemp(t)
	s := createSession(t, j, sessionInfo("production", "r", engine.ModeLive, time.Time{}))
	appendEvents(t, j, s.ID, 3)
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperEndThenHang$")
	cmd.Env = append(os.Environ(), "JOURNAL_HELPER_PATH="+path, "JOURNAL_HELPER_SESSION="+s.ID, "JOURNAL_HELPER_READY="+ready)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !exists(ready) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("helper did not append session.end in 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	j.Close()

	ro, err := journal.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	info, err := ro.Session(ctx, s.ID)
	if err != nil || info.Outcome != engine.OutcomeCompleted || info.Ended.IsZero() {
		t.Errorf("Session() after the kill = outcome %q, ended %v, %v; want completed with an end time", info.Outcome, info.Ended, err)
	}
	if res, err := ro.Verify(ctx, s.ID); err != nil || !res.OK {
		t.Errorf("Verify() after the kill = %+v, %v; want OK", res, err)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestOpenRepairsARowBehindItsChain: journals written by older versions
// can hold a row a crash left behind its session.end. Read-only, verify
// names it repairable (not tampering); the next writable open repairs it
// from the chain, and only when the chain explains it.
func TestOpenRepairsARowBehindItsChain(t *testing.T) {
	tests := []struct {
		name       string
		after      int  // events appended after session.end
		repairable bool // the chain explains the row
	}{
		{"session.end is the head", 0, true},
		{"events after session.end", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			j, path := openTemp(t)
			s := endedSession(t, j, engine.OutcomeAborted)
			appendEvents(t, j, s.ID, tt.after)
			before, _ := j.Session(ctx, s.ID)
			j.Close()
			// What older versions left after a kill between the two writes.
			if _, err := rawDB(t, path).Exec(`UPDATE sessions SET outcome = '', ended = NULL WHERE id = ?`, s.ID); err != nil {
				t.Fatal(err)
			}
			ro, err := journal.OpenReadOnly(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := ro.Verify(ctx, s.ID)
			ro.Close()
			if err != nil || res.OK || res.Repairable != tt.repairable {
				t.Fatalf("read-only Verify() = %+v, %v; want not OK, Repairable %v", res, err, tt.repairable)
			}
			w, err := journal.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			res, err = w.Verify(ctx, s.ID)
			info, _ := w.Session(ctx, s.ID)
			if tt.repairable {
				if err != nil || !res.OK || info.Outcome != engine.OutcomeAborted || !info.Ended.Equal(before.Ended) {
					t.Errorf("after Open: Verify() = %+v, %v, outcome %q ended %v; want OK, aborted, ended %v",
						res, err, info.Outcome, info.Ended, before.Ended)
				}
				return
			}
			if res.OK || info.Outcome != engine.OutcomeRunning {
				t.Errorf("after Open: Verify() = %+v, outcome %q; want a row the chain does not explain left alone", res, info.Outcome)
			}
		})
	}
}
