package sqlite

import (
	"context"
	"errors"

	"github.com/lockstep-run/lockstep/engine"
)

// CheckUpdate reports, without writing, whether the store would refuse u
// whatever the row holds: a column the table lacks (after re-reading the
// schema once), a value SQLite cannot hold, a change to the key. Migrate
// asks it while planning, so a dry-run counts the failures a live run
// would get. before (the row as read) adds nothing SQLite limits.
func (s *Store) CheckUpdate(ctx context.Context, _ engine.Item, u engine.Update) error {
	sc, err := s.schemaFor(ctx, u)
	switch {
	case errors.Is(err, ErrNoColumn):
		return engine.Rejected(err)
	case err != nil:
		return nil // not knowable here: the write will tell
	}
	if _, _, err := s.renderUpdate(sc, u, nil, nil, nil); err != nil {
		return engine.Rejected(err)
	}
	return nil
}
