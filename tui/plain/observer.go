package plain

import (
	"encoding/json"
	"errors"
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

func (p *printer) event(ev engine.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	payload, err := engine.DecodePayload(ev)
	switch {
	case errors.Is(err, engine.ErrUnknownKind):
		return
	case err != nil:
		p.printf("  ⚠ %s\n", engine.UnreadableText(ev, err))
		return
	}
	if p.session(ev, payload) || p.step(ev, payload) {
		return
	}
	switch d := payload.(type) {
	case engine.Output:
		p.output(d.Stream, d.Text)
	case engine.CheckTicked:
		p.printf("    ☑ %s\n", d.Item)
	case engine.Decided:
		p.printf("  ◆ %s: decided %q by %s — %s\n", ev.Step, d.Choice, ev.Operator, d.Reason)
	case engine.Approved:
		p.printf("  ◆ %s: approved by %s (%s) — %s\n", ev.Step, d.Approver, d.Role, d.Reason)
	case engine.Confirmed:
		p.printf("  ◆ confirmed %s: %v (by %s)\n", d.What, d.Value, ev.Operator)
	case engine.Notified:
		p.notify(ev.Step, d)
	case engine.Note:
		by := ev.Operator
		if d.By != "" {
			by = d.By // the engine's own note
		}
		p.printf("  ✎ note by %s: %s\n", by, d.Text)
	case engine.Progress:
		p.progress(ev, d)
	case engine.Warning:
		p.printf("  ⚠ %s\n", d.Text())
	case engine.Result:
		if len(ev.Data) > 0 {
			p.resulted[ev.Step] = true
			p.printf("    = %s\n", clip(string(ev.Data), 240))
		}
	}
}

// session prints the session- and control-level events; it reports
// whether payload was one.
func (p *printer) session(ev engine.Event, payload engine.Payload) bool {
	switch d := payload.(type) {
	case engine.SessionStarted:
		p.printf("lockstep: %s on %s (%s) by %s — session %s\n", d.Runbook, d.Env, d.Mode, d.Operator, ev.SessionID)
	case engine.SessionResumed:
		p.printf("lockstep: resuming session %s (operator %s)\n", ev.SessionID, ev.Operator)
	case engine.PhaseStarted:
		p.printf("\n== %s ==\n", d.Phase)
	case engine.Paused:
		p.printf("⏸ paused by %s\n", ev.Operator)
	case engine.Resumed:
		p.printf("⏵ resumed by %s\n", ev.Operator)
	case engine.Aborted:
		p.printf("■ aborted by %s%s\n", ev.Operator, suffix(d.Reason))
	case engine.RollbackStarted:
		p.printf("\n== rollback%s ==\n", suffix(d.Reason))
	case engine.RollbackEnded:
		p.printf("== rollback ended ==\n")
	case engine.SessionEnded:
		p.printf("\n%s — session %s\n", outcomeLine(string(d.Outcome)), ev.SessionID)
		if d.Error != "" {
			p.printf("  error: %s\n", d.Error)
		}
	default:
		return false
	}
	return true
}

// step prints a step's lifecycle events; it reports whether payload was one.
func (p *printer) step(ev engine.Event, payload engine.Payload) bool {
	switch d := payload.(type) {
	case engine.StepStarted:
		delete(p.skipped, ev.Step)
		delete(p.resulted, ev.Step)
		p.kinds[ev.Step] = d.StepKind
		if d.Attempt > 1 {
			p.printf("▶ %s (%s) attempt %d\n", ev.Step, d.StepKind, d.Attempt)
		} else {
			p.printf("▶ %s (%s)\n", ev.Step, d.StepKind)
		}
	case engine.StepEnded:
		p.stepEnd(ev, d)
	case engine.StepSkip:
		p.skip(ev.Step, d.Reason)
	case engine.StepRetry:
		p.printf("↻ %s: retry%s\n", ev.Step, suffix(d.Reason))
	case engine.StepMarkDone:
		p.printf("✓ %s marked done by %s: %s\n", ev.Step, ev.Operator, d.Reason)
	case engine.StepInterruption:
		p.printf("⚠ %s was interrupted\n", ev.Step)
	default:
		return false
	}
	return true
}

func (p *printer) stepEnd(ev engine.Event, e engine.StepEnded) {
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
	"restore-drill": true, "restore": true, "migrate": true, "verify": true}

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

func (p *printer) notify(step string, d engine.Notified) {
	to := ""
	if d.To != nil {
		to = " to " + strings.Join(d.To, ", ")
	}
	// The event is journaled before the message goes out: the step's end
	// (done or failed) says whether it went.
	state := "sending"
	if !d.Sent {
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

// progress prints a progress line at most every ProgressEvery: done of
// total, items/s and ETA, and a migrate's conflicts and throttles (and
// a fleet step's workers alive and segments by state).
func (p *printer) progress(ev engine.Event, d engine.Progress) {
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
	if p.kinds[ev.Step] != "migrate" {
		eta := ""
		if d.ETAms >= 1000 { // under a second reads as "ETA 0s": say nothing
			eta = "  ETA " + (time.Duration(d.ETAms) * time.Millisecond).Round(time.Second).String()
		}
		p.printf("    … %d%s  %.0f items/s%s\n", d.Done, pct, d.Rate, eta)
		return
	}
	fleet := ""
	if d.Segments > 0 {
		fleet = fmt.Sprintf("  %d workers alive  segments %d done / %d claimed / %d left",
			d.WorkersAlive, d.SegmentsDone, d.SegmentsClaimed, d.SegmentsLeft)
	}
	p.printf("    … %d%s  %.0f items/s  %d conflicts  %d throttles%s\n", d.Done, pct, d.Rate, d.Conflicts, d.Throttles, fleet)
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

// seconds renders milliseconds as "1.2s" (nil: 0.0s).
func seconds(ms *int64) string {
	var n int64
	if ms != nil {
		n = *ms
	}
	return fmt.Sprintf("%.1fs", float64(n)/1000)
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
