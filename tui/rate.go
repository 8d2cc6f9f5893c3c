package tui

import (
	"fmt"
	"math"
	"strconv"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// rateStep is the factor + and - change the write rate by.
const rateStep = 1.25

// writeRate is the runner's view of the migrate write-rate ceiling: the
// environment's max_write_rate until the operator changes it with + or -
// (an engine rate command, journaled as a rate event).
type writeRate struct {
	envMax   int // the environment's max_write_rate (0: unlimited)
	override int // the last rate event's rate (0: none)
	asked    int // the rate asked for and not journaled yet (0: none)
}

// ceiling is the rate in force: the override, else the environment's.
func (w writeRate) ceiling() int {
	if w.override > 0 {
		return w.override
	}
	return w.envMax
}

// next is the rate one + (up) or - press asks for, from the ceiling in
// force, or from the measured rate when nothing caps it; at least 1.
func (w writeRate) next(up bool, measured float64) int {
	cur := float64(w.ceiling())
	if w.asked > 0 {
		cur = float64(w.asked)
	}
	if cur <= 0 {
		cur = math.Max(measured, 1)
	}
	n := cur / rateStep
	if up {
		n = cur * rateStep
	}
	r := int(math.Round(n))
	if r == int(cur) { // small rates still move
		if up {
			r++
		} else {
			r--
		}
	}
	return max(r, 1)
}

// envMaxRate is env's max_write_rate in rb (0 when unknown or unlimited).
func envMaxRate(rb *runbook.Runbook, env string) int {
	if rb == nil {
		return 0
	}
	if e := rb.Env(env); e != nil {
		return e.MaxWriteRate
	}
	return 0
}

// migrateRunning is the running migrate step, nil when none runs.
func (m *Model) migrateRunning() *stepRow {
	if r := m.runningStep(); r != nil && r.step.Kind == runbook.KindMigrate {
		return r
	}
	return nil
}

// changeRate asks the engine for a higher (up) or lower write rate while
// a migrate step runs. The engine journals the change; the rate event
// then updates the progress block.
func (m *Model) changeRate(up bool) {
	if m.migrateRunning() == nil {
		m.flashNotice("+/- change the write rate while a migrate step runs")
		return
	}
	if m.ctrl == nil {
		return
	}
	r := m.rate.next(up, m.prog.data.Rate)
	m.rate.asked = r
	m.ctrl.Control(engine.Command{Kind: engine.CmdRate, Text: strconv.Itoa(r)})
	m.flashNotice(fmt.Sprintf("write rate → %s items/s requested", count(int64(r))))
}

// observeRate takes a journaled rate change.
func (m *Model) observeRate(ev engine.Event) {
	if ev.Kind != engine.EvRate {
		return
	}
	var d struct{ Rate int }
	if ev.Decode(&d) != nil {
		return
	}
	m.rate.override, m.rate.asked = d.Rate, 0
	m.flashNotice(fmt.Sprintf("write rate set to %s items/s (journaled)", count(int64(d.Rate))))
}

// rateLine is the line under a migrate's progress: the ceiling in force
// and the keys that change it.
func (m *Model) rateLine() string {
	c := m.rate.ceiling()
	text := "max write rate: unlimited"
	if c > 0 {
		text = fmt.Sprintf("max write rate %s items/s", count(int64(c)))
		if m.rate.override > 0 {
			text += " (set by operator)"
		}
	}
	if m.rate.asked > 0 {
		text += fmt.Sprintf(" · %s requested", count(int64(m.rate.asked)))
	}
	return text + m.st.Dim.Render(" · +/- change")
}
