package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestLintReportsEveryMistake(t *testing.T) {
	e := newEnv(t)
	path := testdata(t, "three-mistakes.yaml")
	r := e.mustRun(2, "lint", path)
	want := []string{
		path + `:5:1: unknown key "owner" in runbook`,
		path + `:12:27: unknown step kind "shel" (did you mean shell?)`,
		path + `:15:18: timeout: invalid duration "10 minutes"`,
	}
	for _, w := range want {
		if !strings.Contains(r.Stdout, w) {
			t.Errorf("lint output lacks %q\n%s", w, r)
		}
	}
	if n := strings.Count(strings.TrimSpace(r.Stdout), "\n") + 1; n != 3 {
		t.Errorf("lint printed %d problems, want 3\n%s", n, r)
	}

	r = e.mustRun(2, "lint", "--format", "json", path)
	var problems []struct {
		File     string `json:"file"`
		Line     int    `json:"line"`
		Col      int    `json:"col"`
		Severity string `json:"severity"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &problems); err != nil {
		t.Fatalf("lint --format json: %v\n%s", err, r)
	}
	if len(problems) != 3 || problems[0].Line != 5 || problems[1].Line != 12 || problems[2].Line != 15 {
		t.Errorf("json problems = %+v, want lines 5, 12, 15", problems)
	}

	// Warnings alone exit 0.
	e.mustRun(0, "lint", testdata(t, "crash.yaml"))
}

func TestInvalidRunbookIsNotRun(t *testing.T) {
	e := newEnv(t)
	r := e.mustRun(2, "run", testdata(t, "three-mistakes.yaml"), "--env", "box", "--plain")
	if got := strings.Count(r.Stderr, "three-mistakes.yaml:"); got != 3 {
		t.Errorf("run printed %d positioned errors, want all 3\n%s", got, r)
	}
	if _, err := os.Stat(e.journal); err == nil {
		t.Error("an invalid runbook touched the journal")
	}
}
