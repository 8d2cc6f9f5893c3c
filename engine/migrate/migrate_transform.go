package migrate

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
)

// outcome is what planning decided for one scanned item.
type outcome int

const (
	outWrite      outcome = iota // write upd
	outAlready                   // at/above the target version (forward) or not at it (rollback)
	outNotMatched                // where is false
	outUnchanged                 // the transform changed nothing
	outFailed                    // where/transform failed for this item
)

// plan is the decision for one item.
type plan struct {
	item engine.Item
	out  outcome
	upd  engine.Update
	err  error
	// stamp marks a version-only write (out is outWrite): the item is
	// already in the new shape and only gets its version, counted as
	// unchanged rather than migrated.
	stamp bool
	// redo marks a write of the interrupted attempt's intent (a resumed
	// or taken-over segment's first page): that attempt's own write of it
	// may still land (a stalled process, a request in flight). Found
	// already migrated after a conflict, it is that attempt's write, and
	// counts as migrated and recovered, not as already there.
	redo bool
}

// valueChecker is a store that refuses some values before writing them
// (DynamoDB: an empty set). CheckValue names attr in its error.
type valueChecker interface {
	CheckValue(attr string, v any) error
}

// updateChecker is a store that can tell, before sending it, a write it
// would refuse whole whatever the item's state: DynamoDB an item over its
// size limit once updated or an expression over its limits, SQLite a
// column the table lacks. before is the item as read. The error says why
// (wrapped in ErrRejected).
type updateChecker interface {
	CheckUpdate(ctx context.Context, before engine.Item, u engine.Update) error
}

// checkWrite fails a planned write the store would refuse: the dry-run
// shows it as the item failure the live run would get, and the live run
// does not send a write holding a value the store refuses. The whole-write
// checks (updateChecker) run in dry-run only: live, the store refuses
// such a write itself (ErrRejected), failing the item the same way, and
// checking every write first would cost a second rendering of each.
func (m *migrator) checkWrite(ctx context.Context, p plan) plan {
	if p.out != outWrite {
		return p
	}
	if vc, ok := m.store.(valueChecker); ok {
		for _, a := range p.upd.Set {
			if err := vc.CheckValue(a.Name, a.Value); err != nil {
				return plan{item: p.item, out: outFailed, err: err}
			}
		}
	}
	if uc, ok := m.store.(updateChecker); ok && m.dry {
		if err := uc.CheckUpdate(ctx, p.item, p.upd); err != nil {
			return plan{item: p.item, out: outFailed, err: err}
		}
	}
	return p
}

// planItems decides what to do with each item of a page. External
// transforms are called once for the whole batch of selected items.
func (m *migrator) planItems(ctx context.Context, env *itemEnv, ext *externalTransform, items []engine.Item) ([]plan, error) {
	return m.planItemsIn(ctx, env, ext, items, nil)
}

// planItemsIn is planItems building the plans and their writes' attribute
// slices in buf, a page's memory the writer handed back (nil: allocated).
func (m *migrator) planItemsIn(ctx context.Context, env *itemEnv, ext *externalTransform, items []engine.Item, buf *pageBuf) ([]plan, error) {
	var plans []plan
	var slab *attrSlab
	if buf != nil {
		plans, slab = buf.reset(m, len(items))
	} else {
		plans, slab = make([]plan, len(items)), m.newAttrSlab(len(items))
	}
	var batch []int
	for i, it := range items {
		out, err := selectForMigrate(env, m.spec.Where, it, m.vattr, m.version, m.atVersion())
		plans[i] = plan{item: it, out: out, err: err}
		if out != outWrite {
			continue
		}
		if ext != nil {
			batch = append(batch, i)
			continue
		}
		plans[i] = m.checkWrite(ctx, m.transformWith(env, it, slab))
	}
	if ext == nil || len(batch) == 0 {
		return plans, nil
	}
	in := make([]engine.Item, len(batch))
	for j, i := range batch {
		in[j] = items[i]
	}
	outs, err := ext.run(ctx, in)
	if err != nil {
		return nil, err
	}
	for j, i := range batch {
		plans[i] = m.checkWrite(ctx, m.diffExternal(items[i], outs[j]))
	}
	return plans, nil
}

// replan re-plans one freshly read item (after a failed condition).
func (m *migrator) replan(ctx context.Context, env *itemEnv, ext *externalTransform, it engine.Item) (plan, error) {
	ps, err := m.planItems(ctx, env, ext, []engine.Item{it})
	if err != nil {
		return plan{}, err
	}
	return ps[0], nil
}

// transformInProcess applies set, rename and remove to it, which selects
// bound in env.
func (m *migrator) transformInProcess(env *itemEnv, it engine.Item) plan {
	return m.transformWith(env, it, nil)
}

// transformWith is transformInProcess cutting the write's attribute
// slices from slab (nil: allocated one by one).
func (m *migrator) transformWith(env *itemEnv, it engine.Item, slab *attrSlab) plan {
	p := plan{item: it, out: outWrite}
	set := slab.take(len(m.spec.Set) + len(m.spec.Rename))
	var remove []string
	for _, c := range m.spec.Set {
		raw, err := env.run(c.Expr)
		if err != nil {
			return plan{item: it, out: outFailed, err: fmt.Errorf("set %s: %w", c.Attr, err)}
		}
		v, err := engine.FromExpr(raw)
		if err != nil {
			return plan{item: it, out: outFailed, err: fmt.Errorf("set %s: %w", c.Attr, err)}
		}
		old, had := it[c.Attr]
		if had {
			var empty bool
			if v, empty = engine.AsStoredLike(old, v); empty {
				// A set emptied by the expression: DynamoDB has no empty
				// set, so the attribute goes, as a DELETE of a set's
				// last elements removes it.
				set, remove = unsetAttr(set, c.Attr), appendNew(remove, c.Attr)
				continue
			}
		}
		remove = slices.DeleteFunc(remove, func(a string) bool { return a == c.Attr })
		if !had || !engine.EqualValues(old, v) {
			set = setAttr(set, c.Attr, v)
		}
	}
	guard := m.reads
	for _, old := range slab.renamed(m) {
		v, ok := it[old]
		if !ok || v == nil {
			// Absent or null (SQLite reads a NULL column as nil): there
			// is nothing to move, and writing would make a re-run of a
			// contract step write again.
			continue
		}
		nw := m.spec.Rename[old]
		if cur, has := it[nw]; !has || !engine.EqualValues(cur, v) {
			set = setAttr(set, nw, v)
		}
		remove = append(remove, old)
		// The target is guarded even when it already holds the value:
		// the move is planned on what both names held.
		guard = append(slices.Clip(guard), nw)
	}
	for _, a := range m.spec.Remove {
		if v, ok := it[a]; ok && v != nil && !slices.Contains(remove, a) { // null is removed already
			remove = append(remove, a)
		}
	}
	if len(set) == 0 && len(remove) == 0 && !m.movesDown() {
		return m.stamp(p, guard, m.readsAll, slab)
	}
	sortAttrs(set)
	p.upd = m.updateWith(it, set, remove, guard, m.readsAll, slab)
	return p
}

// stamp plans the write of an item the transform leaves as it is: a
// forward step gives it the target version alone, guarded like any other
// write, so its version says truthfully which shape it is in and a later
// contract step (which works on items at the version) covers it. A step
// that works on items at the version (rollback, contract) has nothing to
// write: the item keeps the version it has.
func (m *migrator) stamp(p plan, guard []string, all bool, slab *attrSlab) plan {
	if m.atVersion() {
		p.out = outUnchanged
		return p
	}
	p.stamp = true
	p.upd = m.updateWith(p.item, nil, nil, guard, all, slab)
	return p
}

// setAttr sets name to v in as, replacing an earlier value.
func setAttr(as []engine.Attr, name string, v any) []engine.Attr {
	for i := range as {
		if as[i].Name == name {
			as[i].Value = v
			return as
		}
	}
	return append(as, engine.Attr{Name: name, Value: v})
}

// unsetAttr drops name from as.
func unsetAttr(as []engine.Attr, name string) []engine.Attr {
	return slices.DeleteFunc(as, func(a engine.Attr) bool { return a.Name == name })
}

// appendNew appends s to list unless it holds it already.
func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// diffExternal turns an external transform's output into an update.
func (m *migrator) diffExternal(in, out engine.Item) plan {
	p := plan{item: in, out: outWrite}
	var set []engine.Attr
	var remove []string
	for k, v := range out {
		if k == m.vattr {
			continue
		}
		old, ok := in[k]
		if slices.Contains(m.key, k) {
			if !ok || !engine.EqualValues(old, v) {
				return plan{item: in, out: outFailed, err: fmt.Errorf("transform changed key attribute %q", k)}
			}
			continue
		}
		if !ok || !engine.EqualValues(old, v) {
			set = append(set, engine.Attr{Name: k, Value: v})
		}
	}
	sortAttrs(set)
	for k := range in {
		if _, ok := out[k]; !ok && k != m.vattr && !slices.Contains(m.key, k) {
			remove = append(remove, k)
		}
	}
	slices.Sort(remove)
	if len(set) == 0 && len(remove) == 0 && !m.movesDown() {
		return m.stamp(p, nil, true, nil)
	}
	p.upd = m.update(in, set, remove, nil, true)
	return p
}

// update builds the guarded write of it. The guard holds the version
// check and, at the value each had when it was read (absent: absent), the
// attributes in reads (every attribute when all), and every attribute the
// write sets or removes: a concurrent write of any of them (an
// application's, another session's) fails the condition rather than being
// overwritten, and the item is read and planned again.
func (m *migrator) update(it engine.Item, set []engine.Attr, remove, reads []string, all bool) engine.Update {
	return m.updateWith(it, set, remove, reads, all, nil)
}

// updateWith is update cutting the guard's slice from slab (nil:
// allocated).
func (m *migrator) updateWith(it engine.Item, set []engine.Attr, remove, reads []string, all bool, slab *attrSlab) engine.Update {
	var unchanged []engine.Attr
	if all { // every attribute, and the reads it lacks as absent
		unchanged = slab.take(len(it) + len(reads))
		for k, v := range it {
			if k != m.vattr && !slices.Contains(m.key, k) {
				unchanged = append(unchanged, engine.Attr{Name: k, Value: v})
			}
		}
		for _, a := range reads {
			if _, ok := it[a]; !ok && a != m.vattr && !slices.Contains(m.key, a) {
				unchanged = append(unchanged, engine.Attr{Name: a, Absent: true})
			}
		}
	} else {
		unchanged = slab.take(len(reads) + len(set) + len(remove))
		for _, a := range reads {
			if a != m.vattr && !slices.Contains(m.key, a) {
				unchanged = guardAttr(unchanged, a, it)
			}
		}
	}
	for _, a := range set {
		if !slices.Contains(m.key, a.Name) && a.Name != m.vattr {
			unchanged = guardAttr(unchanged, a.Name, it)
		}
	}
	for _, a := range remove {
		if !slices.Contains(m.key, a) && a != m.vattr {
			unchanged = guardAttr(unchanged, a, it)
		}
	}
	sortAttrs(unchanged)
	g := engine.Guard{VersionAttr: m.vattr, Unchanged: unchanged}
	u := engine.Update{Key: it, Set: set, Remove: remove, Guard: g}
	if m.atVersion() {
		u.Guard.Equals = m.version
		u.Version = m.targetVersion()
		if m.movesDown() {
			u.Version = m.rollbackVersion(it)
		}
	} else {
		u.Guard.Below = m.version
		u.Version = m.version
	}
	return u
}

// guardAttr adds name, at its value in it (marked Absent when it lacks
// name), to the guard unless it is there already.
func guardAttr(unchanged []engine.Attr, name string, it engine.Item) []engine.Attr {
	if _, ok := engine.LookupAttr(unchanged, name); ok {
		return unchanged
	}
	v, had := it[name]
	return append(unchanged, engine.Attr{Name: name, Value: v, Absent: !had})
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// renamed returns the names a rename moves, sorted (nil without rename).
func (m *migrator) renamed() []string {
	if len(m.spec.Rename) == 0 {
		return nil
	}
	return sortedKeys(m.spec.Rename)
}

// attrSlab hands out attribute slices cut from shared arrays, so that
// planning a page allocates a few arrays rather than two slices a row.
// The slices are capped: appending beyond one copies it rather than
// running into the next. A nil *attrSlab allocates each slice.
type attrSlab struct {
	buf     []engine.Attr
	chunk   int      // capacity of each new array
	renames []string // m.renamed(), once per page
	// used holds the arrays handed out from, kept for the next page when
	// the slab is recycled (pageBuf); next is the first not in use again.
	used [][]engine.Attr
	next int
}

// newAttrSlab returns a slab sized for the writes of n items.
func (m *migrator) newAttrSlab(n int) *attrSlab {
	s := &attrSlab{}
	s.size(m, n)
	return s
}

// size sets the slab's chunk for the writes of n items.
func (s *attrSlab) size(m *migrator, n int) {
	perItem := 2*(len(m.spec.Set)+len(m.spec.Rename)) + len(m.spec.Remove) + len(m.reads) + 1
	s.chunk, s.renames = max(n, 1)*perItem, m.renamed()
}

// recycle makes the slab's arrays free for another page, cleared so that
// they keep no value of the last one alive.
func (s *attrSlab) recycle() {
	for i, a := range s.used {
		clear(a[:cap(a)])
		s.used[i] = a[:0]
	}
	s.buf, s.next = nil, 0
}

// renamed is m.renamed(), computed once per slab.
func (s *attrSlab) renamed(m *migrator) []string {
	if s == nil {
		return m.renamed()
	}
	return s.renames
}

// take returns an empty slice with capacity n.
func (s *attrSlab) take(n int) []engine.Attr {
	if s == nil {
		return make([]engine.Attr, 0, n)
	}
	if cap(s.buf)-len(s.buf) < n {
		s.buf = s.array(n)
	}
	i := len(s.buf)
	s.buf = s.buf[:i+n]
	return s.buf[i : i : i+n]
}

// array returns an empty array for at least n attributes: the next
// recycled one large enough, else a new one of the slab's chunk.
func (s *attrSlab) array(n int) []engine.Attr {
	for ; s.next < len(s.used); s.next++ {
		if a := s.used[s.next]; cap(a) >= n {
			s.used[s.next] = a[:0]
			s.next++
			return a[:0]
		}
	}
	a := make([]engine.Attr, 0, max(n, s.chunk))
	s.used = append(s.used, a)
	s.next = len(s.used)
	return a
}

// fromVersionKey names the version it had before a migrate step wrote it,
// as MigrateCounts.FromVersions counts them: "none" without a version
// attribute, else the number.
func fromVersionKey(it engine.Item, vattr string) string {
	if it[vattr] == nil {
		return "none"
	}
	return strconv.FormatInt(itemVersion(it, vattr), 10)
}

// rollbackOrigins reads, for the rollback of a migrate step, the versions
// the items had before the forward step wrote them (from_versions), and
// how many of them were not at version-1, the version the rollback sets:
// those items now claim a version they never had. The figures come from
// the forward step's result when it is done, else from the journal (its
// latest step.end, else its latest checkpoint of each segment: a step
// that failed or was interrupted is rolled back too). ok is false when
// none records them.
func rollbackOrigins(ctx context.Context, sc *engine.StepContext, version int64) (from map[string]int64, other int64, ok bool) {
	if sc.Of == nil {
		return nil, 0, false
	}
	var fwd fromVersions
	if raw, found := sc.Results[sc.Of.ID]; found && json.Unmarshal(raw, &fwd) == nil && fwd.FromVersions != nil {
		from = fwd.FromVersions
	} else if from = journaledOrigins(ctx, sc); from == nil {
		return nil, 0, false
	}
	prev := strconv.FormatInt(version-1, 10)
	for v, n := range from {
		if v != prev {
			other += n
		}
	}
	return from, other, true
}

// fromVersions is the part of a migrate step's result and checkpoint data
// that records the versions its items had before it wrote them.
type fromVersions struct {
	FromVersions map[string]int64 `json:"from_versions"`
}

// journaledOrigins reads the forward step's from_versions from the
// session's journal: its step.end result when nothing was checkpointed
// after it, else the sum of its latest checkpoint of each segment.
func journaledOrigins(ctx context.Context, sc *engine.StepContext) map[string]int64 {
	if sc.Journal == nil {
		return nil
	}
	evs, err := sc.Journal.Events(ctx, sc.Session.ID)
	if err != nil {
		return nil
	}
	var ended map[string]int64
	perSeg := map[int]map[string]int64{}
	for _, ev := range evs {
		if ev.Step != sc.Of.ID {
			continue
		}
		switch ev.Kind {
		case engine.EvStepEnd:
			end, err := engine.DecodeAs[engine.StepEnded](ev)
			var res fromVersions
			if err == nil && len(end.Result) > 0 && json.Unmarshal(end.Result, &res) == nil && res.FromVersions != nil {
				ended = res.FromVersions
			}
		case engine.EvCheckpoint: // newer than any earlier step.end
			c, err := engine.DecodeAs[engine.Checkpointed](ev)
			var cp fromVersions
			if err == nil && json.Unmarshal(c.Data, &cp) == nil {
				ended, perSeg[c.Segment] = nil, cp.FromVersions
			}
		}
	}
	if ended != nil {
		return ended
	}
	var sum map[string]int64
	for _, f := range perSeg {
		for v, n := range f {
			if sum == nil {
				sum = map[string]int64{}
			}
			sum[v] += n
		}
	}
	return sum
}

// rollbackNote is the warning of a rollback that set items to version-1
// although the forward step found some of them at another version.
func rollbackNote(version int64, from map[string]int64, other int64) string {
	var parts []string
	for _, v := range slices.Sorted(maps.Keys(from)) {
		parts = append(parts, fmt.Sprintf("%s: %d", v, from[v]))
	}
	return fmt.Sprintf("rollback sets every item it reverts to version %d, but the forward migration found %d of its items at another version (%s): "+
		"they now claim version %d, so a later run of that version's migration would skip them", version-1, other, strings.Join(parts, ", "), version-1)
}

// sortAttrs sorts attributes by name: an update's attributes in a fixed
// order.
func sortAttrs(as []engine.Attr) {
	if len(as) > 12 {
		slices.SortFunc(as, func(a, b engine.Attr) int { return strings.Compare(a.Name, b.Name) })
		return
	}
	// An insertion sort: a write's few attributes, usually in order
	// already, cost it less than a call of the generic sort per slice
	// (twice a row).
	for i := 1; i < len(as); i++ {
		for j := i; j > 0 && as[j].Name < as[j-1].Name; j-- {
			as[j], as[j-1] = as[j-1], as[j]
		}
	}
}
