package htmlreport

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/timeline"
)

// WriteDiff renders two sessions side by side (typically a rehearsal and
// the live run) as a self-contained HTML page: each session's header,
// every step's status, attempts and duration in both with a chart of the
// durations, and the decisions and approvals that differ.
func WriteDiff(w io.Writer, a, b Session) error {
	p, err := buildDiff(a, b)
	if err != nil {
		return err
	}
	if err := pageTemplate().ExecuteTemplate(w, "diff", p); err != nil {
		return fmt.Errorf("write html diff: %w", err)
	}
	return nil
}

// diffPage is what the diff template shows.
type diffPage struct {
	Title                      string
	A, B                       header
	Chart                      template.HTML
	Steps                      []diffRow
	TotalA, TotalB, TotalDelta string
	Decisions                  []diffDecisions
	Migrations                 []diffMigration
}

// diffMigration is a migrate step as each session ran it (nil: the
// session has no such step).
type diffMigration struct {
	ID   string
	A, B *migration
}

// diffRow is one step in both sessions; "—" where a session lacks it.
type diffRow struct {
	ID                   string
	StatusA, StatusB     string
	AttemptsA, AttemptsB string
	TimeA, TimeB, Delta  string
}

// diffDecisions is a step whose decisions or approvals differ.
type diffDecisions struct {
	ID, A, B string
}

func buildDiff(a, b Session) (diffPage, error) {
	ta, tb := timeline.Build(a.Info, a.Events), timeline.Build(b.Info, b.Events)
	d := timeline.Compare(ta, tb)
	p := diffPage{Title: first(a.Info.Title, a.Info.Runbook), A: headerOf(ta, a.Verified), B: headerOf(tb, b.Verified),
		TotalA: engine.FormatDuration(d.DurationA), TotalB: engine.FormatDuration(d.DurationB),
		TotalDelta: delta(d.DurationB-d.DurationA, d.DurationA)}
	if a.Info.Title != b.Info.Title && b.Info.Title != "" {
		p.Title += " / " + b.Info.Title
	}
	var ids []string
	var secA, secB []float64
	for _, s := range d.Steps {
		r := diffRow{ID: s.ID, StatusA: side(string(s.StatusA), string(s.StatusA)), StatusB: side(string(s.StatusB), string(s.StatusB)),
			AttemptsA: side(string(s.StatusA), attempts(s.AttemptsA, s.FailedA)), AttemptsB: side(string(s.StatusB), attempts(s.AttemptsB, s.FailedB)),
			TimeA: side(string(s.StatusA), engine.FormatDuration(s.DurationA)), TimeB: side(string(s.StatusB), engine.FormatDuration(s.DurationB)), Delta: "—"}
		if s.StatusA != "" && s.StatusB != "" {
			r.Delta = delta(s.Delta, s.DurationA)
		}
		p.Steps = append(p.Steps, r)
		if s.DecisionsDiffer() {
			p.Decisions = append(p.Decisions, diffDecisions{ID: s.ID, A: decisionsText(s.DecisionsA), B: decisionsText(s.DecisionsB)})
		}
		ids, secA, secB = append(ids, s.ID), append(secA, s.DurationA.Seconds()), append(secB, s.DurationB.Seconds())
	}
	chart, err := durationChart("step durations (s)", ids, secA, secB,
		fmt.Sprintf("A: %s (%s)", a.Info.Env, a.Info.Mode), fmt.Sprintf("B: %s (%s)", b.Info.Env, b.Info.Mode))
	if err != nil {
		return p, err
	}
	p.Chart = chart
	p.Migrations, err = diffMigrations(ta, tb, seriesOf(a.Events), seriesOf(b.Events))
	return p, err
}

// diffMigrations pairs the migrate steps of a and b by id, in a's order
// then b's.
func diffMigrations(ta, tb timeline.Timeline, sa, sb map[string]*stepSeries) ([]diffMigration, error) {
	var out []diffMigration
	index := map[string]int{}
	for _, side := range []struct {
		tl timeline.Timeline
		s  map[string]*stepSeries
		b  bool
	}{{ta, sa, false}, {tb, sb, true}} {
		for _, st := range side.tl.Steps {
			if st.Kind != "migrate" {
				continue
			}
			m, err := migrationOf(side.tl, st, side.s[st.ID])
			if err != nil {
				return nil, err
			}
			i, ok := index[st.ID]
			if !ok {
				i = len(out)
				index[st.ID] = i
				out = append(out, diffMigration{ID: st.ID})
			}
			if side.b {
				out[i].B = &m
			} else {
				out[i].A = &m
			}
		}
	}
	return out, nil
}

// side is v, or "—" when the step is not in that session (status "").
func side(status, v string) string {
	if status == "" {
		return "—"
	}
	return v
}

func attempts(n, failed int) string {
	if failed > 0 {
		return fmt.Sprintf("%d (%d failed)", n, failed)
	}
	return fmt.Sprint(n)
}

// delta renders B − A with its percentage of A: "+1.2s (+20%)".
func delta(d, base time.Duration) string {
	sign := "+"
	if d < 0 {
		sign = ""
	}
	s := sign + engine.FormatDuration(d)
	if base > 0 {
		s += fmt.Sprintf(" (%s%.0f%%)", sign, float64(d)/float64(base)*100)
	}
	return s
}

// decisionsText renders decisions as "decided X; approved by Y as R".
func decisionsText(ds []timeline.DiffDecision) string {
	if len(ds) == 0 {
		return "—"
	}
	parts := make([]string, len(ds))
	for i, d := range ds {
		switch d.Kind {
		case "approval":
			parts[i] = "approved by " + d.Choice
			if d.Role != "" {
				parts[i] += " as " + d.Role
			}
		default:
			parts[i] = "decided " + d.Choice
		}
	}
	return strings.Join(parts, "; ")
}
