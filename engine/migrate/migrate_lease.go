package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/lockstep-run/lockstep/engine"
)

// leaseError is the step's error for a lease lost or unconfirmed.
func (m *migrator) leaseError(err error) error {
	if errors.Is(err, engine.ErrLeaseLost) {
		return fmt.Errorf("%w; stopped writing after %d items; %s", err, m.totals().Migrated, engine.LeaseLostHint)
	}
	return fmt.Errorf("check lease: %w", err)
}

// leaseWriteContext is the context of one page's writes: fenced by the
// session's leases and cancelled once one is lost or unconfirmed past its
// renew margin. stop turns the page's error into the lease's.
func (m *migrator) leaseWriteContext(ctx context.Context) (context.Context, func(error) error) {
	if m.dry {
		return ctx, func(err error) error { return err }
	}
	wctx, stop := m.sc.LeaseWriteContext(ctx, m.store)
	return wctx, func(err error) error {
		if err = stop(err); errors.Is(err, engine.ErrLeaseLost) {
			m.stop.Store(true)
			return m.leaseError(err)
		}
		return err
	}
}
