package main

import (
	"github.com/spf13/cobra"
)

// newRootCmd builds the lockstep command tree.
func newRootCmd(f *factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "lockstep",
		Short: "A terminal runbook assistant for data migrations",
		Long: `lockstep walks an operator through a migration runbook step by step —
estimate, backup, communicate, run, verify, clean up, roll back if needed —
executing what can be executed, asking for what only a human can decide, and
journaling every step, output and decision so a session can be resumed after a
crash and reviewed later.

Exit codes: 0 completed; 1 a step failed or the session was aborted;
2 bad input (usage, invalid runbook, bad answers file, missing answer);
3 stopped resumably (paused, quit, interrupted).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          usageArgs(cobra.NoArgs),
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetIn(f.In)
	root.SetOut(f.Out)
	root.SetErr(f.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(
		newCmdRun(f, nil),
		newCmdResume(f, nil),
		newCmdLint(f, nil),
		newCmdPlan(f, nil),
		newCmdProtocols(f),
		newCmdJournal(f),
		newCmdDemo(f, nil),
		newCmdVersion(f),
	)
	return root
}

// usageArgs wraps a cobra argument validator so its errors exit 2.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return usageError(err)
		}
		return nil
	}
}
