package timeline

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// WriteMarkdown writes the timeline as a post-mortem document: a summary
// table, estimate versus actual, one table row per step, then per step the
// decisions, checks, errors, results and output excerpt, and the
// session's notes in order.
func (t Timeline) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	t.mdSummary(bw)
	t.mdSteps(bw)
	for _, s := range t.Steps {
		mdStepDetail(bw, s)
	}
	t.mdNotes(bw)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write timeline markdown: %w", err)
	}
	return nil
}

func (t Timeline) mdSummary(w io.Writer) {
	i := t.Info
	title := i.ID
	if i.Title != "" {
		title += " — " + i.Title
	}
	fmt.Fprintf(w, "# Session %s\n\n| | |\n|---|---|\n", mdText(title))
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "| %s | %s |\n", k, mdCell(v))
		}
	}
	row("Runbook", i.Runbook)
	row("File", i.RunbookPath)
	row("SHA-256", i.RunbookSHA256)
	row("Environment", i.Env)
	row("Mode", string(i.Mode))
	row("Operator", i.Operator)
	row("Started", mdTime(i.Started))
	row("Ended", mdTime(i.Ended))
	dur := engine.FormatDuration(t.Duration)
	if t.Pauses > 0 {
		dur += fmt.Sprintf(" (paused %d× for %s)", t.Pauses, engine.FormatDuration(t.Paused))
	}
	row("Duration", dur)
	row("Outcome", first(string(t.Outcome), "running"))
	row("Error", t.Error)
	if t.Resumes > 0 {
		row("Resumed", fmt.Sprintf("%d×", t.Resumes))
	}
	row("Events", fmt.Sprint(i.Events))
	if est, act, ok := t.EstimateVsActual(); ok {
		fmt.Fprintf(w, "\n## Estimate vs actual\n\nEstimated %s, actual %s (%s).\n",
			engine.FormatDuration(est), engine.FormatDuration(act), formatDelta(act-est, est))
	}
}

func (t Timeline) mdSteps(w io.Writer) {
	fmt.Fprintf(w, "\n## Steps\n\n")
	if len(t.Steps) == 0 {
		fmt.Fprintf(w, "No step ran.\n")
		return
	}
	fmt.Fprintf(w, "| Step | Phase | Kind | Status | Attempts | Duration |\n|---|---|---|---|---|---|\n")
	for _, s := range t.Steps {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", mdCell(s.ID), mdCell(s.Phase), mdCell(s.Kind),
			s.Status, attemptsText(s), engine.FormatDuration(s.Duration))
	}
}

// attemptsText is the step's attempt count, with how many failed if any
// did: "2 (1 failed)".
func attemptsText(s Step) string {
	if n := s.Failed(); n > 0 {
		return fmt.Sprintf("%d (%d failed)", s.Attempts, n)
	}
	return fmt.Sprint(s.Attempts)
}

// mdEarlierAttempts writes one line per attempt before the last: how it
// ended, when, and its error or reason. The last attempt is the step's
// own status, error and reason.
func mdEarlierAttempts(w io.Writer, s Step) {
	if len(s.History) < 2 {
		return
	}
	for _, a := range s.History[:len(s.History)-1] {
		fmt.Fprintf(w, "- Attempt %d %s", a.Attempt, a.Status)
		switch {
		case !a.Ended.IsZero():
			fmt.Fprintf(w, " at %s", mdTime(a.Ended))
		case !a.Started.IsZero():
			fmt.Fprintf(w, " (started %s)", mdTime(a.Started))
		}
		if text := first(a.Error, a.Reason); text != "" {
			fmt.Fprintf(w, ": %s", mdText(text))
		}
		fmt.Fprintln(w)
	}
}

func mdStepDetail(w io.Writer, s Step) {
	fmt.Fprintf(w, "\n### %s", mdText(s.ID))
	if s.Kind != "" {
		fmt.Fprintf(w, " (%s)", mdText(s.Kind))
	}
	fmt.Fprintf(w, " — %s\n\n", s.Status)
	if !s.Started.IsZero() {
		fmt.Fprintf(w, "- Started %s, ended %s: %s over %d attempt(s)\n", mdTime(s.Started),
			first(mdTime(s.Ended), "—"), engine.FormatDuration(s.Duration), s.Attempts)
	}
	if s.RollbackOf != "" {
		fmt.Fprintf(w, "- Rolls back %s\n", mdText(s.RollbackOf))
	}
	if s.Reason != "" {
		fmt.Fprintf(w, "- Reason: %s\n", mdText(s.Reason))
	}
	mdEarlierAttempts(w, s)
	if s.Error != "" {
		fmt.Fprintf(w, "- Error: %s\n", mdText(s.Error))
	}
	for _, d := range s.Decisions {
		fmt.Fprintf(w, "- %s", mdDecision(d))
		fmt.Fprintf(w, " (%s, %s)\n", mdText(d.Operator), mdTime(d.Time))
	}
	for _, c := range s.Checks {
		fmt.Fprintf(w, "- [x] %s (%s, %s)\n", mdText(c.Item), mdText(c.Operator), mdTime(c.Time))
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "- %s: %s (%s)\n", n.Kind, mdText(n.Text), mdTime(n.Time))
	}
	if s.Checkpoints > 0 {
		fmt.Fprintf(w, "- %d checkpoint(s)\n", s.Checkpoints)
	}
	for _, r := range s.Results {
		fmt.Fprintf(w, "- Result: `%s`\n", strings.ReplaceAll(string(r), "`", "'"))
	}
	if len(s.Output) > 0 {
		fmt.Fprintf(w, "\nOutput (last %d of %d lines):\n\n", len(s.Output), s.OutputLines)
		mdFence(w, s.Output)
	}
}

func mdDecision(d Decision) string {
	var b strings.Builder
	switch d.Kind {
	case "approval":
		fmt.Fprintf(&b, "Approved by **%s**", mdText(d.Choice))
		if d.Role != "" {
			fmt.Fprintf(&b, " as %s", mdText(d.Role))
		}
	case "decision":
		fmt.Fprintf(&b, "Decided **%s**", mdText(d.Choice))
	case "confirm":
		fmt.Fprintf(&b, "Confirmed %s: **%s**", mdText(d.Reason), mdText(d.Choice))
		return b.String()
	default:
		fmt.Fprintf(&b, "Operator chose **%s**", strings.ReplaceAll(d.Kind, "_", " "))
	}
	if d.Reason != "" {
		fmt.Fprintf(&b, " — %s", mdText(d.Reason))
	}
	return b.String()
}

func (t Timeline) mdNotes(w io.Writer) {
	if len(t.Notes) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## Notes and interventions\n\n")
	for _, n := range t.Notes {
		fmt.Fprintf(w, "- %s **%s**", mdTime(n.Time), n.Kind)
		if n.Step != "" {
			fmt.Fprintf(w, " during %s", mdText(n.Step))
		}
		if n.Operator != "" {
			fmt.Fprintf(w, " by %s", mdText(n.Operator))
		}
		if n.Text != "" {
			fmt.Fprintf(w, ": %s", mdText(n.Text))
		}
		fmt.Fprintln(w)
	}
}

// mdFence writes lines in a fenced block whose fence is longer than any
// backtick run inside them.
func mdFence(w io.Writer, lines []string) {
	fence := "```"
	for _, l := range lines {
		for strings.Contains(l, fence) {
			fence += "`"
		}
	}
	fmt.Fprintf(w, "%s\n%s\n%s\n", fence, strings.Join(lines, "\n"), fence)
}

// mdText flattens s to one line.
func mdText(s string) string {
	// Angle brackets are escaped so "<builtin>/demo.yaml" is not read as HTML.
	return mdEscaper.Replace(strings.Join(strings.Fields(s), " "))
}

var mdEscaper = strings.NewReplacer("<", `\<`, ">", `\>`)

// mdCell is mdText with table pipes escaped.
func mdCell(s string) string { return strings.ReplaceAll(mdText(s), "|", `\|`) }

func mdTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// formatDelta renders a signed difference and, when base is non-zero, its
// percentage of base: "+20.0s (+25%)".
func formatDelta(delta, base time.Duration) string {
	sign := "+"
	if delta < 0 {
		sign = ""
	}
	s := sign + engine.FormatDuration(delta)
	if base > 0 {
		s += fmt.Sprintf(" (%s%.0f%%)", sign, float64(delta)/float64(base)*100)
	}
	return s
}
