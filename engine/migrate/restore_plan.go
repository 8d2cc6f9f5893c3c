package migrate

import (
	"errors"
	"fmt"
	"maps"
	"strconv"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// ErrNotRecomputable marks a migrate step whose writes a restore cannot
// recompute from a backed-up item: an external transform (a program whose
// output for a past input lockstep cannot know without running it again).
var ErrNotRecomputable = errors.New("writes not recomputable")

// MigrationPlan recomputes what a chain of migrate steps wrote, for the
// restore step's guard: an item is restored only if it is still exactly
// what the migration made of its backed-up version. It runs the steps'
// own selection and transform (the code the migration ran), without a
// store.
type MigrationPlan struct {
	steps []*migrator
	vattr string
}

// NewMigrationPlan returns the plan of the migrate steps in chain (in run
// order) over a table keyed by key. A step with an external transform is
// ErrNotRecomputable.
func NewMigrationPlan(sc *engine.StepContext, key []string, chain []*runbook.Step) (*MigrationPlan, error) {
	p := &MigrationPlan{vattr: versionAttr(sc)}
	for _, st := range chain {
		spec := st.Migrate
		if spec == nil {
			return nil, fmt.Errorf("plan of %s: not a migrate step", st.ID)
		}
		if len(spec.Transform) > 0 {
			return nil, fmt.Errorf("plan of %s: external transform: %w", st.ID, ErrNotRecomputable)
		}
		m := &migrator{sc: sc, spec: spec, key: key, vattr: p.vattr,
			version: int64(sc.Runbook.Version), contract: spec.Contract()}
		m.reads, m.readsAll = spec.Reads(), spec.ReadsWholeItem()
		if sc.ExprEnv != nil {
			m.baseEnv = sc.ExprEnv()
		}
		p.steps = append(p.steps, m)
	}
	return p, nil
}

// VersionAttr is the version attribute the plan reads and writes.
func (p *MigrationPlan) VersionAttr() string { return p.vattr }

// Apply returns the item the chain leaves from before, and whether any
// step of it would have written the item. An item a step fails on (a
// where or set expression error) is an error: the migration did not
// write it either.
func (p *MigrationPlan) Apply(before engine.Item) (engine.Item, bool, error) {
	it, wrote := before, false
	for _, m := range p.steps {
		env := m.env()
		out, err := selectForMigrate(env, m.spec.Where, it, m.vattr, m.version, m.atVersion())
		if err != nil {
			return nil, false, err
		}
		if out != outWrite {
			continue
		}
		pl := m.transformInProcess(env, it)
		if pl.out == outFailed {
			return nil, false, pl.err
		}
		if pl.out != outWrite {
			continue
		}
		it, wrote = applyUpdate(it, pl.upd, m.vattr), true
	}
	return it, wrote, nil
}

// applyUpdate returns a copy of it with u applied as a store would.
func applyUpdate(it engine.Item, u engine.Update, vattr string) engine.Item {
	out := maps.Clone(it)
	for _, a := range u.Remove {
		delete(out, a)
	}
	for _, a := range u.Set {
		out[a.Name] = a.Value
	}
	switch {
	case u.Version != 0:
		out[vattr] = engine.Number(strconv.FormatInt(u.Version, 10))
	case u.Guard.Equals != 0:
		delete(out, vattr)
	}
	return out
}
