package testbin_test

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/testbin"
)

func TestProcWait(t *testing.T) {
	p := testbin.Start(t, exec.Command("sh", "-c", "echo out; echo err >&2; exit 3"))
	r := p.Wait(10 * time.Second)
	if got, want := r, (testbin.Result{Code: 3, Stdout: "out\n", Stderr: "err\n"}); got != want {
		t.Errorf("Wait()=%+v, want %+v", got, want)
	}
	if !p.Exited() {
		t.Error("Exited()=false after Wait, want true")
	}
}

func TestProcStopReportsTheSignal(t *testing.T) {
	p := testbin.Start(t, exec.Command("sleep", "60"))
	if got, want := p.Stop(syscall.SIGKILL).Code, -int(syscall.SIGKILL); got != want {
		t.Errorf("Stop(SIGKILL).Code=%d, want %d", got, want)
	}
}

func TestProcUntil(t *testing.T) {
	p := testbin.Start(t, exec.Command("sh", "-c", "echo ready; exec sleep 60"))
	ready := func() bool { return strings.Contains(p.Stdout.String(), "ready") }
	if err := p.Until(10*time.Second, time.Millisecond, ready); err != nil {
		t.Fatalf("Until(ready)=%v, want nil", err)
	}
	never := func() bool { return false }
	if err := p.Until(20*time.Millisecond, time.Millisecond, never); !errors.Is(err, testbin.ErrTimeout) {
		t.Errorf("Until(never)=%v, want ErrTimeout", err)
	}
	p.Kill()
	<-p.Done()
	if err := p.Until(time.Second, time.Millisecond, never); !errors.Is(err, testbin.ErrExited) {
		t.Errorf("Until(never) after Kill=%v, want ErrExited", err)
	}
}

func TestResultStringShowsTheEnd(t *testing.T) {
	long := strings.Repeat("x", 5000) + "END"
	s := testbin.Result{Code: 1, Stdout: long, Stderr: "oops"}.String()
	for _, want := range []string{"exit 1\n", "--- stdout (last 3000 bytes)\n…", "END\n", "--- stderr\noops\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q:\n%.200s", want, s)
		}
	}
	if len(s) > 3200 {
		t.Errorf("len(String())=%d, want the stdout cut to 3000 bytes", len(s))
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		code   int
		exited bool
	}{
		{"success", nil, 0, true},
		{"exit 2", exec.Command("sh", "-c", "exit 2").Run(), 2, true},
		{"not started", exec.Command("/nonexistent/lockstep").Run(), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, ok := testbin.ExitCode(tt.err)
			if code != tt.code || ok != tt.exited {
				t.Errorf("ExitCode(%v)=%d, %v, want %d, %v", tt.err, code, ok, tt.code, tt.exited)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	out, err := exec.Command("sh", "-c", "printf %s "+testbin.ShellQuote(`it's "$HOME"`)).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), `it's "$HOME"`; got != want {
		t.Errorf("sh printed %q, want %q", got, want)
	}
}
