package integration_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/steps"
)

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(b))
	return len(fields) > 2 && fields[2] != "Z"
}

func TestShellTimeoutKillsProcessGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  string
		min  time.Duration
	}{
		{"sigterm", `sleep 30 & echo $! > child.pid; wait`, 0},
		// The shell and its child ignore SIGTERM: SIGKILL follows after KillGrace.
		{"sigkill after grace", `trap "" TERM; sleep 30 & echo $! > child.pid; wait; wait`, steps.KillGrace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps: [{id: slow, kind: shell, timeout: 300ms, with: {run: '`+tt.run+`', cwd: "`+dir+`"}}]
`, rig.Answers(map[string][]rig.Reply{"slow:failed": {{Ans: engine.Answer{Action: engine.ActionAbort}}}}))
			start := time.Now()
			h.MustRun(engine.OutcomeAborted)
			took := time.Since(start)
			if took > tt.min+5*time.Second || took < tt.min {
				t.Errorf("run took %s, want between %s and %s", took, tt.min, tt.min+5*time.Second)
			}
			end := h.EndOf("slow")
			if end["status"] != "failed" || !strings.Contains(end["error"].(string), "timed out after 300ms") {
				t.Errorf("step.end = %v, want failed: timed out", end)
			}
			b, err := os.ReadFile(filepath.Join(dir, "child.pid"))
			if err != nil {
				t.Fatal(err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			deadline := time.Now().Add(2 * time.Second)
			for alive(pid) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if alive(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Errorf("background child %d survived the timeout", pid)
			}
		})
	}
}

func TestShellBackgroundChildDoesNotHang(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps: [{id: bg, kind: shell, with: {run: 'sleep 5 & echo $! > child.pid; echo started', cwd: "`+dir+`"}}]
`, nil)
	start := time.Now()
	h.MustRun(engine.OutcomeCompleted)
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("step waited %s for a background child holding stdout", took)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "child.pid")); err == nil {
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
