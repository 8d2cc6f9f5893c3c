package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Row classes of a pushed-down page's range: what the migrate step does
// with each row. A SQL store's class query numbers the rows so.
const (
	ClassAlready    = 0 // at or above the target version
	ClassNotMatched = 1 // the step's where is false
	ClassWrite      = 2 // written
	ClassPerRow     = 3 // where is not exact there (or the version is not an integer): the page goes per row
	ClassUnchanged  = 4 // written, its values already as the step sets them
)

// PageClasses is a pushed-down page's rows by class (N, indexed by the
// Class constants), and the versions its writes come from: NoVersion
// writes from rows without one (none when the target is 1: those are at
// version 0, the one before it), Lo and Hi the lowest and highest
// version of the others (nil when there are none), AtTarget the rows
// already at the target version.
type PageClasses struct {
	N         [5]int64
	NoVersion int64
	Lo, Hi    *int64
	AtTarget  int64
}

// Writes is the number of rows the page writes.
func (c *PageClasses) Writes() int64 { return c.N[ClassWrite] + c.N[ClassUnchanged] }

// From is the version every write of the page comes from, when not the
// one before target ("none": no version; "": the one before target, or
// no writes), or why the page goes per row: the per-row path records the
// origin of each row it writes, so that a rollback puts it back
// (engine/migrate/rollback_origins.go), where a range records one
// version (PushdownPlan.From).
func (c *PageClasses) From(target int64) (from, why string) {
	writes := c.Writes()
	switch {
	case writes == 0:
		return "", ""
	case c.NoVersion == writes:
		from = "none"
	case c.NoVersion > 0 || *c.Lo != *c.Hi:
		return "", fmt.Sprintf("the page writes rows from several versions (%s): per row, a rollback puts each back", c.versions())
	case *c.Lo == target-1:
		return "", ""
	default:
		from = strconv.FormatInt(*c.Lo, 10)
	}
	if c.AtTarget > 0 {
		return "", fmt.Sprintf("the page writes rows from version %s beside %d row(s) already at %d: per row, a rollback puts each back", from, c.AtTarget, target)
	}
	return from, ""
}

func (c *PageClasses) versions() string {
	var vs []string
	if c.NoVersion > 0 {
		vs = append(vs, "none")
	}
	if c.Lo != nil {
		vs = append(vs, strconv.FormatInt(*c.Lo, 10))
	}
	if c.Hi != nil && (c.Lo == nil || *c.Hi != *c.Lo) {
		vs = append(vs, strconv.FormatInt(*c.Hi, 10))
	}
	return strings.Join(vs, ", ")
}

// ErrInexactPage is WritePage's error when the page's UPDATE changed
// fewer rows than the page writes: some values were not exact. The store
// rolls the page's transaction back and returns a result with only its
// Fallback, and the page goes per row.
var ErrInexactPage = errors.New("pushdown page: rows the SQL translation is not exact for")

// WritePage finishes a counted page inside the store's transaction: it
// sets res's counts from c, says in res.Fallback why the page goes per
// row when it does (and returns nil: nothing was written), otherwise runs
// update (the page's guarded UPDATE, returning its row count) when the
// page writes anything, makes the write-ahead checkpoint (beforeWrite)
// and sets the written counts. res.Next must be set: a range origin
// records it. The caller commits on nil.
func WritePage(res *PushdownResult, c PageClasses, target int64, update func() (int64, error), beforeWrite func(PushdownPlan) error) error {
	res.Already, res.NotMatched = c.N[ClassAlready], c.N[ClassNotMatched]
	for _, n := range c.N {
		res.Scanned += n
	}
	if n := c.N[ClassPerRow]; n > 0 {
		res.Fallback = inexactText(n)
		return nil
	}
	from, why := c.From(target)
	if why != "" {
		res.Fallback = why
		return nil
	}
	if writes := c.Writes(); writes > 0 {
		n, err := update()
		if err != nil {
			return err
		}
		if n != writes {
			res.Fallback = inexactText(writes - n)
			return ErrInexactPage
		}
	}
	plan := PushdownPlan{Rows: res.Scanned, Writes: c.Writes(), From: from}
	if from != "" {
		plan.Upto = res.Next
	}
	if err := beforeWrite(plan); err != nil {
		return err
	}
	res.Migrated, res.Unchanged = c.N[ClassWrite], c.N[ClassUnchanged]
	return nil
}

func inexactText(n int64) string {
	return fmt.Sprintf("%d row(s) hold values the SQL translation is not exact for", n)
}
