package tmux_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// What the test types, checked against the journal at the end.
const (
	skipReason     = "nobody else on call for the demo"
	rationale      = "both shapes stay valid while data moves"
	approvalReason = "backup drilled, window agreed"
)

const (
	promptTimeout = 15 * time.Second // a key's effect on the screen
	stepTimeout   = 90 * time.Second // a long step (backup, drill, migrate) on a loaded machine
	runTimeout    = 3 * time.Minute  // one run of the runner, start to end
	holdFor       = time.Second      // how long a paused session must hold still
)

// driver walks the runner through whatever the screen asks, as an operator
// would, and remembers what it answered. It does not know the demo's steps:
// it reads the prompt in play from the footer and the step pane.
//
// Its policy: the first prompt that offers "s skip" is skipped with
// skipReason (a checklist gets its first item ticked first); every other
// prompt is answered (checklists ticked in full, decisions with rationale,
// approvals by the first holder of the role, interrupted steps retried).
// In the first run it pauses once while a backup or drill runs and
// continues, then pauses the migrate and quits.
type driver struct {
	tm  *term
	run string // the label of the shell's exit marker: "demo" or "resume"

	skippedStep string
	ticked      map[string][]string // step → items ticked
	decision    struct{ step, choice string }
	approval    struct{ step, approver string }
	pauses      int
	checked80   bool   // the first decision was also checked at 80×24
	quitStep    string // the step running when the test quit
	resumeHint  bool   // the shell showed "lockstep resume ID" after the quit
	sawResumed  bool   // the quit step's progress was seen after the resume
}

// drive answers prompts until done reports true or the session ends, and
// returns the last screen.
func (d *driver) drive(done func() bool) screen {
	deadline := time.Now().Add(runTimeout)
	for !done() {
		if time.Now().After(deadline) {
			d.tm.fatalf("the %s run did not end within %s", d.run, runTimeout)
		}
		s := d.tm.settled(stepTimeout)
		switch s.promptKind() {
		case kindEnded:
			return s
		case kindChecklist:
			d.checklist(s)
		case kindDecision:
			d.decide(s)
		case kindApproval:
			d.approve(s)
		case kindManual:
			d.acknowledge(s)
		case kindDestructive:
			d.destructive(s)
		case kindInterrupted:
			d.retry(s)
		case kindConfirmEnv:
			d.confirmEnv(s)
		case kindFailed:
			d.tm.fatalf("a step failed; the test does not expect failures in the demo")
		case kindReason:
			d.tm.fatalf("a reason field is open that the test did not open")
		case kindRunning:
			d.running(s)
		default:
			time.Sleep(pollEvery) // the shell, before the runner draws
		}
	}
	return d.tm.last
}

// running acts while steps run: the scheduled pauses and the quit.
func (d *driver) running(s screen) {
	id, kind, status := s.step()
	if s.paused() {
		d.tm.fatalf("the header shows PAUSED but the test did not pause")
	}
	if d.run == "resume" && id == d.quitStep && !d.sawResumed {
		if n, ok := s.migrated(); ok {
			d.sawResumed = true
			d.tm.logf("resumed: %s (%s) at %d items", id, s.rightPane()[0], n)
		}
	}
	switch {
	case d.run != "demo" || status != "running":
	case kind == "migrate":
		if n, _ := s.migrated(); n == 0 {
			break // pause once items move, so the resume continues from checkpoints
		}
		if d.pauses == 0 {
			d.pauseAndContinue(id, kind)
		}
		d.pauseAndQuit()
		return
	case d.pauses == 0 && (kind == "backup" || kind == "restore-drill"):
		d.pauseAndContinue(id, kind)
		return
	}
	time.Sleep(pollEvery)
}

// pauseAndContinue presses p, checks the session holds, and presses p again.
func (d *driver) pauseAndContinue(id, kind string) {
	d.tm.logf("pause while %s (%s) runs", id, kind)
	d.pause()
	d.tm.press("p", "p resume")
	d.tm.waitFor("PAUSED to leave the header after p", promptTimeout, func(s screen) bool { return !s.paused() })
}

// pause presses p and waits until the session holds at a safe point.
func (d *driver) pause() screen {
	d.tm.press("p", "p pause")
	d.tm.waitFor("⏸ PAUSED in the header after p", promptTimeout, screen.paused)
	d.pauses++
	var last string
	var since time.Time
	s := d.tm.waitFor(fmt.Sprintf("the paused session to hold still for %s: the running step ends (a migrate holds between batches) and no other step starts", holdFor),
		stepTimeout, func(s screen) bool {
			id, kind, status := s.step()
			n, _ := s.migrated()
			key := fmt.Sprint(id, "|", status, "|", n, "|", s.promptKind())
			if key != last || !s.paused() || (status == "running" && kind != "migrate") {
				last, since = key, time.Now()
				return false
			}
			return time.Since(since) >= holdFor
		})
	id, _, status := s.step()
	if n, ok := s.migrated(); ok && status == "running" {
		d.tm.logf("paused: %s holds at %d items", id, n)
	} else {
		d.tm.logf("paused: holding after %s (%s)", id, status)
	}
	return s
}

// pauseAndQuit pauses the migrate, quits with q and reads the session id
// from what the shell shows.
func (d *driver) pauseAndQuit() {
	s := d.pause()
	id, _, _ := s.step()
	d.check80x24("q quit") // paused: a still screen with the migrate's progress
	d.tm.press("q", "q quit")
	code, s := d.waitExit()
	if code != 3 {
		d.tm.fatalf("lockstep demo exited %d after q, want 3 (stopped resumably)", code)
	}
	d.quitStep = id
	_, d.resumeHint = sessionID(s)
}

// waitExit waits for the shell's "<run> EXIT=<code>" line and returns the
// code. The line may follow the prompt ("$ "): a full-screen program that
// leaves the alternate screen while the shell's echo of the next keys is
// still in flight can leave the cursor there (seen once in CI, after the
// journal browser quit).
func (d *driver) waitExit() (int, screen) {
	re := regexp.MustCompile(`(?m)^(?:\$ )?` + regexp.QuoteMeta(d.run) + ` EXIT=(\d+)\s*$`)
	s := d.tm.waitFor(fmt.Sprintf("the shell to print %q", d.run+" EXIT=<code>"), stepTimeout,
		func(s screen) bool { return re.MatchString(s.text()) })
	code, _ := strconv.Atoi(re.FindStringSubmatch(s.text())[1])
	d.tm.logf("%s exited %d", d.run, code)
	return code, s
}

var (
	resumeHintRe = regexp.MustCompile(`lockstep resume (\S+)`)
	showHintRe   = regexp.MustCompile(`lockstep journal show (\S+)`)
)

// sessionID reads the session id from the shell: from a resume hint when
// there is one (hint true), else from the demo's "Review it" lines.
func sessionID(s screen) (id string, hint bool) {
	if m := resumeHintRe.FindStringSubmatch(s.text()); m != nil {
		return m[1], true
	}
	if m := showHintRe.FindStringSubmatch(s.text()); m != nil {
		return m[1], false
	}
	return "", false
}

// checklist ticks a checklist and confirms it, or, as the first skippable
// prompt, ticks its first item and skips the step with a reason.
func (d *driver) checklist(s screen) {
	step, _, _ := s.step()
	title := s.promptTitle()
	items := s.checklist()
	if len(items) == 0 {
		d.tm.fatalf("a checklist prompt without items")
	}
	if d.skippedStep == "" {
		if len(items) > 1 {
			d.tick(step, 0)
		}
		d.skip(step)
		return
	}
	for i, it := range items {
		if !it.ticked {
			d.tick(step, i)
		}
	}
	d.tm.press("Enter", "enter confirm")
	d.waitClosed(title)
}

// tick moves the cursor to item i with the arrows and ticks it with space.
func (d *driver) tick(step string, i int) {
	for {
		items := d.tm.capture().checklist()
		cur := -1
		for j, it := range items {
			if it.under {
				cur = j
			}
		}
		if cur == i {
			break
		}
		key := "Down"
		if cur > i {
			key = "Up"
		}
		d.tm.press(key, "↑/↓ choose")
		d.tm.waitFor(fmt.Sprintf("the cursor to leave item %d after %s", cur+1, key), promptTimeout, func(s screen) bool {
			it := s.checklist()
			return cur < 0 || len(it) <= cur || !it[cur].under
		})
	}
	d.tm.press("Space", "space tick")
	s := d.tm.waitFor(fmt.Sprintf("item %d to show [✓] after space", i+1), promptTimeout, func(s screen) bool {
		it := s.checklist()
		return len(it) > i && it[i].ticked
	})
	text := s.checklist()[i].text
	if d.ticked == nil {
		d.ticked = map[string][]string{}
	}
	d.ticked[step] = append(d.ticked[step], text)
}

// skip presses s, types skipReason and confirms; the step turns ↷.
func (d *driver) skip(step string) {
	d.tm.press("s", "s skip")
	d.tm.waitFor(`the "skip reason:" field after s`, promptTimeout, func(s screen) bool {
		_, ok := s.rightLine("skip reason:")
		return ok
	})
	d.tm.typeText(skipReason)
	d.waitField("skip reason:", skipReason)
	d.tm.press("Enter", "enter confirm")
	d.tm.waitFor(fmt.Sprintf("%s to show as skipped (↷) in the steps pane", step), promptTimeout,
		func(s screen) bool { return s.glyph(step) == "↷" })
	d.skippedStep = step
}

// decide keeps the selected choice, types the rationale and confirms. The
// first decision also checks the screen at 80×24.
func (d *driver) decide(s screen) {
	if !d.checked80 {
		d.check80x24("enter confirm")
		d.checked80 = true
		s = d.tm.settled(promptTimeout)
	}
	step, _, _ := s.step()
	title := s.promptTitle()
	choices, sel := s.choices()
	if len(choices) == 0 {
		d.tm.fatalf("a decision prompt without choices")
	}
	d.tm.logf("decision %s: %v, keeping %q", step, choices, choices[sel])
	d.tm.typeText(rationale)
	d.waitField("rationale:", rationale)
	d.tm.press("Enter", "enter confirm")
	d.waitClosed(title)
	d.decision.step, d.decision.choice = step, choices[sel]
}

// approve approves as the first holder of the role, with a reason.
func (d *driver) approve(s screen) {
	step, _, _ := s.step()
	title := s.promptTitle()
	line, _ := s.rightLine("role ")
	_, holders, _ := strings.Cut(line, "holders: ")
	approver := strings.TrimSpace(strings.Split(holders, ",")[0])
	if approver == "" || approver == "—" {
		approver = operator
	}
	d.tm.logf("approval %s (%s): approving as %q", step, line, approver)
	d.tm.typeText(approver)
	d.waitField("approver:", approver)
	d.tm.press("Tab", "tab next field")
	d.tm.typeText(approvalReason)
	d.waitField("reason:", approvalReason)
	d.tm.press("Enter", "enter confirm")
	d.waitClosed(title)
	d.approval.step, d.approval.approver = step, approver
}

// acknowledge confirms a manual or destructive step, or skips it when it
// is the first skippable prompt.
func (d *driver) acknowledge(s screen) {
	step, _, _ := s.step()
	if d.skippedStep == "" {
		d.skip(step)
		return
	}
	title := s.promptTitle()
	d.tm.press("Enter", "enter confirm")
	d.waitClosed(title)
}

// destructive runs a destructive step by typing its id, as the prompt
// asks ("Type <id> to run it").
func (d *driver) destructive(s screen) {
	step, _, _ := s.step()
	title := s.promptTitle()
	d.tm.typeText(step)
	d.waitField("confirm:", step)
	d.tm.press("Enter", "enter confirm")
	d.waitClosed(title)
}

// retry re-runs an interrupted step.
func (d *driver) retry(s screen) {
	title := s.promptTitle()
	d.tm.press("r", "r retry")
	d.waitClosed(title)
}

// confirmEnv types the environment name the prompt asks for.
func (d *driver) confirmEnv(s screen) {
	title := s.promptTitle()
	line, _ := s.rightLine("Type the environment name ")
	env := strings.Fields(strings.TrimPrefix(line, "Type the environment name "))
	if len(env) == 0 {
		d.tm.fatalf("cannot read the environment name to type")
	}
	d.tm.typeText(env[0])
	d.tm.press("Enter", "enter confirm")
	d.waitClosed(title)
}

// waitField waits until the field labelled label shows the end of text.
func (d *driver) waitField(label, text string) {
	tail := text
	if n := utf8.RuneCountInString(text); n > 20 {
		tail = string([]rune(text)[n-20:]) // a narrow field scrolls: its end shows
	}
	d.tm.waitFor(fmt.Sprintf("%s to show %q", label, text), promptTimeout, func(s screen) bool {
		l, ok := s.rightLine(label)
		return ok && strings.Contains(l, tail)
	})
}

// waitClosed waits until the prompt titled title is no longer in play.
func (d *driver) waitClosed(title string) {
	d.tm.waitFor(fmt.Sprintf("the prompt %q to close after the answer", title), promptTimeout,
		func(s screen) bool { return s.promptTitle() != title })
}
