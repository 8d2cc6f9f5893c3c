package journal_test

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// TestHelperAppendForever is not a test: TestSurvivesKill runs the test
// binary as a child process that appends until it is killed.
func TestHelperAppendForever(t *testing.T) {
	path, id := os.Getenv("JOURNAL_HELPER_PATH"), os.Getenv("JOURNAL_HELPER_SESSION")
	if path == "" {
		t.Skip("helper process only")
	}
	j, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		ev := eventtest.Raw(engine.EvProgress, "backfill", map[string]int{"done": i})
		ev.SessionID, ev.Operator = id, "alice"
		if _, err := j.Append(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			if err := j.SaveCheckpoint(context.Background(), id, "backfill", i%4, []byte{byte(i)}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestSurvivesKill kills a process in the middle of appending (SIGKILL,
// no chance to clean up) and checks the journal reopens with a dense,
// valid chain.
func TestSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	ctx := context.Background()
	j, path := openTemp(t)
	s := createSession(t, j, sessionInfo("production", "r", engine.ModeLive, time.Time{}))
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperAppendForever$")
	cmd.Env = append(os.Environ(), "JOURNAL_HELPER_PATH="+path, "JOURNAL_HELPER_SESSION="+s.ID)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := j.Session(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if info.Events >= 200 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("helper appended only %d events in 20s", info.Events)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	j.Close()

	j2, err := journal.Open(path)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer j2.Close()
	res, err := j2.Verify(ctx, s.ID)
	if err != nil || !res.OK || res.Events < 200 {
		t.Fatalf("Verify after kill = %+v, %v; want OK with >= 200 events", res, err)
	}
	ev, err := j2.Append(ctx, engine.Event{SessionID: s.ID, Kind: engine.EvSessionResume, Operator: "bob"})
	if err != nil || ev.Seq != res.Events+1 {
		t.Errorf("Append after kill: seq %d, %v; want %d", ev.Seq, err, res.Events+1)
	}
}
