package migrate

import "github.com/lockstep-run/lockstep/engine"

// pageBuf is the memory a planned page is built in: the items its scan
// read, its plans and the slab its writes' attributes are cut from. The
// writer hands it back once every write of the page has returned (no
// store keeps an update after that) and its checkpoint is saved, and the
// planner reads and builds a later page in it: a page's memory is reused
// instead of allocated, zeroed and collected per page.
//
// The items are the store's maps, handed back to its next scan
// (engine.ScanRequest.Reuse) to be cleared and filled with the next
// page's rows. So nothing that outlives a page may keep one of its items
// (a map): failure reports, warnings, conflicts and intents keep the
// key's text or hashes, the rollback origins the version, never the map;
// a dry run, whose samples keep items, reuses nothing (its buf is nil).
type pageBuf struct {
	plans []plan
	slab  attrSlab
	items []engine.Item
}

// reusable are b's items for the next scan to fill again
// (engine.ScanRequest.Reuse; b nil: none). Only a released b, or a new
// one, gets here.
func (b *pageBuf) reusable() []engine.Item {
	if b == nil {
		return nil
	}
	return b.items
}

// keep records the items the scan returned as the page's, to be offered
// to a later scan once the page is written (b nil: nothing).
func (b *pageBuf) keep(items []engine.Item) {
	if b != nil {
		b.items = items
	}
}

// reset returns b's plans for n items and its slab, sized; b is new or
// released.
func (b *pageBuf) reset(m *migrator, n int) ([]plan, *attrSlab) {
	if cap(b.plans) < n {
		b.plans = make([]plan, n)
	}
	b.plans = b.plans[:n]
	b.slab.size(m, n)
	return b.plans, &b.slab
}

// release clears what refers to the page's items, for the planner's next
// page. The items themselves stay, for the next scan to refill.
func (b *pageBuf) release() {
	clear(b.plans[:cap(b.plans)])
	b.slab.recycle()
}
