package engine

import (
	"context"
	"fmt"
	"time"
)

// DefaultLeaseTTL is a lock's lease duration when the step sets no ttl.
const DefaultLeaseTTL = 5 * time.Minute

// LockResult is the result of a lock step.
type LockResult struct {
	Lease          Lease             `json:"lease"`
	TTLMS          int64             `json:"ttl_ms"`
	Maintenance    *MaintenanceState `json:"maintenance,omitempty"`
	TakenOver      bool              `json:"taken_over,omitempty"`
	PreviousHolder string            `json:"previous_holder,omitempty"`
	Reason         string            `json:"reason,omitempty"` // why the expired lease was taken over
}

// MaintenanceState is the maintenance flag a lock set.
type MaintenanceState struct {
	Table     string            `json:"table"`
	Key       map[string]string `json:"key"`
	Attribute string            `json:"attribute"`
	On        bool              `json:"on"`
	// Before is the flag's value before the first lock holding it set it:
	// what the last lock to let it go restores. nil (JSON null) when the
	// attribute was absent (NULL in SQLite), and then it is removed.
	Before any `json:"before"`
	// SharedWith are the other locks (dataset/env) that held the flag when
	// this one set it: it stays on until the last of them lets it go.
	SharedWith []string `json:"shared_with,omitempty"`
}

// AskTakeover asks why the expired lease may be taken over and journals
// the answer before acting on it.
func AskTakeover(ctx context.Context, sc *StepContext, old Lease) (string, error) {
	if sc.Ask == nil {
		return "", fmt.Errorf("lock step %q: %w", sc.Step.ID, &LeaseHeldError{Lease: old})
	}
	a, err := sc.Ask(ctx, Prompt{Kind: PromptReason, Step: sc.Step.ID,
		Title: fmt.Sprintf("Take over the expired lease of %s?", old.Holder),
		Text: fmt.Sprintf("Session %s of %s held the lease on %s/%s since %s; it expired at %s. "+
			"Give a reason to take it over.", old.Session, old.Holder, old.Dataset, old.Env,
			old.Acquired.UTC().Format(time.RFC3339), old.Expires.UTC().Format(time.RFC3339)),
		Key: sc.Step.ID + ".reason"})
	if err != nil {
		return "", err
	}
	if a.Reason == "" {
		return "", fmt.Errorf("lock step %q: taking over the expired lease of %s needs a reason", sc.Step.ID, old.Holder)
	}
	if sc.Emit != nil {
		if err := sc.Emit(NewEvent(sc.Step.ID, Decided{
			Choice: "take over expired lease", Reason: a.Reason, PreviousHolder: old.Holder,
			PreviousSession: old.Session})); err != nil {
			return "", err
		}
	}
	return a.Reason, nil
}
