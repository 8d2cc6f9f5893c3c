package plain

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// ProgressEvery is the minimum interval between two printed progress
// lines of one step.
const ProgressEvery = 3 * time.Second

// Observer returns an engine observer that prints events to out as
// readable lines: phase headers, `▶ step (kind)`, indented output,
// `✓ step 1.2s` / `✗ step: error` / `↷ step skipped: reason`, decisions and
// approvals with their reasons, progress at most every ProgressEvery per
// step, and the outcome with the session id. It is safe for concurrent use
// and never blocks on anything but out.
func Observer(out io.Writer) func(engine.Event) {
	p := &printer{out: out, lastProgress: map[string]time.Time{}, skipped: map[string]bool{},
		resulted: map[string]bool{}, kinds: map[string]string{}}
	return p.event
}

type printer struct {
	mu           sync.Mutex
	out          io.Writer
	lastProgress map[string]time.Time
	skipped      map[string]bool   // steps whose skip was already printed
	resulted     map[string]bool   // steps whose result event was printed
	kinds        map[string]string // step id → kind, from step.start
}

// Event payloads, decoded loosely: unknown fields are ignored.
type (
	sessionStartData struct {
		Runbook  string `json:"runbook"`
		Env      string `json:"env"`
		Mode     string `json:"mode"`
		Operator string `json:"operator"`
	}
	stepStartData struct {
		Kind    string `json:"kind"`
		Attempt int    `json:"attempt"`
	}
	stepEndData struct {
		Status     string          `json:"status"`
		Error      string          `json:"error"`
		Reason     string          `json:"reason"`
		DurationMS int64           `json:"duration_ms"`
		Result     json.RawMessage `json:"result"`
	}
	progressData struct {
		Done      int64   `json:"done"`
		Total     int64   `json:"total"`
		Rate      float64 `json:"rate"`
		Conflicts int64   `json:"conflicts"`
		Throttles int64   `json:"throttles"`
	}
	// anyData holds the fields several event kinds share.
	anyData struct {
		Phase    string `json:"phase"`
		Status   string `json:"status"`
		Reason   string `json:"reason"`
		Choice   string `json:"choice"`
		Approver string `json:"approver"`
		Role     string `json:"role"`
		What     string `json:"what"`
		Value    any    `json:"value"`
		Channel  string `json:"channel"`
		To       any    `json:"to"`
		Sent     *bool  `json:"sent"`
		Text     string `json:"text"`
		By       string `json:"by"`
		Stream   string `json:"stream"`
		Item     string `json:"item"`
		Index    *int   `json:"index"`
		Message  string `json:"message"`
		Outcome  string `json:"outcome"`
		Error    string `json:"error"`
		Operator string `json:"operator"`
	}
)

func (p *printer) event(ev engine.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var d anyData
	_ = ev.Decode(&d) // a payload of another shape prints with empty fields
	switch ev.Kind {
	case engine.EvSessionStart:
		var s sessionStartData
		_ = ev.Decode(&s)
		p.printf("lockstep: %s on %s (%s) by %s — session %s\n", s.Runbook, s.Env, s.Mode, s.Operator, ev.SessionID)
	case engine.EvSessionResume:
		p.printf("lockstep: resuming session %s (operator %s)\n", ev.SessionID, ev.Operator)
	case engine.EvPhaseStart:
		p.printf("\n== %s ==\n", d.Phase)
	case engine.EvStepStart:
		var s stepStartData
		_ = ev.Decode(&s)
		delete(p.skipped, ev.Step)
		delete(p.resulted, ev.Step)
		p.kinds[ev.Step] = s.Kind
		if s.Attempt > 1 {
			p.printf("▶ %s (%s) attempt %d\n", ev.Step, s.Kind, s.Attempt)
		} else {
			p.printf("▶ %s (%s)\n", ev.Step, s.Kind)
		}
	case engine.EvStepEnd:
		p.stepEnd(ev)
	case engine.EvStepSkip:
		p.skip(ev.Step, d.Reason)
	case engine.EvStepRetry:
		p.printf("↻ %s: retry%s\n", ev.Step, suffix(d.Reason))
	case engine.EvStepMarkDone:
		p.printf("✓ %s marked done by %s: %s\n", ev.Step, ev.Operator, d.Reason)
	case engine.EvInterrupted:
		p.printf("⚠ %s was interrupted%s\n", ev.Step, suffix(d.Reason))
	case engine.EvOutput:
		p.output(d.Stream, d.Text)
	case engine.EvCheck:
		p.printf("    ☑ %s\n", d.Item)
	case engine.EvDecision:
		p.printf("  ◆ %s: decided %q by %s — %s\n", ev.Step, d.Choice, ev.Operator, d.Reason)
	case engine.EvApproval:
		p.printf("  ◆ %s: approved by %s (%s) — %s\n", ev.Step, d.Approver, d.Role, d.Reason)
	case engine.EvConfirm:
		p.printf("  ◆ confirmed %s: %v (by %s)\n", d.What, d.Value, ev.Operator)
	case engine.EvNotify:
		p.notify(ev.Step, d)
	case engine.EvNote:
		by := ev.Operator
		if d.By != "" {
			by = d.By // the engine's own note
		}
		p.printf("  ✎ note by %s: %s\n", by, d.Text)
	case engine.EvPause:
		p.printf("⏸ paused by %s\n", ev.Operator)
	case engine.EvResume:
		p.printf("⏵ resumed by %s\n", ev.Operator)
	case engine.EvAbort:
		p.printf("■ aborted by %s%s\n", ev.Operator, suffix(d.Reason))
	case engine.EvRollbackStart:
		p.printf("\n== rollback%s ==\n", suffix(d.Reason))
	case engine.EvRollbackEnd:
		p.printf("== rollback %s ==\n", orDefault(d.Status, "ended"))
	case engine.EvProgress:
		p.progress(ev)
	case engine.EvWarning:
		p.printf("  ⚠ %s\n", engine.WarningText(ev))
	case engine.EvResult:
		if len(ev.Data) > 0 {
			p.resulted[ev.Step] = true
			p.printf("    = %s\n", clip(string(ev.Data), 240))
		}
	case engine.EvSessionEnd:
		p.printf("\n%s — session %s\n", outcomeLine(d.Outcome), ev.SessionID)
		if d.Error != "" {
			p.printf("  error: %s\n", d.Error)
		}
	}
}

func (p *printer) stepEnd(ev engine.Event) {
	var e stepEndData
	_ = ev.Decode(&e)
	switch e.Status {
	case "done":
		p.result(ev.Step, e.Result)
		p.printf("✓ %s %s\n", ev.Step, seconds(e.DurationMS))
	case "skipped":
		p.skip(ev.Step, e.Reason)
	case "failed":
		p.printf("✗ %s: %s\n", ev.Step, orDefault(e.Error, "failed"))
	default:
		p.printf("• %s %s%s\n", ev.Step, e.Status, suffix(e.Error))
	}
}

// resultKinds are the step kinds whose step.end result is worth a line:
// measurements and query rows, not echoes of what was already printed.
var resultKinds = map[string]bool{"sql": true, "estimate": true, "backup": true,
	"restore-drill": true, "migrate": true, "verify": true}

// result prints a step's result: query rows for sql steps, compact JSON
// for the other data steps.
func (p *printer) result(step string, raw json.RawMessage) {
	kind := p.kinds[step]
	if len(raw) == 0 || string(raw) == "null" || p.resulted[step] || !resultKinds[kind] {
		return
	}
	if kind == "sql" {
		var r struct {
			Results []struct {
				Statement    string     `json:"statement"`
				RowsAffected int64      `json:"rows_affected"`
				Columns      []string   `json:"columns"`
				Rows         [][]string `json:"rows"`
			} `json:"results"`
		}
		if json.Unmarshal(raw, &r) == nil && len(r.Results) > 0 {
			for _, st := range r.Results {
				if len(st.Columns) == 0 {
					if isDML(st.Statement) {
						p.printf("    = %s (%d row(s))\n", clip(st.Statement, 80), st.RowsAffected)
					} else {
						p.printf("    = %s\n", clip(st.Statement, 80))
					}
					continue
				}
				for _, row := range st.Rows {
					cells := make([]string, 0, len(row))
					for i, v := range row {
						if i < len(st.Columns) {
							cells = append(cells, st.Columns[i]+"="+v)
						}
					}
					p.printf("    = %s\n", strings.Join(cells, "  "))
				}
			}
			return
		}
	}
	p.printf("    = %s\n", clip(string(raw), 240))
}

// isDML reports statements whose affected-row count means something.
func isDML(stmt string) bool {
	f := strings.Fields(stmt)
	if len(f) == 0 {
		return false
	}
	switch strings.ToUpper(f[0]) {
	case "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH":
		return true
	}
	return false
}

func (p *printer) skip(step, reason string) {
	if p.skipped[step] {
		return
	}
	p.skipped[step] = true
	p.printf("↷ %s skipped: %s\n", step, orDefault(reason, "no reason given"))
}

// output prints a chunk of streamed output, each line indented.
func (p *printer) output(stream, text string) {
	text = strings.TrimRight(text, "\n")
	if text == "" {
		return
	}
	mark := "│"
	if stream == "stderr" {
		mark = "┆"
	}
	for _, line := range strings.Split(text, "\n") {
		p.printf("    %s %s\n", mark, strings.TrimRight(line, "\r"))
	}
}

func (p *printer) notify(step string, d anyData) {
	to := ""
	switch v := d.To.(type) {
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = fmt.Sprint(x)
		}
		to = " to " + strings.Join(parts, ", ")
	case string:
		if v != "" {
			to = " to " + v
		}
	}
	// The event is journaled before the message goes out: the step's end
	// (done or failed) says whether it went.
	state := "sending"
	if d.Sent != nil && !*d.Sent {
		state = "not sent"
	}
	p.printf("  ✉ %s: %s via %s%s\n", step, state, orDefault(d.Channel, "?"), to)
	// The message itself, so a dry-run or CI log shows what goes out;
	// a live stdout channel prints it already.
	if d.Message != "" && (d.Channel != "stdout" || state == "not sent") {
		for _, line := range strings.Split(strings.TrimRight(d.Message, "\n"), "\n") {
			p.printf("    » %s\n", line)
		}
	}
}

// progress prints a migrate progress line at most every ProgressEvery.
func (p *printer) progress(ev engine.Event) {
	var d progressData
	_ = ev.Decode(&d)
	now := ev.Time
	if now.IsZero() {
		now = time.Now()
	}
	last, seen := p.lastProgress[ev.Step]
	final := d.Total > 0 && d.Done >= d.Total
	if seen && now.Sub(last) < ProgressEvery && !final {
		return
	}
	p.lastProgress[ev.Step] = now
	pct := ""
	if d.Total > 0 {
		pct = fmt.Sprintf("/%d (%.0f%%)", d.Total, 100*float64(d.Done)/float64(d.Total))
	}
	p.printf("    … %d%s  %.0f items/s  %d conflicts  %d throttles\n", d.Done, pct, d.Rate, d.Conflicts, d.Throttles)
}

func (p *printer) printf(format string, args ...any) {
	fmt.Fprintf(p.out, format, args...)
}

// outcomeLine renders a session outcome for the last line.
func outcomeLine(outcome string) string {
	switch engine.Outcome(outcome) {
	case engine.OutcomeCompleted:
		return "✓ completed"
	case engine.OutcomeFailed:
		return "✗ failed"
	case engine.OutcomeAborted:
		return "■ aborted"
	case engine.OutcomeStopped:
		return "⏸ stopped (resumable)"
	case engine.OutcomeRolledBack:
		return "↺ rolled back"
	}
	return "session ended: " + outcome
}

// seconds renders milliseconds as "1.2s".
func seconds(ms int64) string {
	return fmt.Sprintf("%.1fs", float64(ms)/1000)
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// clip shortens s to n bytes, marking the cut.
func clip(s string, n int) string {
	var v any
	if json.Unmarshal([]byte(s), &v) == nil {
		if b, err := json.Marshal(v); err == nil {
			s = string(b)
		}
	}
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
