package steps

import (
	"context"
	"fmt"
	"github.com/lockstep-run/lockstep/engine"
	"slices"
)

// runApproval asks a holder of the step's role to approve with a reason.
// Same in every mode.
func runApproval(ctx context.Context, sc *engine.StepContext) (any, error) {
	role := ""
	if sc.Step.Approval != nil {
		role = sc.Step.Approval.Role
	}
	holders := sc.Runbook.Roles.Holders(role)
	if len(holders) == 0 {
		return nil, fmt.Errorf("approval %s: %w: role %q has no holders in roles:", sc.Step.ID, engine.ErrConfig, role)
	}
	ans, err := askValid(ctx, sc, engine.Prompt{
		Kind: engine.PromptApproval, Title: fmt.Sprintf("%s: approval by the %s role", sc.Step.ID, role),
		Text: sc.Step.Text, Role: role, Holders: holders, Key: sc.Step.ID + ".approve",
	}, func(a engine.Answer) string {
		switch {
		case !slices.Contains(holders, a.Approver):
			return fmt.Sprintf("%q does not hold the %s role (holders: %v)", a.Approver, role, holders)
		case a.Reason == "":
			return "an approval needs a reason"
		}
		return ""
	})
	if err != nil {
		return nil, fmt.Errorf("approval %s: %w", sc.Step.ID, err)
	}
	data := engine.Approved{Approver: ans.Approver, Role: role, Reason: ans.Reason}
	if err := sc.Emit(engine.NewEvent("", data)); err != nil {
		return nil, err
	}
	return data, nil
}
