package engine

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Anchor is a session's journal head as recorded, when the session ended,
// in the registry of the environment it ran against (RegistryRecord's
// Head and Events; see RegistryAnchors): a copy of the chain's head kept
// outside the journal file, so rewriting the whole file (every hash
// recomputed) no longer goes unnoticed. The registry keeps a session's
// latest end.
type Anchor struct {
	SessionID string    `json:"session"`
	Runbook   string    `json:"runbook"`
	Env       string    `json:"env"`
	Head      string    `json:"head"`   // hash of the session's last event
	Events    int64     `json:"events"` // seq of that event
	Time      time.Time `json:"time"`
}

// ErrAnchorConflict: the registry holds the same session and events count
// with another head — the journal was rewritten, or two journals claim
// the session.
var ErrAnchorConflict = errors.New("anchor conflicts with the one recorded")

// AnchorError is a session's failure to record its end (and journal
// anchor) in the target store's registry. Run returns it alone when the session
// itself went as journaled: the outcome stands, and a front end shows it
// as a warning — `journal verify --env` cannot vouch for that session.
type AnchorError struct{ Err error }

func (e *AnchorError) Error() string { return e.Err.Error() }

// Unwrap returns the store's error.
func (e *AnchorError) Unwrap() error { return e.Err }

// AnchorCheck is the comparison of one session's anchors with a journal.
type AnchorCheck struct {
	SessionID string `json:"session"`
	Anchors   int    `json:"anchors"`
	OK        bool   `json:"ok"`
	Reason    string `json:"reason,omitempty"`
}

// CheckAnchors compares anchors with the journal, one result per anchored
// session (sorted as first seen): the session must be in the journal, and
// its event at each anchor's count must have the anchor's head. A session
// with more events than its latest anchor is fine (it ran on after, or
// the anchor was not written); sessions without an anchor are not
// reported here.
func CheckAnchors(ctx context.Context, j Journal, anchors []Anchor) ([]AnchorCheck, error) {
	var (
		order []string
		by    = map[string][]Anchor{}
	)
	for _, a := range anchors {
		if _, ok := by[a.SessionID]; !ok {
			order = append(order, a.SessionID)
		}
		by[a.SessionID] = append(by[a.SessionID], a)
	}
	out := make([]AnchorCheck, 0, len(order))
	for _, id := range order {
		c := AnchorCheck{SessionID: id, Anchors: len(by[id]), OK: true}
		evs, err := j.Events(ctx, id)
		if errors.Is(err, ErrNotFound) {
			c.OK, c.Reason = false, "anchored in the store but missing from the journal (session deleted)"
			out = append(out, c)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("check anchors: %w", err)
		}
		for _, a := range by[id] {
			switch {
			case a.Events < 1 || a.Events > int64(len(evs)):
				c.OK, c.Reason = false, fmt.Sprintf("the store anchored %d events at %s, the journal has %d (session truncated)",
					a.Events, a.Time.UTC().Format(time.RFC3339), len(evs))
			case evs[a.Events-1].Hash != a.Head:
				c.OK, c.Reason = false, fmt.Sprintf("event %d has hash %.16s…, the store anchored %.16s… at %s (session rewritten)",
					a.Events, evs[a.Events-1].Hash, a.Head, a.Time.UTC().Format(time.RFC3339))
			}
			if !c.OK {
				break
			}
		}
		out = append(out, c)
	}
	return out, nil
}
