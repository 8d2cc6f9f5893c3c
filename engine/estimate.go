package engine

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

func init() { Register(runbook.KindEstimate, ExecutorFunc(runEstimate)) }

// Estimate defaults.
const (
	defaultEstimateSample = 1000
	// bigBangMaxOutage is the longest interruption recommended as big-bang
	// when the environment has no window.
	bigBangMaxOutage = 10 * time.Minute
)

// Rate sources of an estimate, in EstimateResult.RateSource.
const (
	RateMaxWrite   = "max_write_rate" // the environment's (or operator's) limit
	RateCapacity   = "capacity"       // provisioned WCU / WCU per item
	RateRehearsal  = "rehearsal"      // measured in a rehearsal session, scaled by item size
	RateSampleRead = "sample_read"    // nothing else known: the sample scan's read throughput
)

// EstimateResult is the result of an estimate step (journaled so estimate
// and actual can be compared).
type EstimateResult struct {
	Count             int64   `json:"count"`
	Approximate       bool    `json:"approximate"`
	SizeBytes         int64   `json:"size_bytes"`
	MigrationSet      int64   `json:"migration_set"`
	MigrationSetExact bool    `json:"migration_set_exact"`
	Sample            int64   `json:"sample"`         // items read for the sample
	SampleMatched     int64   `json:"sample_matched"` // of which in the migration set
	AvgItemBytes      int64   `json:"avg_item_bytes"`
	WCUPerItem        int64   `json:"wcu_per_item"`
	Rate              float64 `json:"rate"` // items/s the duration is computed with
	RateSource        string  `json:"rate_source"`
	MaxWriteRate      int     `json:"max_write_rate,omitempty"`
	CapacityRate      float64 `json:"capacity_rate,omitempty"`
	RehearsalRate     float64 `json:"rehearsal_rate,omitempty"`
	RehearsalSession  string  `json:"rehearsal_session,omitempty"`
	SampleReadRate    float64 `json:"sample_read_rate"`
	// Probe is the write path measured with refused conditional writes
	// (live and rehearsal only): its rate bounds the estimate too.
	Probe          *ProbeResult `json:"probe,omitempty"`
	DurationMS     int64        `json:"duration_ms"` // margin included
	Margin         float64      `json:"margin"`
	WindowMS       int64        `json:"window_ms"` // 0: the environment has no window
	FitsWindow     bool         `json:"fits_window"`
	Recommendation string       `json:"recommendation"` // big-bang | multi-step
	Reason         string       `json:"reason"`
}

// runEstimate sizes the table and the migration set, picks the rate the
// migration will run at and recommends a strategy. It only reads.
func runEstimate(ctx context.Context, sc *StepContext) (any, error) {
	spec := sc.Step.Estimate
	if spec == nil {
		spec = &runbook.EstimateSpec{}
	}
	st, err := openStore(ctx, sc)
	if err != nil {
		return nil, err
	}
	info, err := st.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("estimate %s: describe table: %w", sc.Step.ID, err)
	}
	res := EstimateResult{Count: info.ItemCount, Approximate: info.Approximate, SizeBytes: info.SizeBytes, Margin: spec.Margin}
	if err := estimateSet(ctx, sc, st, spec, &res); err != nil {
		return nil, fmt.Errorf("estimate %s: %w", sc.Step.ID, err)
	}
	res.WCUPerItem = max(1, int64(math.Ceil(float64(res.AvgItemBytes)/1024)))
	if sc.Mode != ModeDryRun {
		probe, err := probeWriteRate(ctx, sc, st, info.Key)
		if err != nil {
			_ = emitWarning(sc, "write probe skipped: "+err.Error(), nil)
		}
		res.Probe = probe
	}
	estimateRate(ctx, sc, info, &res)
	if res.Rate > 0 {
		secs := float64(res.MigrationSet) / res.Rate * (1 + res.Margin)
		res.DurationMS = int64(math.Ceil(secs * 1000))
	}
	recommend(sc, &res)
	if sc.Emit != nil {
		if err := sc.Emit(NewEvent(EvResult, sc.Step.ID, res)); err != nil {
			return nil, err
		}
	}
	_ = emitOutput(sc, fmt.Sprintf("%d items (%s), %d to migrate, about %s at %.0f items/s (%s): %s — %s",
		res.Count, map[bool]string{true: "approximate", false: "exact"}[res.Approximate], res.MigrationSet,
		time.Duration(res.DurationMS)*time.Millisecond, res.Rate, res.RateSource, res.Recommendation, res.Reason))
	return res, nil
}

// estimateSet samples the table (or scans it all with exact_count) and
// extrapolates the migration set. Without where, the set is the items
// below the runbook's version.
func estimateSet(ctx context.Context, sc *StepContext, st Store, spec *runbook.EstimateSpec, res *EstimateResult) error {
	n := int64(spec.Sample)
	if n <= 0 {
		n = defaultEstimateSample
	}
	env := newItemEnv(sc, spec.Where)
	vattr, target := versionAttr(sc), int64(sc.Runbook.Version)
	var bytes int64
	exhausted := true
	segments, limit := 1, int(min(n, 1000))
	if spec.ExactCount {
		segments, limit, n = dataSegments, 0, math.MaxInt64
	}
	start := time.Now()
	err := scanAll(ctx, st, segments, limit, func(items []Item) error {
		for _, it := range items {
			if res.Sample >= n {
				exhausted = false
				return errStopScan
			}
			res.Sample++
			bytes += int64(ItemSize(it))
			in := itemVersion(it, vattr) < target
			if spec.Where != nil {
				ok, err := env.evalBool(spec.Where, it)
				if err != nil {
					return fmt.Errorf("where: %w", err)
				}
				in = ok
			}
			if in {
				res.SampleMatched++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if el := time.Since(start).Seconds(); el > 0 {
		res.SampleReadRate = round1(float64(res.Sample) / el)
	}
	if res.Sample > 0 {
		res.AvgItemBytes = bytes / res.Sample
	} else if res.Count > 0 {
		res.AvgItemBytes = res.SizeBytes / res.Count
	}
	if exhausted {
		res.Count, res.Approximate = res.Sample, false
		res.MigrationSet, res.MigrationSetExact = res.SampleMatched, true
		return nil
	}
	res.MigrationSet = int64(math.Round(float64(res.SampleMatched) / float64(res.Sample) * float64(res.Count)))
	return nil
}

// estimateRate picks the slowest of the known limits: max_write_rate,
// provisioned capacity, the measured write path and a rehearsal's measured
// throughput; with none,
// the sample's read throughput.
func estimateRate(ctx context.Context, sc *StepContext, info TableInfo, res *EstimateResult) {
	pick := func(r float64, src string) {
		if r > 0 && (res.Rate == 0 || r < res.Rate) {
			res.Rate, res.RateSource = r, src
		}
	}
	res.MaxWriteRate = stepCeiling(sc)()
	pick(float64(res.MaxWriteRate), RateMaxWrite)
	if info.WriteCapacityUnits > 0 {
		res.CapacityRate = round1(float64(info.WriteCapacityUnits) / float64(res.WCUPerItem))
		pick(res.CapacityRate, RateCapacity)
	}
	if res.Probe != nil && res.Probe.Rate > 0 {
		pick(res.Probe.Rate, RateMeasured)
	}
	if r, id := rehearsalRate(ctx, sc, res.WCUPerItem); r > 0 {
		res.RehearsalRate, res.RehearsalSession = round1(r), id
		pick(res.RehearsalRate, RateRehearsal)
	}
	if res.Rate == 0 {
		pick(res.SampleReadRate, RateSampleRead)
	}
}

// rehearsalRate returns the items/s a migrate step of the latest
// rehearsal session of this runbook achieved, scaled by item size (WCU per
// item then versus now), and that session's id.
func rehearsalRate(ctx context.Context, sc *StepContext, wcu int64) (float64, string) {
	if sc.Journal == nil || sc.Runbook == nil {
		return 0, ""
	}
	sessions, err := sc.Journal.ListSessions(ctx, SessionFilter{Runbook: sc.Runbook.Name, Mode: ModeRehearsal})
	if err != nil {
		return 0, ""
	}
	var best SessionInfo
	for _, s := range sessions {
		if s.ID != sc.Session.ID && s.Started.After(best.Started) {
			if r := migrateRate(ctx, sc, s.ID); r.ItemsPerSec > 0 {
				best = s
			}
		}
	}
	if best.ID == "" {
		return 0, ""
	}
	r := migrateRate(ctx, sc, best.ID)
	then := max(1, int64(math.Ceil(float64(r.AvgItemB)/1024)))
	return r.ItemsPerSec * float64(then) / float64(wcu), best.ID
}

// migrateRate finds the result of the first completed forward migrate step
// with a measured throughput in a session's events.
func migrateRate(ctx context.Context, sc *StepContext, sessionID string) MigrateResult {
	evs, err := sc.Journal.Events(ctx, sessionID)
	if err != nil {
		return MigrateResult{}
	}
	for _, ev := range evs {
		if ev.Kind != EvStepEnd {
			continue
		}
		if st := sc.Runbook.Step(ev.Step); st == nil || st.Kind != runbook.KindMigrate {
			continue
		}
		var end struct {
			Status string        `json:"status"`
			Result MigrateResult `json:"result"`
		}
		if ev.Decode(&end) == nil && end.Status == string(StepDone) && !end.Result.Rollback &&
			!end.Result.DryRun && end.Result.ItemsPerSec > 0 {
			return end.Result
		}
	}
	return MigrateResult{}
}

// recommend compares the duration with the environment's window.
func recommend(sc *StepContext, res *EstimateResult) {
	d := time.Duration(res.DurationMS) * time.Millisecond
	var w *runbook.Window
	if sc.Env != nil {
		w = sc.Env.Window
	}
	win := windowLength(w)
	res.WindowMS = win.Milliseconds()
	switch {
	case res.Rate == 0:
		res.Recommendation, res.Reason = "multi-step", "no write rate known: cannot bound the interruption"
		res.FitsWindow = win == 0
	case win == 0 && d <= bigBangMaxOutage:
		res.Recommendation, res.FitsWindow = "big-bang", true
		res.Reason = fmt.Sprintf("no window; about %s of interruption (at most %s)", d.Round(time.Second), bigBangMaxOutage)
	case win == 0:
		res.Recommendation, res.FitsWindow = "multi-step", true
		res.Reason = fmt.Sprintf("no window and about %s: too long to interrupt the service (over %s)", d.Round(time.Second), bigBangMaxOutage)
	default:
		pct := float64(d) / float64(win) * 100
		res.FitsWindow = d <= win
		if d <= win/2 {
			res.Recommendation = "big-bang"
			res.Reason = fmt.Sprintf("about %s fits comfortably in the %s window (%.0f%%)", d.Round(time.Second), win, pct)
		} else {
			res.Recommendation = "multi-step"
			res.Reason = fmt.Sprintf("about %s uses %.0f%% of the %s window: no room for rollback", d.Round(time.Second), pct, win)
		}
	}
	if sc.Runbook != nil && sc.Runbook.Strategy != "" && sc.Runbook.Strategy != res.Recommendation {
		res.Reason += fmt.Sprintf("; the runbook says %s", sc.Runbook.Strategy)
	}
}

// windowLength is the length of a daily window ("to" before "from"
// crosses midnight); 0 without a window.
func windowLength(w *runbook.Window) time.Duration {
	if w == nil {
		return 0
	}
	from, err1 := time.Parse("15:04", w.From)
	to, err2 := time.Parse("15:04", w.To)
	if err1 != nil || err2 != nil {
		return 0
	}
	d := to.Sub(from)
	if d <= 0 {
		d += 24 * time.Hour
	}
	return d
}
