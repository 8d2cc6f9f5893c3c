package journal_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
)

func owner(name string) engine.SessionOwner {
	return engine.SessionOwner{Operator: name, Host: "host-" + name, PID: os.Getpid(),
		Since: time.Date(2026, 11, 23, 19, 37, 2, 0, time.UTC)}
}

// reopen opens a second, independent Journal on the file: to the claims,
// another process.
func reopen(t *testing.T, path string) *journal.Journal {
	t.Helper()
	j, err := journal.Open(path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func TestClaimSessionExcludesOtherJournals(t *testing.T) {
	ctx := context.Background()
	j1, path := openTemp(t)
	j2 := reopen(t, path)
	s := createSession(t, j1, sessionInfo("production", "r", engine.ModeLive, time.Time{}))

	if err := j1.ClaimSession(ctx, s.ID, owner("alice")); err != nil {
		t.Fatalf("ClaimSession(j1) error: %v", err)
	}
	if err := j1.ClaimSession(ctx, s.ID, owner("alice")); err != nil {
		t.Errorf("ClaimSession(j1) again error = %v, want nil (already held)", err)
	}
	err := j2.ClaimSession(ctx, s.ID, owner("bob"))
	var held *engine.SessionHeldError
	if !errors.As(err, &held) || !errors.Is(err, engine.ErrSessionHeld) {
		t.Fatalf("ClaimSession(j2) error = %v, want a *SessionHeldError", err)
	}
	if held.Owner != owner("alice") {
		t.Errorf("SessionHeldError.Owner = %+v, want %+v", held.Owner, owner("alice"))
	}
	for _, want := range []string{s.ID, "alice", "host-alice", "pid " + strconv.Itoa(os.Getpid()), "2026-11-23 19:37:02 UTC"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if got, ok, err := j2.SessionHolder(ctx, s.ID); err != nil || !ok || got.Operator != "alice" {
		t.Errorf("SessionHolder(j2) = %+v, %v, %v; want alice, true", got, ok, err)
	}

	if err := j1.ReleaseSession(ctx, s.ID); err != nil {
		t.Fatalf("ReleaseSession: %v", err)
	}
	if _, ok, err := j2.SessionHolder(ctx, s.ID); err != nil || ok {
		t.Errorf("SessionHolder after release = %v, %v; want not held", ok, err)
	}
	if err := j2.ClaimSession(ctx, s.ID, owner("bob")); err != nil {
		t.Errorf("ClaimSession(j2) after release error: %v", err)
	}
}

// TestClaimReleasedBy: every way a claim ends, the session can be claimed
// again through another Journal.
func TestClaimReleasedBy(t *testing.T) {
	tests := []struct {
		name string
		end  func(ctx context.Context, j *journal.Journal, id string) error
	}{
		{"ReleaseSession", func(ctx context.Context, j *journal.Journal, id string) error { return j.ReleaseSession(ctx, id) }},
		{"EndSession", func(ctx context.Context, j *journal.Journal, id string) error {
			return j.EndSession(ctx, id, engine.OutcomeStopped)
		}},
		{"Close", func(_ context.Context, j *journal.Journal, _ string) error { return j.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			j1, path := openTemp(t)
			j2 := reopen(t, path)
			s := createSession(t, j1, sessionInfo("staging", "r", engine.ModeLive, time.Time{}))
			if err := j1.ClaimSession(ctx, s.ID, owner("alice")); err != nil {
				t.Fatal(err)
			}
			if err := tt.end(ctx, j1, s.ID); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if err := j2.ClaimSession(ctx, s.ID, owner("bob")); err != nil {
				t.Errorf("ClaimSession after %s error: %v", tt.name, err)
			}
		})
	}
}

// TestHelperClaimAndSleep is not a test: TestClaimEndsWithKill9 runs the
// test binary as a child process that claims a session and sleeps.
func TestHelperClaimAndSleep(t *testing.T) {
	path, id := os.Getenv("JOURNAL_CLAIM_PATH"), os.Getenv("JOURNAL_CLAIM_SESSION")
	if path == "" {
		t.Skip("helper process only")
	}
	j, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	o := owner("child")
	o.PID = os.Getpid()
	if err := j.ClaimSession(context.Background(), id, o); err != nil {
		t.Fatal(err)
	}
	// Like a shell step: a child that outlives us must not keep the claim.
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path+".sleeper", []byte(strconv.Itoa(sleeper.Process.Pid)), 0o600)
	time.Sleep(time.Minute)
}

// TestClaimEndsWithKill9: a process killed with SIGKILL holds its claim
// until it dies, and not a moment after (even though a child process it
// started lives on).
func TestClaimEndsWithKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	ctx := context.Background()
	j, path := openTemp(t)
	s := createSession(t, j, sessionInfo("production", "r", engine.ModeLive, time.Time{}))
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperClaimAndSleep$")
	cmd.Env = append(os.Environ(), "JOURNAL_CLAIM_PATH="+path, "JOURNAL_CLAIM_SESSION="+s.ID)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var sleeper int
	deadline := time.Now().Add(20 * time.Second)
	for sleeper == 0 {
		if b, err := os.ReadFile(path + ".sleeper"); err == nil && len(b) > 0 {
			sleeper, _ = strconv.Atoi(string(b))
		}
		if time.Now().After(deadline) {
			t.Fatal("the helper did not claim the session in 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() { syscall.Kill(sleeper, syscall.SIGKILL) })

	got, ok, err := j.SessionHolder(ctx, s.ID)
	if err != nil || !ok || got.PID != cmd.Process.Pid || got.Operator != "child" {
		t.Fatalf("SessionHolder while the helper lives = %+v, %v, %v; want the helper (pid %d)", got, ok, err, cmd.Process.Pid)
	}
	if err := j.ClaimSession(ctx, s.ID, owner("bob")); !errors.Is(err, engine.ErrSessionHeld) {
		t.Fatalf("ClaimSession while the helper lives error = %v, want ErrSessionHeld", err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, ok, err := j.SessionHolder(ctx, s.ID); err != nil || ok {
		t.Errorf("SessionHolder after kill -9 = %v, %v; want not held", ok, err)
	}
	if err := j.ClaimSession(ctx, s.ID, owner("bob")); err != nil {
		t.Errorf("ClaimSession after kill -9 error: %v", err)
	}
}

func TestClaimNeedsAWritableJournal(t *testing.T) {
	j, path := openTemp(t)
	s := createSession(t, j, sessionInfo("staging", "r", engine.ModeLive, time.Time{}))
	ro, err := journal.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.ClaimSession(context.Background(), s.ID, owner("alice")); !errors.Is(err, journal.ErrReadOnly) {
		t.Errorf("ClaimSession(read-only) error = %v, want ErrReadOnly", err)
	}
}

func TestClaimOddSessionIDs(t *testing.T) {
	ctx := context.Background()
	j, path := openTemp(t)
	j2 := reopen(t, path)
	for _, id := range []string{"../../escape", "a/b", "with space", strings.Repeat("x", 300)} {
		if err := j.ClaimSession(ctx, id, owner("alice")); err != nil {
			t.Fatalf("ClaimSession(%q): %v", id, err)
		}
		if _, ok, err := j2.SessionHolder(ctx, id); err != nil || !ok {
			t.Errorf("SessionHolder(%q) = %v, %v; want held", id, ok, err)
		}
	}
	entries, err := os.ReadDir(j.LockDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 {
		t.Errorf("lock dir holds %d files, want 4", len(entries))
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "escape.lock")); err == nil {
		t.Error("a session id escaped the lock directory")
	}
}
