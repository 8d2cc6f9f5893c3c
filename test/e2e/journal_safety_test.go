package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/testbin"
)

// TestResumeRefusesALiveSession: a session whose process is alive is never
// resumed, with or without its id; once that process is killed -9, it is.
func TestResumeRefusesALiveSession(t *testing.T) {
	e := newEnv(t)
	e.writeFile("steady.marker", "") // only slow sleeps
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	cmd := e.command(ctx, "run", testdata(t, "crash.yaml"), "--env", "box", "--plain")
	p := &started{Proc: testbin.Start(t, cmd), t: t}
	pid := cmd.Process.Pid
	e.waitFile("slow.marker", p)
	s := e.latest()
	answers := e.writeFile("retry.yaml", "slow: {retry: true}\n")
	host, _ := os.Hostname()
	holder := fmt.Sprintf("held by e2e-op on %s (pid %d) since ", host, pid)

	for _, args := range [][]string{
		{"resume", "--plain", "--answers", answers},
		{"resume", s.ID, "--plain", "--answers", answers},
		{"resume", s.ID[:len(s.ID)-3], "--plain", "--answers", answers}, // a unique prefix
	} {
		r := e.mustRun(2, args...)
		if !strings.Contains(r.Stderr, s.ID) || !strings.Contains(r.Stderr, holder) {
			t.Errorf("lockstep %s: stderr does not name the session and %q\n%s", strings.Join(args, " "), holder, r)
		}
	}
	e.wantCounts("while the first process runs", map[string]int{"first": 1, "slow": 1, "steady": 0, "last": 0})

	r := e.mustRun(0, "journal", "list")
	if want := fmt.Sprintf("running (pid %d)", pid); !strings.Contains(r.Stdout, want) {
		t.Errorf("journal list does not show %q\n%s", want, r)
	}
	r = e.mustRun(0, "journal", "list", "--format", "json")
	var list []struct {
		HeldBy *struct {
			Operator string `json:"operator"`
			PID      int    `json:"pid"`
		} `json:"held_by"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil || len(list) != 1 || list[0].HeldBy == nil ||
		list[0].HeldBy.PID != pid || list[0].HeldBy.Operator != "e2e-op" {
		t.Errorf("journal list --format json: held_by missing or wrong (%v)\n%s", err, r)
	}

	p.signal(syscall.SIGKILL)
	e.killOrphan("slow.pid")
	if r := e.mustRun(0, "journal", "list"); !strings.Contains(r.Stdout, "interrupted") {
		t.Errorf("journal list does not show the killed session as interrupted\n%s", r)
	}
	e.mustRun(0, "resume", "--plain", "--answers", answers)
	e.wantCounts("after kill -9 and resume", map[string]int{"first": 1, "slow": 2, "steady": 1, "last": 1})
}

// sqlite runs SQL on the journal with the sqlite3 CLI, as someone editing
// it by hand would.
func (e *env) sqlite(cli, q string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, e.journal, q).CombinedOutput(); err != nil {
		e.t.Fatalf("sqlite3: %v\n%s", err, out)
	}
}

// TestJournalVerifyCatchesAnEditedSessionRow: the session row is checked
// against the hashed events, and resume refuses a session whose row
// no longer agrees with them.
func TestJournalVerifyCatchesAnEditedSessionRow(t *testing.T) {
	cli := testbin.LookPath(t, "sqlite3")
	tests := []struct {
		name   string
		tamper string // %[1]s is the session id
		reason string
		resume bool // resume must still be refused (exit 2) and run nothing
	}{
		{"aborted made resumable", `UPDATE sessions SET outcome = 'stopped', ended = NULL WHERE id = '%[1]s'`,
			`outcome is "stopped", session.end`, true},
		{"aborted made completed", `UPDATE sessions SET outcome = 'completed' WHERE id = '%[1]s'`,
			`outcome is "completed", session.end`, false},
		{"title", `UPDATE sessions SET title = 'Harmless' WHERE id = '%[1]s'`, `title is "Harmless"`, false},
		{"runbook path", `UPDATE sessions SET runbook_path = '/x.yaml' WHERE id = '%[1]s'`, `runbook_path is "/x.yaml"`, false},
		{"session deleted", `DELETE FROM sessions WHERE id = '%[1]s'`, "session row deleted", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			abort := e.writeFile("abort.yaml", "broken: {abort: true}\n")
			e.mustRun(1, "run", testdata(t, "failing.yaml"), "--env", "box", "--plain", "--answers", abort)
			s := e.latest()
			if s.Outcome != "aborted" {
				t.Fatalf("outcome %q, want aborted", s.Outcome)
			}
			e.mustRun(0, "journal", "verify")
			e.sqlite(cli, fmt.Sprintf(tt.tamper, s.ID))

			for _, args := range [][]string{{"journal", "verify"}, {"journal", "verify", s.ID}} {
				r := e.mustRun(1, args...)
				if !strings.Contains(r.Stdout, "BAD  "+s.ID) || !strings.Contains(r.Stderr, tt.reason) {
					t.Errorf("lockstep %s does not report %s: %q\n%s", strings.Join(args, " "), s.ID, tt.reason, r)
				}
			}
			if tt.resume {
				r := e.mustRun(2, "resume", s.ID, "--plain", "--answers", abort)
				// Refused as edited: the row no longer agrees with its
				// hashed session.end, which says aborted.
				if !strings.Contains(r.Stderr, "does not verify") || !strings.Contains(r.Stderr, `says "aborted"`) {
					t.Errorf("resume does not refuse the edited session, naming its journaled end\n%s", r)
				}
				if n := e.count("never.count"); n != 0 {
					t.Errorf("a step of the aborted session ran %d time(s) after the edit", n)
				}
			}
		})
	}
}

// TestReadingCommandsNeitherCreateNorChange: the commands that only read
// the journal create nothing, change nothing and say what is wrong.
func TestReadingCommandsNeitherCreateNorChange(t *testing.T) {
	e := newEnv(t)
	typo := filepath.Join(e.dir, "typo", "dir", "jornal.db")
	notes := e.writeFile("notes.md", "my notes\n")
	for _, tt := range []struct {
		path, want string
	}{
		{typo, "no journal file"},
		{notes, "not a lockstep journal"},
	} {
		for _, args := range [][]string{
			{"journal", "verify"}, {"journal", "verify", "20260101"}, {"journal", "show", "x"},
			{"journal", "export", "x"}, {"journal", "diff", "a", "b"}, {"resume", "--plain"}, {"resume", "x", "--plain"},
		} {
			args = append(args, "--journal", tt.path)
			r := e.mustRun(2, args...)
			if !strings.Contains(r.Stderr, tt.path) || !strings.Contains(r.Stderr, tt.want) {
				t.Errorf("lockstep %s: stderr lacks the path and %q\n%s", strings.Join(args, " "), tt.want, r)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, "typo")); !os.IsNotExist(err) {
		t.Errorf("a reading command created %s (stat: %v)", filepath.Join(e.dir, "typo"), err)
	}
	if fi, err := os.Stat(notes); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("notes.md mode changed: %v, %v", fi.Mode(), err)
	}
	e.mustRun(2, "run", testdata(t, "failing.yaml"), "--env", "box", "--plain", "--journal", notes)
	if b, _ := os.ReadFile(notes); string(b) != "my notes\n" {
		t.Errorf("notes.md changed: %q", b)
	}
	if fi, _ := os.Stat(notes); fi.Mode().Perm() != 0o644 {
		t.Errorf("run chmodded a file that is not a journal to %v", fi.Mode().Perm())
	}
}

// TestReadingCommandsNeedNoWriteAccess: someone who may only read a journal
// (0644, in a directory they cannot write) can list, show, export and
// verify it.
func TestReadingCommandsNeedNoWriteAccess(t *testing.T) {
	e := newEnv(t)
	e.mustRun(1, "run", testdata(t, "failing.yaml"), "--env", "box", "--plain")
	s := e.latest()
	shared := filepath.Join(e.dir, "shared")
	jpath := filepath.Join(shared, "journal.db")
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, e.journal, jpath, 0o644)
	runAs := readerCommand(t, shared)
	for _, args := range [][]string{
		{"journal", "list"}, {"journal", "verify"}, {"journal", "verify", s.ID},
		{"journal", "show", s.ID}, {"journal", "export", s.ID, "--format", "json"},
	} {
		cmd := runAs(append(args, "--journal", jpath)...)
		out, err := cmd.CombinedOutput()
		if code, _ := testbin.ExitCode(err); code != 0 {
			t.Errorf("lockstep %s as a reader: exit %d\n%s", strings.Join(args, " "), code, out)
		}
	}
	entries, _ := os.ReadDir(shared)
	if len(entries) != 1 {
		t.Errorf("the reader left files in the shared directory: %v", entries)
	}
}

// readerCommand returns how to run lockstep as a user who cannot write dir:
// as nobody when the tests run as root (which writes anywhere), else as
// ourselves with dir made read-only.
func readerCommand(t *testing.T, dir string) func(args ...string) *exec.Cmd {
	t.Helper()
	bin := binary.Path(t)
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return func(args ...string) *exec.Cmd { return exec.Command(bin, args...) }
	}
	// nobody must reach the binary and the journal: copy the binary out
	// of its private directory and open the way to dir.
	pub := t.TempDir()
	copyFile(t, bin, filepath.Join(pub, "lockstep"), 0o755)
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			os.Chmod(d, fi.Mode().Perm()|0o005)
		}
	}
	for d := pub; d != "/" && d != "."; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			os.Chmod(d, fi.Mode().Perm()|0o005)
		}
	}
	return func(args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(pub, "lockstep"), args...)
		cmd.Env = []string{"HOME=/nonexistent", "PATH=/usr/bin:/bin", "NO_COLOR=1"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		return cmd
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	os.Chmod(to, mode)
}

// TestJournalExportNeverClobbers: export -o writes the whole report or
// nothing, and never replaces an existing file without --force.
func TestJournalExportNeverClobbers(t *testing.T) {
	e := newEnv(t)
	e.mustRun(1, "run", testdata(t, "failing.yaml"), "--env", "box", "--plain")
	s := e.latest()
	pm := e.writeFile("pm.md", "notes\n")
	unchanged := func(when string) {
		t.Helper()
		if b, _ := os.ReadFile(pm); string(b) != "notes\n" {
			t.Errorf("%s: pm.md is now %q", when, b)
		}
	}

	e.mustRun(2, "journal", "export", "nope", "--format", "md", "-o", pm)
	unchanged("export of an unknown session")
	e.mustRun(2, "journal", "export", "nope", "--format", "md", "-o", pm, "--force")
	unchanged("export --force of an unknown session")
	r := e.mustRun(2, "journal", "export", s.ID, "--format", "md", "-o", pm)
	if !strings.Contains(r.Stderr, "already exists") || !strings.Contains(r.Stderr, "--force") {
		t.Errorf("export over an existing file does not say so\n%s", r)
	}
	unchanged("export without --force")

	e.mustRun(0, "journal", "export", s.ID, "--format", "md", "-o", pm, "--force")
	if b, _ := os.ReadFile(pm); !strings.Contains(string(b), s.ID) {
		t.Errorf("export --force did not write the report: %q", b)
	}
	fresh := filepath.Join(e.dir, "fresh.json")
	e.mustRun(0, "journal", "export", s.ID, "--format", "json", "-o", fresh)
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("fresh export: %v, %v; want mode 0600", fi, err)
	}
	entries, _ := os.ReadDir(e.dir)
	for _, en := range entries {
		if strings.Contains(en.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", en.Name())
		}
	}
}
