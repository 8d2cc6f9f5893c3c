package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/testbin"
)

// artifactDir is where the screenshots are kept: $LOCKSTEP_TEST_ARTIFACTS
// when set (CI keeps it), else the test's temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("LOCKSTEP_TEST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// chromium runs headless Chromium, with a profile of its own and its
// network log in netlog, on the file page with extra arguments; it
// returns stdout.
func chromium(t *testing.T, bin, page, netlog string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--log-net-log=" + netlog}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, "file://"+page)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// requested lists the URLs a document asked for, from Chromium's network
// log: each request's start names its initiator, a page's origin ("null"
// for a file:// page) where Chromium's own background requests (updates,
// time, accounts) have "not an origin".
func requested(t *testing.T, netlog string) []string {
	t.Helper()
	b, err := os.ReadFile(netlog)
	if err != nil {
		t.Fatalf("chromium wrote no net log: %v", err)
	}
	var log struct {
		Events []struct {
			Params struct {
				URL       string `json:"url"`
				Initiator string `json:"initiator"`
			} `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(b, &log); err != nil {
		t.Fatalf("chromium's net log %s: %v", netlog, err)
	}
	var out []string
	seen := map[string]bool{}
	for _, ev := range log.Events {
		p := ev.Params
		if p.URL == "" || p.Initiator == "" || p.Initiator == "not an origin" || seen[p.URL] || strings.HasPrefix(p.URL, "file://") {
			continue
		}
		seen[p.URL] = true
		out = append(out, p.URL)
	}
	return out
}

// TestHTMLReportOfTheDemoInChromium runs the demo, exports its session as
// an HTML report and opens it in headless Chromium: the screenshot is kept,
// the DOM shows every step and a chart, and the page asked the network
// for nothing (a control page that does ask proves the net log shows it).
func TestHTMLReportOfTheDemoInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo migrates 100,000 rows")
	}
	bin := testbin.LookPath(t, "chromium") // skips without it, fails under CI=true
	e := newEnv(t)
	dir := filepath.Join(e.dir, "demo")
	e.mustRun(0, "demo", "--plain", "--dir", dir)
	journal := filepath.Join(dir, "journal.db")
	var list []sessionSummary
	if err := json.Unmarshal([]byte(e.mustRun(0, "journal", "list", "--journal", journal, "--format", "json").Stdout), &list); err != nil || len(list) != 1 {
		t.Fatalf("demo journal: %v, %d sessions", err, len(list))
	}
	id := list[0].ID
	report := filepath.Join(e.dir, "report.html")
	e.mustRun(0, "journal", "export", id, "--journal", journal, "--format", "html", "-o", report)
	page, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if u := regexp.MustCompile(`https?://[^"' )<]+`).FindAllString(
		regexp.MustCompile(`xmlns(:xlink)?="http://www\.w3\.org/[0-9]+/(svg|xlink)"`).ReplaceAllString(string(page), ""), -1); len(u) > 0 {
		t.Errorf("the report references URLs to load: %v", u)
	}

	art := artifactDir(t)
	shot := filepath.Join(art, "report-demo.png")
	chromium(t, bin, report, filepath.Join(art, "report-screenshot.netlog.json"), "--hide-scrollbars", "--window-size=1100,2400", "--screenshot="+shot)
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 20_000 {
		t.Fatalf("no screenshot of the report (%v): a blank page?", err)
	}
	t.Logf("screenshot: %s", shot)

	netlog := filepath.Join(art, "report-dom.netlog.json")
	dom := chromium(t, bin, report, netlog, "--dump-dom")
	for _, step := range []string{"read-plan", "strategy", "size", "snapshot", "drill", "go-no-go", "backfill", "all-done", "wrap-up"} {
		if !strings.Contains(dom, ">"+step+"<") {
			t.Errorf("the rendered report does not show step %s", step)
		}
	}
	if !regexp.MustCompile(`<svg [^>]*aria-label="backfill: throughput"`).MatchString(dom) {
		t.Errorf("the rendered report holds no throughput chart of backfill")
	}
	if !strings.Contains(dom, "default-src 'none'") {
		t.Errorf("the rendered report has no Content-Security-Policy")
	}
	if u := requested(t, netlog); len(u) > 0 {
		t.Errorf("opening the report made network requests: %v", u)
	}

	// Control: the same check sees a page's own request.
	canary := filepath.Join(e.dir, "canary.html")
	if err := os.WriteFile(canary, []byte(`<!DOCTYPE html><img src="http://lockstep-canary.invalid/x.png">`), 0o644); err != nil {
		t.Fatal(err)
	}
	canaryLog := filepath.Join(e.dir, "canary.netlog.json")
	chromium(t, bin, canary, canaryLog, "--dump-dom")
	if u := requested(t, canaryLog); !strings.Contains(strings.Join(u, " "), "lockstep-canary.invalid") {
		t.Errorf("the net log check misses a page's request: %v", u)
	}
}

// TestHTMLReportNeverHoldsASecret: a secret given as a runbook var, and one
// a failing step's error quotes, never reach the HTML report or diff.
func TestHTMLReportNeverHoldsASecret(t *testing.T) {
	e, rb, _ := newSecretsEnv(t)
	e.mustRun(1, "run", "failing.yaml", "--env", "box", "--plain", "--yes", "--var", "fail=transform")
	failed := e.latest().ID
	answers := e.writeFile("a.yaml", "check: {check: [ready]}\n")
	e.mustRun(0, "run", rb, "--env", "box", "--plain", "--yes", "--answers", answers, "--var", "tenant="+tenantKey)
	withVar := e.latest().ID

	report := e.mustRun(0, "journal", "export", failed, "--format", "html").Stdout
	if !strings.Contains(report, "auth failed with key [REDACTED]") {
		t.Errorf("the report does not show the failed step's (redacted) error")
	}
	pages := map[string]string{
		"report of the run with a secret var": e.mustRun(0, "journal", "export", withVar, "--format", "html").Stdout,
		"report of the failed run":            report,
		"diff":                                e.mustRun(0, "journal", "diff", withVar, failed, "--format", "html").Stdout,
	}
	for name, page := range pages {
		if !strings.Contains(page, "<svg ") {
			t.Errorf("%s: no chart, is it the HTML report?", name)
		}
		for _, s := range []string{tenantKey, apiToken} {
			if strings.Contains(page, s) {
				t.Errorf("%s holds the secret %q", name, s)
			}
		}
	}
}
