package migrate

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

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
	Count       int64 `json:"count"`
	Approximate bool  `json:"approximate"`
	// CountStale: the store's approximate count (StaleCount; DynamoDB's
	// lags by up to six hours) is below what the sample alone read, so
	// Count is the sample and the figures are lower bounds.
	CountStale        bool  `json:"count_stale,omitempty"`
	StaleCount        int64 `json:"stale_count,omitempty"`
	SizeBytes         int64 `json:"size_bytes"`
	MigrationSet      int64 `json:"migration_set"`
	MigrationSetExact bool  `json:"migration_set_exact"`
	Sample            int64 `json:"sample"`         // items read for the sample
	SampleMatched     int64 `json:"sample_matched"` // of which in the migration set
	// SampleErrors are sampled items whose version or where could not be
	// evaluated (migrate would fail them): counted in the migration set.
	SampleErrors     int64    `json:"sample_errors,omitempty"`
	ErrorKeys        []string `json:"error_keys,omitempty"` // first ones, "key: error", up to 10
	AvgItemBytes     int64    `json:"avg_item_bytes"`
	WCUPerItem       int64    `json:"wcu_per_item"`
	Rate             float64  `json:"rate"` // items/s the duration is computed with
	RateSource       string   `json:"rate_source"`
	MaxWriteRate     int      `json:"max_write_rate,omitempty"`
	CapacityRate     float64  `json:"capacity_rate,omitempty"`
	RehearsalRate    float64  `json:"rehearsal_rate,omitempty"`
	RehearsalSession string   `json:"rehearsal_session,omitempty"`
	SampleReadRate   float64  `json:"sample_read_rate"`
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
func runEstimate(ctx context.Context, sc *engine.StepContext) (any, error) {
	spec := sc.Step.Estimate
	if spec == nil {
		spec = &runbook.EstimateSpec{}
	}
	st, err := sc.EnvStore(ctx)
	if err != nil {
		return nil, err
	}
	info, err := st.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("estimate %s: describe table: %w", sc.Step.ID, err)
	}
	res := EstimateResult{Count: info.ItemCount, Approximate: info.Approximate, SizeBytes: info.SizeBytes, Margin: spec.Margin}
	if err := estimateSet(ctx, sc, st, spec, info.Key, &res); err != nil {
		return nil, fmt.Errorf("estimate %s: %w", sc.Step.ID, err)
	}
	res.WCUPerItem = max(1, int64(math.Ceil(float64(res.AvgItemBytes)/1024)))
	if sc.Mode != engine.ModeDryRun {
		probe, err := measureWrites(ctx, sc, st, info.Key)
		if err != nil {
			_ = sc.EmitWarning(engine.Warning{Message: "write probe skipped: " + err.Error()})
		}
		res.Probe = probe
		if probe != nil && probe.unprobed {
			_ = sc.EmitWarning(engine.Warning{Message: "the write probe measured refused one-item writes, not the migrate step's own pages, because " + probe.Fallback +
				"; such writes can be much slower than migrate's pages (a SQL store pays a transaction for each), so the duration may be pessimistic: a rehearsal measures the real rate"})
		}
	}
	estimateRate(ctx, sc, info, &res)
	if res.Rate > 0 {
		secs := float64(res.MigrationSet) / res.Rate * (1 + res.Margin)
		res.DurationMS = int64(math.Ceil(secs * 1000))
	}
	recommend(sc, &res)
	if sc.Emit != nil {
		if err := sc.Emit(engine.NewEvent(sc.Step.ID, engine.Result{Value: res})); err != nil {
			return nil, err
		}
	}
	estimateWarnings(sc, spec, &res)
	_ = sc.EmitOutput(estimateSummary(&res))
	return res, nil
}

// estimateSummary is the estimate's line of output.
func estimateSummary(res *EstimateResult) string {
	count := fmt.Sprintf("%d items (%s)", res.Count, map[bool]string{true: "approximate", false: "exact"}[res.Approximate])
	set := fmt.Sprintf("%d to migrate", res.MigrationSet)
	if res.CountStale {
		count = fmt.Sprintf("at least %d items (the approximate count, %d, is stale)", res.Count, res.StaleCount)
		set = "at least " + set
	}
	src := res.RateSource
	if src == RateMeasured && res.Probe != nil && res.Probe.unprobed {
		src += " with one-item writes, see the warning"
	}
	return fmt.Sprintf("%s, %s, about %s at %.0f items/s (%s): %s — %s", count, set,
		time.Duration(res.DurationMS)*time.Millisecond, res.Rate, src, res.Recommendation, res.Reason)
}

// estimateWarnings journals a stale count and the sampled items that
// could not be evaluated.
func estimateWarnings(sc *engine.StepContext, spec *runbook.EstimateSpec, res *EstimateResult) {
	if res.CountStale {
		_ = sc.EmitWarning(engine.Warning{Message: fmt.Sprintf("the table's approximate item count (%d) is stale: the sample alone read %d items; "+
			"the figures are lower bounds (set exact_count: true on the estimate step to count every item)", res.StaleCount, res.Sample),
			StaleCount: &res.StaleCount, Sample: &res.Sample})
	}
	if res.SampleErrors > 0 {
		what := "the version attribute"
		if spec.Where != nil {
			what = "the version attribute or where"
		}
		_ = sc.EmitWarning(engine.Warning{Message: fmt.Sprintf("%s could not be evaluated on %d of %d sampled items (counted in the migration set; migrate would fail them): %s",
			what, res.SampleErrors, res.Sample, strings.Join(res.ErrorKeys, "; ")),
			Errors: &res.SampleErrors, Keys: res.ErrorKeys})
	}
}

// estimateSet samples the table (or scans it all with exact_count) and
// extrapolates the migration set. It selects what migrate would: items
// below the runbook's version for which where (when set) holds. An item
// whose version or where cannot be evaluated is counted in the set, and
// in SampleErrors.
func estimateSet(ctx context.Context, sc *engine.StepContext, st engine.Store, spec *runbook.EstimateSpec, key []string, res *EstimateResult) error {
	n := int64(spec.Sample)
	if n <= 0 {
		n = defaultEstimateSample
	}
	env := newItemEnv(sc, spec.Where)
	vattr, target := versionAttr(sc), int64(sc.Runbook.Version)
	var bytes int64
	exhausted := true
	segments, limit := 1, int(min(n, 1000))
	var prog *engine.ItemProgress
	if spec.ExactCount {
		// A full scan can take minutes: it reports progress like migrate.
		segments, limit, n = DataSegments, 0, math.MaxInt64
		prog = engine.NewItemProgress(sc, res.Count)
		st = prog.Counting(st)
	}
	start := time.Now()
	err := ScanAll(ctx, sc.ClockOrSystem(), st, segments, limit, func(items []engine.Item) error {
		for _, it := range items {
			if res.Sample >= n {
				exhausted = false
				return ErrStopScan
			}
			res.Sample++
			bytes += int64(engine.ItemSize(it))
			out, err := selectForMigrate(env, spec.Where, it, vattr, target, false)
			if err != nil {
				res.SampleErrors++
				if len(res.ErrorKeys) < MaxListedKeys {
					res.ErrorKeys = append(res.ErrorKeys, KeyString(engine.KeyOf(it, key), key)+": "+firstLine(err))
				}
			}
			if out == outWrite || out == outFailed {
				res.SampleMatched++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if prog != nil {
		prog.Finish()
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
	if res.Approximate && res.Count < res.Sample {
		// The sample stopped early yet read more than the count says: the
		// count lags (DynamoDB refreshes it about every six hours).
		res.CountStale, res.StaleCount, res.Count = true, res.Count, res.Sample
	}
	res.MigrationSet = int64(math.Round(float64(res.SampleMatched) / float64(res.Sample) * float64(res.Count)))
	return nil
}

// firstLine is err's message up to its first line break (expr-lang adds
// the expression and a caret on the following lines).
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// estimateRate picks the slowest of the known limits: max_write_rate,
// provisioned capacity, the measured write path and a rehearsal's measured
// throughput; with none,
// the sample's read throughput.
func estimateRate(ctx context.Context, sc *engine.StepContext, info engine.TableInfo, res *EstimateResult) {
	pick := func(r float64, src string) {
		if r > 0 && (res.Rate == 0 || r < res.Rate) {
			res.Rate, res.RateSource = r, src
		}
	}
	res.MaxWriteRate = sc.WriteCeiling()()
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

// rehearsalRate returns the items/s a migrate step of the registry's
// rehearsal of this runbook (StepContext.Rehearsal), else of the latest
// rehearsal session of this runbook in the journal achieved, scaled by item size (WCU per
// item then versus now), and that session's id.
func rehearsalRate(ctx context.Context, sc *engine.StepContext, wcu int64) (float64, string) {
	if r := sc.Rehearsal; r.ItemsPerSec > 0 { // the registry's, wherever it ran
		then := max(1, int64(math.Ceil(float64(r.AvgItemB)/1024)))
		return r.ItemsPerSec * float64(then) / float64(wcu), r.SessionID
	}
	if sc.Journal == nil || sc.Runbook == nil {
		return 0, ""
	}
	sessions, err := sc.Journal.ListSessions(ctx, engine.SessionFilter{Runbook: sc.Runbook.Name, Mode: engine.ModeRehearsal})
	if err != nil {
		return 0, ""
	}
	var best engine.SessionInfo
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
func migrateRate(ctx context.Context, sc *engine.StepContext, sessionID string) Result {
	evs, err := sc.Journal.Events(ctx, sessionID)
	if err != nil {
		return Result{}
	}
	for _, ev := range evs {
		if ev.Kind != engine.EvStepEnd {
			continue
		}
		if st := sc.Runbook.Step(ev.Step); st == nil || st.Kind != runbook.KindMigrate {
			continue
		}
		end, err := engine.DecodeAs[engine.StepEnded](ev)
		if err != nil || end.Status != engine.StepDone || len(end.Result) == 0 {
			continue
		}
		var res Result
		if json.Unmarshal(end.Result, &res) == nil && !res.Rollback && !res.DryRun && res.ItemsPerSec > 0 {
			return res
		}
	}
	return Result{}
}

// recommend compares the duration with the environment's window.
func recommend(sc *engine.StepContext, res *EstimateResult) {
	d := time.Duration(res.DurationMS) * time.Millisecond
	var w *runbook.Window
	if sc.Env != nil {
		w = sc.Env.Window
	}
	win := windowLength(w)
	res.WindowMS = win.Milliseconds()
	switch {
	case res.CountStale:
		res.Recommendation, res.FitsWindow = "multi-step", false
		res.Reason = fmt.Sprintf("the approximate item count (%d) is stale, so the duration (at least %s) is a lower bound: "+
			"not enough to plan an interruption; set exact_count: true to count every item", res.StaleCount, d.Round(time.Second))
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
