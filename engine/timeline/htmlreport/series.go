package htmlreport

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// sample is the cumulative count of a migrate step at one time: items
// written, throttled writes and write conflicts so far.
type sample struct {
	At        time.Time
	Migrated  int64
	Throttles int64
	Conflicts int64
}

// marker is an event worth marking on a step's chart: a rate change, a
// throttling warning, a pause or resume.
type marker struct {
	At   time.Time
	Kind string // rate, throttle, conflict, pause, resume
	Text string
}

// limitPoint is the write limit (items/s, 0 = unlimited) from At on.
type limitPoint struct {
	At    time.Time
	Limit float64
}

// stepSeries is what the journal tells of a migrate step over time.
type stepSeries struct {
	Samples []sample
	Limits  []limitPoint
	Markers []marker
}

// checkpointCounts is what a migrate checkpoint carries beside its
// cursor: the segment's counts so far (engine's checkpoint data).
type checkpointCounts struct {
	Segment   int   `json:"segment"`
	Migrated  int64 `json:"migrated"`
	Throttles int64 `json:"throttles"`
	Conflicts int64 `json:"conflicts"`
}

// seriesOf gathers the samples, limits and markers of every step from
// events: checkpoints (per segment, summed), progress events (step
// totals), rate changes, throttling warnings, pauses and resumes (marked
// on the step running then).
func seriesOf(events []engine.Event) map[string]*stepSeries {
	out := map[string]*stepSeries{}
	get := func(id string) *stepSeries {
		s, ok := out[id]
		if !ok {
			s = &stepSeries{}
			out[id] = s
		}
		return s
	}
	segs := map[string]map[int]checkpointCounts{}
	running := ""
	for _, ev := range events {
		p, err := engine.DecodePayload(ev)
		if err != nil {
			continue // unknown or unreadable: the timeline shows it as a note
		}
		switch d := p.(type) {
		case engine.StepStarted:
			running = ev.Step
		case engine.StepEnded:
			if running == ev.Step {
				running = ""
			}
		case engine.Checkpointed:
			var c checkpointCounts
			if json.Unmarshal(d.Data, &c) != nil || c.Segment < 0 {
				continue
			}
			if segs[ev.Step] == nil {
				segs[ev.Step] = map[int]checkpointCounts{}
			}
			segs[ev.Step][c.Segment] = c
			var sum sample
			for _, sc := range segs[ev.Step] {
				sum.Migrated += sc.Migrated
				sum.Throttles += sc.Throttles
				sum.Conflicts += sc.Conflicts
			}
			sum.At = ev.Time
			get(ev.Step).Samples = append(get(ev.Step).Samples, sum)
		case engine.Progress:
			s := get(ev.Step)
			s.Samples = append(s.Samples, sample{At: ev.Time, Migrated: d.Migrated, Throttles: d.Throttles, Conflicts: d.Conflicts})
			s.Limits = append(s.Limits, limitPoint{At: ev.Time, Limit: d.WriteLimit})
		case engine.RateChanged:
			id := first(ev.Step, running)
			if id == "" {
				continue
			}
			s := get(id)
			s.Limits = append(s.Limits, limitPoint{At: ev.Time, Limit: float64(d.Rate)})
			s.Markers = append(s.Markers, marker{At: ev.Time, Kind: "rate", Text: fmt.Sprintf("max write rate set to %d items/s by %s", d.Rate, ev.Operator)})
		case engine.Warning:
			if d.Throttles == nil || ev.Step == "" {
				continue
			}
			s := get(ev.Step)
			s.Markers = append(s.Markers, marker{At: ev.Time, Kind: "throttle", Text: engine.CleanText(d.Text())})
			if d.WriteLimit != nil {
				s.Limits = append(s.Limits, limitPoint{At: ev.Time, Limit: *d.WriteLimit})
			}
		}
		switch ev.Kind {
		case engine.EvPause, engine.EvResume:
			if running != "" {
				get(running).Markers = append(get(running).Markers, marker{At: ev.Time, Kind: string(ev.Kind), Text: string(ev.Kind) + " by " + ev.Operator})
			}
		}
	}
	for _, s := range out {
		sort.SliceStable(s.Samples, func(i, j int) bool { return s.Samples[i].At.Before(s.Samples[j].At) })
		// Cumulative counts only grow: a progress event and a checkpoint
		// of the same moment may disagree by a page in flight.
		for i := 1; i < len(s.Samples); i++ {
			a, b := s.Samples[i-1], &s.Samples[i]
			b.Migrated, b.Throttles, b.Conflicts = max(a.Migrated, b.Migrated), max(a.Throttles, b.Throttles), max(a.Conflicts, b.Conflicts)
		}
		sort.SliceStable(s.Limits, func(i, j int) bool { return s.Limits[i].At.Before(s.Limits[j].At) })
	}
	return out
}

// bucket is one interval of a step's chart: items written per second,
// throttles and conflicts within it, and the write limit in force.
type bucket struct {
	Offset    time.Duration // from the step's start
	PerSec    float64
	Throttles int64
	Conflicts int64
	Limit     float64
}

// maxBuckets is how many points a throughput chart has at most.
const maxBuckets = 30

// buckets divides [from, to] into at most maxBuckets intervals (of at
// least 250 ms) and computes each one's throughput from the cumulative
// samples.
func (s *stepSeries) buckets(from, to time.Time) []bucket {
	span := to.Sub(from)
	if span <= 0 || len(s.Samples) == 0 {
		return nil
	}
	width := max((span+maxBuckets-1)/maxBuckets, 250*time.Millisecond)
	n := int((span + width - 1) / width)
	out := make([]bucket, n)
	if s.Samples[0].At.After(from) { // the step starts from nothing written
		s = &stepSeries{Samples: append([]sample{{At: from}}, s.Samples...), Limits: s.Limits}
	}
	at := s.at
	limit := func(t time.Time) float64 {
		l := 0.0
		for _, lp := range s.Limits {
			if lp.At.After(t) {
				break
			}
			l = lp.Limit
		}
		return l
	}
	base := at(from)
	prev := base
	for i := range out {
		end := from.Add(time.Duration(i+1) * width)
		if end.After(to) {
			end = to
		}
		cur := at(end)
		secs := end.Sub(from.Add(time.Duration(i) * width)).Seconds()
		out[i] = bucket{Offset: time.Duration(i+1) * width, Throttles: cur.Throttles - prev.Throttles,
			Conflicts: cur.Conflicts - prev.Conflicts, Limit: limit(end)}
		if secs > 0 {
			out[i].PerSec = float64(cur.Migrated-prev.Migrated) / secs
		}
		prev = cur
	}
	return out
}

// interpolateGap is the longest gap between two samples over which the
// counts are interpolated: pages are written between checkpoints, so a
// straight line between them is closer to the truth than a step; over a
// longer gap (a pause, a stall) the counts stay put until the next sample.
const interpolateGap = 10 * time.Second

// at is the cumulative counts at t: interpolated between the samples
// around it when they are close enough, else the last one before it.
func (s *stepSeries) at(t time.Time) sample {
	var last sample
	for _, sm := range s.Samples {
		if sm.At.After(t) {
			gap := sm.At.Sub(last.At)
			if last.At.IsZero() || gap > interpolateGap || gap <= 0 {
				return last
			}
			f := float64(t.Sub(last.At)) / float64(gap)
			lerp := func(a, b int64) int64 { return a + int64(math.Round(f*float64(b-a))) }
			return sample{At: t, Migrated: lerp(last.Migrated, sm.Migrated),
				Throttles: lerp(last.Throttles, sm.Throttles), Conflicts: lerp(last.Conflicts, sm.Conflicts)}
		}
		last = sm
	}
	return last
}

func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
