package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// maxJournaledFailures bounds the per-item warnings one step journals.
const maxJournaledFailures = 1000

// writeItem applies p's guarded update. prev, when set, is the error a
// batched attempt already got. env is the writer's item expression
// environment, built on the first re-plan it needs (*env nil until then). On a failed condition it re-reads the item,
// re-plans it and retries (max_retries), then records a conflict;
// throttles back off through the shared limiter; other errors are retried
// a few times, then the item counts as failed. It returns an error only
// when the step must stop (context done, transform process dead).
func (m *migrator) writeItem(ctx context.Context, seg int, env **itemEnv, ext *externalTransform, p plan, prev error) error {
	c := &m.segs[seg]
	conflicts, throttles, transient := 0, 0, 0
	// uncertain: an earlier attempt of this write may have applied (a
	// transport error here, or a retry inside the store's client).
	uncertain := false
	for {
		err := prev
		prev = nil
		if err == nil {
			if err = m.lim.Wait(ctx); err != nil {
				return err
			}
			start, aerr := m.inflight.Acquire(ctx)
			if aerr != nil {
				return aerr
			}
			err = m.store.Update(ctx, p.upd)
			m.inflight.Release(start, errors.Is(err, engine.ErrThrottled))
		}
		uncertain = uncertain || errors.Is(err, engine.ErrAmbiguous)
		now := time.Now() // the write limiter's monotonic clock (see WriteLimiter.Wait)
		switch {
		case err == nil:
			m.lim.Succeeded(now)
			m.countWritten(seg, p)
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, engine.ErrLeaseLost): // the store's fence: stop the step
			return err
		case errors.Is(err, engine.ErrThrottled):
			m.lim.Throttled(now)
			c.throttles.Add(1)
			if throttles++; throttles > engine.MaxThrottleRetries {
				m.itemFailed(seg, p.item, err)
				return nil
			}
			if err := engine.Sleep(ctx, m.sc.ClockOrSystem(), engine.Backoff(throttles)); err != nil {
				return err
			}
		case errors.Is(err, engine.ErrConditionFailed):
			if conflicts++; conflicts > m.maxRetries() {
				c.conflicts.Add(1)
				c.unresolved.Add(1)
				m.warn(seg, p.item, fmt.Sprintf("conflict: gave up after %d retries", m.maxRetries()), err)
				return nil
			}
			if *env == nil {
				*env = m.env()
			}
			next, stop, ours, ferr := m.reread(ctx, seg, *env, ext, p, uncertain)
			if !ours {
				c.conflicts.Add(1)
			}
			if ferr != nil || stop {
				return ferr
			}
			p, uncertain = next, false // the doubt was about the earlier plan: settled by the re-read
		case errors.Is(err, engine.ErrRejected):
			m.itemFailed(seg, p.item, err) // a retry would get the same answer
			return nil
		default:
			uncertain = true
			if transient++; transient > engine.MaxTransient {
				m.itemFailed(seg, p.item, err)
				return nil
			}
			if err := engine.Sleep(ctx, m.sc.ClockOrSystem(), engine.Backoff(transient)); err != nil {
				return err
			}
		}
	}
}

// reread reads p's item again after a failed condition and re-plans it.
// stop is true when there is nothing more to write (counted here).
// ambiguous says an earlier attempt of this very write has an unknown
// outcome (a dropped response, retried by the engine or inside the
// store's SDK, see ErrAmbiguous). ours is true when, after such an
// attempt, the item holds exactly what p would have written, at the
// target version: our own write applied and the guard refused its retry.
// It counts as written and not as a conflict. Without an ambiguous
// attempt an item that holds what we planned was written by someone else
// (another session running the same step): it counts as already there,
// so that two sessions never both claim it.
func (m *migrator) reread(ctx context.Context, seg int, env *itemEnv, ext *externalTransform, p plan, ambiguous bool) (np plan, stop, ours bool, err error) {
	np, stop, err = m.rereadPlan(ctx, seg, env, ext, p, ambiguous, &ours)
	return np, stop, ours, err
}

// appliedAsPlanned reports whether fresh already holds every value u sets
// and none of the attributes u removes, at u's version.
func appliedAsPlanned(fresh engine.Item, u engine.Update, vattr string) bool {
	if itemVersion(fresh, vattr) != u.Version {
		return false
	}
	for _, a := range u.Set {
		if !engine.EqualValues(fresh[a.Name], a.Value) {
			return false
		}
	}
	for _, k := range u.Remove {
		if fresh[k] != nil {
			return false
		}
	}
	return true
}

func (m *migrator) rereadPlan(ctx context.Context, seg int, env *itemEnv, ext *externalTransform, p plan, ambiguous bool, ours *bool) (plan, bool, error) {
	c := &m.segs[seg]
	var fresh engine.Item
	var ok bool
	var err error
	for attempt := 0; ; attempt++ {
		fresh, ok, err = m.store.Get(ctx, engine.KeyOf(p.upd.Key, m.key))
		if err == nil || ctx.Err() != nil || attempt >= engine.MaxTransient {
			break
		}
		if err := engine.Sleep(ctx, m.sc.ClockOrSystem(), engine.Backoff(attempt)); err != nil {
			return p, true, err
		}
	}
	switch {
	case ctx.Err() != nil:
		return p, true, ctx.Err()
	case err != nil:
		m.itemFailed(seg, p.item, fmt.Errorf("re-read after conflict: %w", err))
		return p, true, nil
	case !ok: // deleted meanwhile
		c.notMatched.Add(1)
		return p, true, nil
	}
	np, err := m.replan(ctx, env, ext, fresh)
	if err != nil {
		return p, true, err
	}
	switch np.out {
	case outWrite:
		return np, false, nil
	case outFailed:
		m.itemFailed(seg, fresh, np.err)
	case outAlready:
		switch {
		case ambiguous && appliedAsPlanned(fresh, p.upd, m.vattr):
			*ours = true
			m.countWritten(seg, p)
		case p.redo: // the interrupted attempt's write landed late
			*ours = true
			c.migrated.Add(1)
			c.recovered.Add(1)
		default:
			c.already.Add(1)
		}
	default:
		c.count(np.out)
	}
	return np, true, nil
}

// countWritten counts p's applied write: a version-only write (plan.stamp)
// as unchanged, any other as migrated.
func (m *migrator) countWritten(seg int, p plan) {
	if p.stamp {
		m.segs[seg].unchanged.Add(1)
		return
	}
	m.segs[seg].migrated.Add(1)
}

func (m *migrator) maxRetries() int {
	if m.spec.MaxRetries > 0 {
		return m.spec.MaxRetries
	}
	return runbook.DefaultMaxRetries
}

// itemFailed counts a per-item failure and journals it with the key.
func (m *migrator) itemFailed(seg int, it engine.Item, err error) {
	m.segs[seg].failures.Add(1)
	m.warn(seg, it, "item failed", err)
}

// warn journals a per-item warning (bounded in number).
func (m *migrator) warn(seg int, it engine.Item, msg string, err error) {
	if m.warned.Add(1) > maxJournaledFailures {
		return
	}
	data := engine.Warning{Message: msg, Key: KeyString(engine.KeyOf(it, m.key), m.key), Segment: &seg}
	if err != nil {
		data.Error = m.redact(err.Error())
	}
	_ = m.emit(engine.NewEvent(m.sc.Step.ID, data))
}

func (m *migrator) redact(s string) string {
	if m.sc.Redact != nil {
		return m.sc.Redact(s)
	}
	return s
}
