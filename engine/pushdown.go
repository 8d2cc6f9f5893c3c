package engine

import (
	"context"

	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

// Pushdowner is implemented by SQL stores that can run a migrate page as
// one guarded UPDATE over a key range (pushdown) instead of reading and
// writing row by row.
type Pushdowner interface {
	// SQLDialect is the dialect expressions are translated into.
	SQLDialect() sqlexpr.Dialect
	// PushdownPage runs one page in one write transaction, fenced like
	// UpdateBatch by the leases ctx carries: it reads the page's keys (at
	// most req.Limit rows of the segment after req.Cursor, in the order
	// and segmentation of Scan, so cursors of both paths are one), sorts
	// its rows by what the step would do with them, writes them with one
	// UPDATE, and calls beforeWrite with the page's row count and the
	// number it writes (the write-ahead checkpoint; an error rolls back)
	// before it commits: nothing of the page is durable, or visible, until
	// the checkpoint is. A store may call beforeWrite before the UPDATE.
	//
	// The plan beforeWrite gets says where the rows it writes came from:
	// every one of them at one version other than the one before the
	// target (or without a version) is recorded for the page's range as a
	// whole, for the rollback (RangeKeyer); a page writing rows from
	// several such versions, or from one of them beside rows already at
	// the target, falls back to the per-row path, which records each
	// row's origin.
	//
	// A page holding a row the translation is not exact for (see
	// sqlexpr), or a table lacking a column the step uses, is not written:
	// the result's Fallback says why, and the caller runs that page per
	// row from the same cursor.
	PushdownPage(ctx context.Context, req PushdownRequest, beforeWrite func(PushdownPlan) error) (PushdownResult, error)
}

// PushdownPlan is what a pushed-down page is about to write, known inside
// its transaction before the UPDATE runs.
type PushdownPlan struct {
	Rows   int64 // rows in the page's key range
	Writes int64 // rows the UPDATE will change
	// From is the version every written row has before the page, when it
	// is not Target−1: "none" (no version) or the number. "" otherwise.
	From string
	// Upto is the Scan cursor after the page's last row (nil: the page
	// runs to the segment's end). With the cursor the page starts at, it
	// bounds the page's key range.
	Upto []byte
}

// RangeKeyer lists the keys of the rows in a key range of a segment, as
// Scan segments and orders them: the rollback of a pushed-down step
// reads the rows of each page the forward step recorded an origin for.
type RangeKeyer interface {
	RangeKeys(ctx context.Context, r KeyRange, fn func(key Item) error) error
}

// KeyRange is the rows of one segment after the cursor After (nil: from
// the segment's start) up to and including the cursor Upto's row (nil:
// to the segment's end).
type KeyRange struct {
	Segment, TotalSegments int
	After, Upto            []byte
}

// PushdownRequest is one page of a pushed-down migrate step.
type PushdownRequest struct {
	Segment, TotalSegments int
	Cursor                 []byte
	Limit                  int
	Migrate                *sqlexpr.Migrate
	VersionAttr            string
	// Target is the version written: rows whose version is NULL or below
	// it are migrated.
	Target int64
}

// PushdownResult is what a page did.
type PushdownResult struct {
	Next       []byte // nil when the segment is done
	Scanned    int64  // rows in the page's key range
	Already    int64  // at or above the target version
	NotMatched int64  // where is false
	Migrated   int64  // rows the UPDATE changed
	Unchanged  int64  // rows the UPDATE gave the version alone (already in shape)
	// Fallback, when set, says why nothing was written: the page needs
	// the per-row path.
	Fallback string
}
