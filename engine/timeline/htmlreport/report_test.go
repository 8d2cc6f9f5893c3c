package htmlreport_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/timeline/htmlreport"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

var update = flag.Bool("update", false, "rewrite the golden outlines in testdata")

var t0 = time.Date(2026, 11, 23, 19, 0, 0, 0, time.UTC)

// events builds a session's event slice; at is seconds after t0.
type events []engine.Event

func (es *events) add(at float64, step string, kind engine.EventKind, data any, operator ...string) *events {
	ev := eventtest.Raw(kind, step, data)
	ev.SessionID, ev.Seq, ev.Operator = "S1", int64(len(*es)+1), "alice"
	ev.Time = t0.Add(time.Duration(at * float64(time.Second)))
	if len(operator) > 0 {
		ev.Operator = operator[0]
	}
	*es = append(*es, ev)
	return es
}

type m = map[string]any

// rehearsal is a completed session with an estimate, a decision, an
// approval, a failed and retried step, a skip, a migrate step that was
// throttled, paused and had its rate changed, notes and a learning; mode
// and env set its info. Untrusted text (a note) carries markup.
func rehearsal(env string, mode engine.Mode, slower float64) htmlreport.Session {
	var es events
	es.add(0, "", engine.EvSessionStart, m{"env": env}).
		add(1, "", engine.EvPhaseStart, m{"phase": "estimate"}).
		add(1, "size", engine.EvStepStart, m{"kind": "estimate", "attempt": 1, "phase": "estimate"}).
		add(3, "size", engine.EvStepEnd, m{"status": "done", "duration_ms": 2000, "result": m{"duration_ms": 20000, "rate": 500}}).
		add(3, "", engine.EvPhaseEnd, m{"phase": "estimate", "status": "done"}).
		add(4, "", engine.EvPhaseStart, m{"phase": "plan"}).
		add(4, "strategy", engine.EvStepStart, m{"kind": "decision", "attempt": 1, "phase": "plan"}).
		add(5, "strategy", engine.EvDecision, m{"choice": "multi-step", "reason": "no downtime"}).
		add(5, "strategy", engine.EvStepEnd, m{"status": "done", "duration_ms": 1000}).
		add(6, "go-no-go", engine.EvStepStart, m{"kind": "approval", "attempt": 1, "phase": "plan"}).
		add(7, "go-no-go", engine.EvApproval, m{"approver": "bob", "role": "accountable", "reason": "backup drilled"}, "bob").
		add(7, "go-no-go", engine.EvStepEnd, m{"status": "done", "duration_ms": 1000}).
		add(7, "announce", engine.EvStepSkip, m{"reason": "announced by hand"}).
		add(7, "", engine.EvPhaseEnd, m{"phase": "plan", "status": "done"}).
		add(8, "", engine.EvPhaseStart, m{"phase": "run"}).
		add(8, "deploy", engine.EvStepStart, m{"kind": "shell", "attempt": 1, "phase": "run"}).
		add(9, "deploy", engine.EvStepEnd, m{"status": "failed", "error": "exit status 1", "duration_ms": 1000}).
		add(9, "deploy", engine.EvStepRetry, m{"reason": "flaky network"}).
		add(10, "deploy", engine.EvStepStart, m{"kind": "shell", "attempt": 2, "phase": "run"}).
		add(11, "deploy", engine.EvStepEnd, m{"status": "done", "duration_ms": 1000})
	at := 12.0
	es.add(at, "backfill", engine.EvStepStart, m{"kind": "migrate", "attempt": 1, "phase": "run"})
	for i := 1; i <= 10; i++ {
		at += slower
		es.add(at, "backfill", engine.EvCheckpoint, m{"segment": i % 2, "cursor": "YQ==", "migrated": i * 500, "throttles": i / 4, "conflicts": i / 8, "segments": 2})
		switch i {
		case 3:
			es.add(at, "backfill", engine.EvWarning, m{"message": "writes throttled 2 times; 300 items/s getting through, limit adapted to 400 items/s", "throttles": 2, "write_limit": 400, "write_rate": 300})
		case 5:
			es.add(at, "", engine.EvPause, nil).add(at+1, "", engine.EvResume, nil)
			at++
		case 7:
			es.add(at, "backfill", engine.EvRate, m{"rate": 800})
			es.add(at, "backfill", engine.EvProgress, m{"migrated": 3600, "throttles": 1, "conflicts": 0, "write_limit": 800, "done": 3600, "total": 5000})
		}
	}
	es.add(at, "backfill", engine.EvStepEnd, m{"status": "done", "duration_ms": int((at - 12) * 1000)}).
		add(at, "", engine.EvPhaseEnd, m{"phase": "run", "status": "done"}).
		add(at+1, "", engine.EvNote, m{"text": `the <b>index</b> helped <script>alert("x")</script>`}).
		add(at+1, "", engine.EvNote, m{"text": "Learning: raise the write limit to 800 earlier"}).
		add(at+2, "", engine.EvSessionEnd, m{"outcome": "completed"})
	info := engine.SessionInfo{ID: "S-" + env, Runbook: "split-address", Title: "Split <address>", Env: env,
		Mode: mode, Operator: "alice", Started: t0, Ended: t0.Add(time.Duration((at + 2) * float64(time.Second))), Outcome: engine.OutcomeCompleted}
	return htmlreport.Session{Info: info, Events: es, Verified: &engine.VerifyResult{SessionID: info.ID, Events: int64(len(es)), OK: true}}
}

// resumed is a session stopped during its migrate step and resumed by
// another operator: two attempts, the first interrupted.
func resumed() htmlreport.Session {
	var es events
	es.add(0, "", engine.EvSessionStart, m{"env": "staging"}).
		add(0, "", engine.EvPhaseStart, m{"phase": "run"}).
		add(1, "backfill", engine.EvStepStart, m{"kind": "migrate", "attempt": 1, "phase": "run"}).
		add(2, "backfill", engine.EvCheckpoint, m{"segment": 0, "migrated": 100}).
		add(3, "backfill", engine.EvCheckpoint, m{"segment": 0, "migrated": 200}).
		add(4, "", engine.EvSessionEnd, m{"outcome": "stopped"}).
		add(60, "", engine.EvSessionResume, m{"operator": "bob"}, "bob").
		add(60, "", engine.EvPhaseStart, m{"phase": "run"}, "bob").
		add(61, "backfill", engine.EvStepStart, m{"kind": "migrate", "attempt": 2, "phase": "run"}, "bob").
		add(62, "backfill", engine.EvCheckpoint, m{"segment": 0, "migrated": 300}, "bob").
		add(63, "backfill", engine.EvStepEnd, m{"status": "done", "duration_ms": 5000}, "bob").
		add(63, "", engine.EvPhaseEnd, m{"phase": "run", "status": "done"}, "bob").
		add(64, "", engine.EvSessionEnd, m{"outcome": "completed"}, "bob")
	info := engine.SessionInfo{ID: "S-resumed", Runbook: "split-address", Title: "Split address", Env: "staging",
		Mode: engine.ModeRehearsal, Operator: "alice", Started: t0, Ended: t0.Add(64 * time.Second), Outcome: engine.OutcomeCompleted}
	return htmlreport.Session{Info: info, Events: es}
}

func render(t *testing.T, write func(*bytes.Buffer) error) string {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestReportOutline checks the report's structure (headings, sections,
// timeline rows, charts, tables, learnings), not its pixels, against the
// golden outlines in testdata (go test -update rewrites them).
func TestReportOutline(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"report", func(b *bytes.Buffer) error { return htmlreport.Write(b, rehearsal("staging", engine.ModeRehearsal, 1)) }},
		{"resumed", func(b *bytes.Buffer) error { return htmlreport.Write(b, resumed()) }},
		{"diff", func(b *bytes.Buffer) error {
			return htmlreport.WriteDiff(b, rehearsal("staging", engine.ModeRehearsal, 1), rehearsal("production", engine.ModeLive, 2))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := outline(t, render(t, tc.write))
			path := filepath.Join("testdata", tc.name+".outline")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("outline of the %s differs from %s (go test -update rewrites it)\n--- got\n%s--- want\n%s", tc.name, path, got, want)
			}
		})
	}
}

// outline is a normalised outline of a page: its title, CSP, headings,
// sections and articles, timeline rows with their bars, charts, tables
// with their row counts and learnings, one per line.
func outline(t *testing.T, page string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *html.Node, depth int)
	walk = func(n *html.Node, depth int) {
		if n.Type != html.ElementNode {
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c, depth)
			}
			return
		}
		line := func(format string, args ...any) {
			fmt.Fprintf(&b, "%s%s\n", strings.Repeat("  ", depth), fmt.Sprintf(format, args...))
		}
		switch {
		case n.Data == "title", n.Data == "h1", n.Data == "h2", n.Data == "h3", n.Data == "h4":
			line("%s: %s", n.Data, text(n))
			return
		case n.Data == "meta" && attr(n, "http-equiv") != "":
			line("meta %s: %s", attr(n, "http-equiv"), attr(n, "content"))
		case n.Data == "section", n.Data == "article":
			line("%s#%s", n.Data, attr(n, "id"))
			depth++
		case n.Data == "svg":
			line("svg %q", attr(n, "aria-label"))
			return
		case n.Data == "table":
			line("table: %d rows", strings.Count(render1(n), "<tr>"))
			return
		case hasClass(n, "grow"):
			line("row %s: %d bars (%s)", text(firstChild(n)), strings.Count(render1(n), `class="bar `), barClasses(n))
			return
		case hasClass(n, "learning"):
			line("learning: %s", text(firstChild(n)))
			return
		case n.Data == "dl":
			line("dl: %d entries", strings.Count(render1(n), "<dt>"))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, depth)
		}
	}
	walk(doc, 0)
	return b.String()
}

var barClass = regexp.MustCompile(`class="bar ([a-z-]+)`)

func barClasses(n *html.Node) string {
	var cs []string
	for _, mt := range barClass.FindAllStringSubmatch(render1(n), -1) {
		cs = append(cs, mt[1])
	}
	return strings.Join(cs, " ")
}

func render1(n *html.Node) string {
	var b bytes.Buffer
	_ = html.Render(&b, n)
	return b.String()
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func firstChild(n *html.Node) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			return c
		}
	}
	return n
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	return n.Type == html.ElementNode && n.Data == "div" && (" "+attr(n, "class")+" ") != strings.ReplaceAll(" "+attr(n, "class")+" ", " "+class+" ", "")
}

// TestReportLoadsNothing: the page and the diff carry a CSP that forbids
// every load and reference nothing to load: no src or href, no url() in
// styles, no http(s) URL but the SVG namespaces.
func TestReportLoadsNothing(t *testing.T) {
	namespaces := regexp.MustCompile(`xmlns(:xlink)?="http://www\.w3\.org/[0-9]+/(svg|xlink)"`)
	for name, page := range map[string]string{
		"report": render(t, func(b *bytes.Buffer) error { return htmlreport.Write(b, rehearsal("staging", engine.ModeRehearsal, 1)) }),
		"diff": render(t, func(b *bytes.Buffer) error {
			return htmlreport.WriteDiff(b, rehearsal("staging", engine.ModeRehearsal, 1), rehearsal("production", engine.ModeLive, 2))
		}),
	} {
		if !strings.Contains(page, `content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`) {
			t.Errorf("%s: no Content-Security-Policy forbidding loads", name)
		}
		rest := namespaces.ReplaceAllString(page, "")
		for _, bad := range []string{"http://", "https://", " src=", " href=", "url(", "@import", "<script", "<link"} {
			if strings.Contains(strings.ToLower(rest), bad) {
				t.Errorf("%s: holds %q: a reference to load", name, bad)
			}
		}
		if n := strings.Count(page, "<svg "); n == 0 {
			t.Errorf("%s: no chart", name)
		}
	}
}

// TestReportEscapesUntrustedText: runbook, operator and note text is
// escaped, never markup.
func TestReportEscapesUntrustedText(t *testing.T) {
	s := rehearsal("staging", engine.ModeRehearsal, 1)
	s.Info.Operator = `<img src=x onerror=alert(1)>`
	page := render(t, func(b *bytes.Buffer) error { return htmlreport.Write(b, s) })
	for _, raw := range []string{"<script>", "<b>index</b>", "<img src=x", "Split <address>"} {
		if strings.Contains(page, raw) {
			t.Errorf("untrusted text %q reached the page unescaped", raw)
		}
	}
	for _, esc := range []string{"&lt;script&gt;", "&lt;img src=x onerror=alert(1)&gt;", "Split &lt;address&gt;"} {
		if !strings.Contains(page, esc) {
			t.Errorf("the page does not show %q escaped", esc)
		}
	}
}

// TestReportJournalCheck: the header says whether the hash chain verified.
func TestReportJournalCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    *engine.VerifyResult
		want string
	}{
		{"not checked", nil, "not checked"},
		{"ok", &engine.VerifyResult{OK: true, Events: 42}, "hash chain of 42 events intact"},
		{"tampered", &engine.VerifyResult{BadSeq: 7, Reason: "hash mismatch"}, "NOT verified: event 7: hash mismatch"},
		{"row edited", &engine.VerifyResult{Reason: "session row outcome differs"}, "NOT verified: session row outcome differs"},
		{"keyed", &engine.VerifyResult{NeedsKey: true}, "LOCKSTEP_JOURNAL_KEY was not given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rehearsal("staging", engine.ModeRehearsal, 1)
			s.Verified = tc.v
			page := render(t, func(b *bytes.Buffer) error { return htmlreport.Write(b, s) })
			if !strings.Contains(page, tc.want) {
				t.Errorf("the header does not say %q", tc.want)
			}
			if ok := strings.Contains(page, `class="badge ok">verified`); ok != (tc.v != nil && tc.v.OK) {
				t.Errorf("verified badge shown = %v, want %v", ok, !ok)
			}
		})
	}
}
