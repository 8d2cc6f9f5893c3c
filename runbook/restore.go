package runbook

import "time"

// restoreHint explains the two ways a restore step works.
const restoreHint = "from: BACKUP_STEP puts its export back into the live table; native: true with from: or point_in_time: restores into a new table"

// restore decodes a restore step's `with:`.
func (d *decoder) restore(f fields, what string) *RestoreSpec {
	sp := &RestoreSpec{}
	if v := f.get("native"); v != nil {
		sp.Native = d.boolean(v, "native")
	}
	if v := f.get("from"); v != nil {
		sp.From = d.nonEmpty(v, "from")
		d.refer(refBackup, sp.From, v)
	}
	if v := f.get("point_in_time"); v != nil {
		sp.PointInTime = d.nonEmpty(v, "point_in_time")
		if _, err := time.Parse(time.RFC3339, sp.PointInTime); sp.PointInTime != "latest" && sp.PointInTime != "" && err != nil {
			d.errorf(v, `"latest" or a time like 2026-12-07T03:00:00Z`, "%s point_in_time: %q is not an RFC 3339 time", what, sp.PointInTime)
		}
	}
	if v := f.get("target_table"); v != nil {
		sp.TargetTable = d.nonEmpty(v, "target_table")
	}
	if v := f.get("batch_size"); v != nil {
		sp.BatchSize = d.integer(v, "batch_size", 1)
	}
	switch {
	case !sp.Native && (f.has("point_in_time") || f.has("target_table")):
		k := "point_in_time"
		if !f.has(k) {
			k = "target_table"
		}
		d.errorf(f.by[k].key, restoreHint, "%s: %s needs native: true", what, k)
	case !sp.Native && !f.has("from"):
		d.errorf(f.node, restoreHint, "%s: missing from", what)
	case sp.Native && f.has("from") == f.has("point_in_time"):
		d.errorf(f.node, restoreHint, "%s: native: true takes from or point_in_time, one of them", what)
	}
	return sp
}

// RestoreBatch is the step's batch size, or DefaultRestoreBatch.
func (sp *RestoreSpec) RestoreBatch() int {
	if sp == nil || sp.BatchSize <= 0 {
		return DefaultRestoreBatch
	}
	return sp.BatchSize
}
