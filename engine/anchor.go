package engine

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Anchor is a session's journal head as recorded, when the session ended,
// in the store of the environment it ran against: a copy of the chain's
// head kept outside the journal file, so rewriting the whole file (every
// hash recomputed) no longer goes unnoticed. A session that ends more
// than once (stopped, then resumed) has one anchor per end.
type Anchor struct {
	SessionID string    `json:"session"`
	Runbook   string    `json:"runbook"`
	Env       string    `json:"env"`
	Head      string    `json:"head"`   // hash of the session's last event
	Events    int64     `json:"events"` // seq of that event
	Time      time.Time `json:"time"`
}

// Anchorer is the optional store capability of keeping anchors. A store
// implements it when it can keep a small table next to the data.
type Anchorer interface {
	// RecordAnchor stores a once: recording the same session, events
	// count and head again is a no-op; the same session and count with
	// another head fails with ErrAnchorConflict.
	RecordAnchor(ctx context.Context, a Anchor) error
	// Anchors returns the anchors of runbook in env, in no set order.
	Anchors(ctx context.Context, runbook, env string) ([]Anchor, error)
}

// ErrAnchorConflict: an anchor for the same session and events count
// exists with another head — the journal was rewritten, or two journals
// claim the session.
var ErrAnchorConflict = errors.New("anchor conflicts with the one recorded")

// recordAnchor records the session's final head in its environment's
// store when the session used that store (it is still open) and the store
// keeps anchors. Dry runs write nothing to the target, anchors included.
func (s *Session) recordAnchor(ctx context.Context) error {
	s.storeMu.Lock()
	st := s.store
	s.storeMu.Unlock()
	a, ok := st.(Anchorer)
	if !ok || s.cfg.Mode == ModeDryRun {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	info, err := s.cfg.Journal.Session(ctx, s.info.ID)
	if err != nil {
		return fmt.Errorf("record journal anchor: %w", err)
	}
	err = a.RecordAnchor(ctx, Anchor{SessionID: info.ID, Runbook: s.rb.Name, Env: s.env.Name,
		Head: info.Head, Events: info.Events, Time: s.cfg.Clock.Now()})
	if err != nil {
		return fmt.Errorf("record journal anchor in the %s store: %w", s.env.Name, err)
	}
	return nil
}

// AnchorError is a session's failure to record its journal anchor in the
// target store once it ended. Run returns it alone when the session
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
