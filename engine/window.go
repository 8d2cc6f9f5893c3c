package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

// WindowStatus says whether a time is inside an environment's change
// window, when the current window opened (if open) and when the next one opens.
type WindowStatus struct {
	Open     bool
	Start    time.Time // start of the current window (Open) or zero
	End      time.Time // end of the current window (Open) or zero
	NextOpen time.Time // next opening after t (when not Open)
}

// CheckWindow evaluates w at t. A window lists days (mon..sun; none means
// every day), a From and a To time of day in TZ; To at or before From
// means the window crosses midnight and belongs to the day it opens.
func CheckWindow(w *runbook.Window, t time.Time) (WindowStatus, error) {
	loc := time.UTC
	if w.TZ != "" {
		l, err := time.LoadLocation(w.TZ)
		if err != nil {
			return WindowStatus{}, fmt.Errorf("window tz %q: %w", w.TZ, err)
		}
		loc = l
	}
	from, err := clockMinutes(w.From, 0)
	if err != nil {
		return WindowStatus{}, err
	}
	to, err := clockMinutes(w.To, 24*60)
	if err != nil {
		return WindowStatus{}, err
	}
	lt := t.In(loc)
	var st WindowStatus
	for off := -1; off <= 8; off++ {
		day := time.Date(lt.Year(), lt.Month(), lt.Day()+off, 0, 0, 0, 0, loc)
		if !dayAllowed(w.Days, day.Weekday()) {
			continue
		}
		start := wallTime(day, from, loc, true)
		end := wallTime(day, to, loc, false)
		if to <= from {
			end = wallTime(day.AddDate(0, 0, 1), to, loc, false)
		}
		if !lt.Before(start) && lt.Before(end) {
			return WindowStatus{Open: true, Start: start, End: end}, nil
		}
		if start.After(lt) && st.NextOpen.IsZero() {
			st.NextOpen = start
		}
	}
	return st, nil
}

// wallTime is the instant the clock in loc shows minutes past midnight on
// day's date. Around a DST change that time of day may not exist (spring
// forward: the window opens when the clock jumps past the gap, not an
// hour after the requested time, as time.Date would have it) or exist
// twice (fall back: a start takes the first, an end the second).
func wallTime(day time.Time, minutes int, loc *time.Location, earliest bool) time.Time {
	t := time.Date(day.Year(), day.Month(), day.Day(), minutes/60, minutes%60, 0, 0, loc)
	if minutes >= 24*60 {
		return t // the end of the day: midnight of the next one
	}
	if t.Hour()*60+t.Minute() != minutes { // in a gap
		zoneStart, _ := t.ZoneBounds()
		return zoneStart
	}
	other := t.Add(time.Hour)
	if earliest {
		other = t.Add(-time.Hour)
	}
	if o := other.In(loc); o.Hour()*60+o.Minute() == minutes && o.Day() == t.Day() {
		return other // the same wall time twice: the earlier or the later
	}
	return t
}

// checkWindow refuses a time outside env's window, naming the next opening.
func checkWindow(env *runbook.Environment, now time.Time) error {
	st, err := CheckWindow(env.Window, now)
	if err != nil {
		return fmt.Errorf("check window of %s: %w", env.Name, err)
	}
	if st.Open {
		return nil
	}
	next := "never (no allowed day)"
	if !st.NextOpen.IsZero() {
		next = st.NextOpen.Format("Mon 2006-01-02 15:04 MST")
	}
	w := env.Window
	return fmt.Errorf("%w: %s may be changed %s %s–%s %s; it is %s; next window opens %s",
		ErrOutsideWindow, env.Name, daysText(w.Days), w.From, w.To, w.TZ,
		now.In(locOr(st.NextOpen, now)).Format("Mon 15:04 MST"), next)
}

func locOr(t, fallback time.Time) *time.Location {
	if t.IsZero() {
		return fallback.Location()
	}
	return t.Location()
}

func daysText(days []string) string {
	if len(days) == 0 {
		return "every day"
	}
	return strings.Join(days, ",")
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func dayAllowed(days []string, wd time.Weekday) bool {
	if len(days) == 0 {
		return true
	}
	return slices.ContainsFunc(days, func(d string) bool {
		d = strings.ToLower(d)
		return len(d) >= 3 && d[:3] == weekdays[wd]
	})
}

// clockMinutes parses "HH:MM" as minutes after midnight; "" is def.
func clockMinutes(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("window time %q: want HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// resumeOutsideWindow decides whether a protected session may resume
// while its environment's window is closed. Starting is refused outside
// the window, but a session stopped mid-migration must be able to finish,
// roll back or abort (its maintenance flag may be on): the operator gives
// a reason (PromptReason, answers key "outside_window"), which the session
// journals. "" with a nil error: the window is open (or there is none).
func resumeOutsideWindow(ctx context.Context, cfg Config, env *runbook.Environment) (string, error) {
	if env.Window == nil || cfg.Mode == ModeDryRun {
		return "", nil
	}
	closed := checkWindow(env, cfg.Clock.Now())
	if closed == nil || !errors.Is(closed, ErrOutsideWindow) {
		return "", closed
	}
	ans, err := cfg.Prompter.Ask(ctx, Prompt{
		Kind:  PromptReason,
		Title: fmt.Sprintf("%s is outside its change window: why resume now?", env.Name),
		Text: closed.Error() + "\n\nA session stopped in the middle of a migration may have to finish, " +
			"roll back or abort now. The reason is journaled.",
		Key: "outside_window",
	})
	if err != nil {
		return "", fmt.Errorf("resume outside the window: %w", err)
	}
	if ans.Reason == "" {
		return "", fmt.Errorf("resume outside the window: %w: %w", ErrReasonRequired, closed)
	}
	return ans.Reason, nil
}
