package main

import (
	"fmt"
	"strings"

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
		Version:       versionLine(),
		// did-you-mean for a mistyped command (cobra's default is off
		// when the root checks its own arguments).
		SuggestionsMinimumDistance: 2,
		Args:                       unknownCommand,
		RunE:                       func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetVersionTemplate("lockstep {{.Version}}\n")
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
		newCmdRegistry(f, nil),
		newCmdLearnings(f, nil),
		newCmdDemo(f, nil),
		newCmdVersion(f),
		newCmdWorker(f, nil),
	)
	addCompletions(root, f)
	return root
}

// usageArgs wraps a cobra argument validator so its errors exit 2 and
// say, in lockstep's words, what the command expects.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return usageError(argsError(cmd, args))
		}
		return nil
	}
}

// argsError names what cmd expects, what it got, and its usage line.
func argsError(cmd *cobra.Command, args []string) error {
	var want []string
	skip := false // the value of a flag in the usage ("--env ENV")
	for _, w := range strings.Fields(cmd.Use)[1:] {
		switch {
		case skip:
			skip = false
		case strings.HasPrefix(w, "-") || strings.HasPrefix(w, "[-"):
			skip = !strings.Contains(w, "=") && !strings.HasSuffix(w, "]")
		default:
			want = append(want, w)
		}
	}
	expected := "no argument"
	if len(want) > 0 {
		expected = strings.Join(want, " ")
	}
	got := "no argument"
	switch len(args) {
	case 0:
	case 1:
		got = fmt.Sprintf("1 argument (%s)", args[0])
	default:
		got = fmt.Sprintf("%d arguments (%s)", len(args), strings.Join(args, " "))
	}
	return fmt.Errorf("%s expects %s, got %s\nusage: %s (see %s --help)", cmd.CommandPath(), expected, got, cmd.UseLine(), cmd.CommandPath())
}

// unknownCommand is the root's argument check: lockstep takes a command,
// and a mistyped one gets the commands it is closest to.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" — did you mean %s?", strings.Join(s, " or "))
	}
	return usageError(fmt.Errorf("%s (see lockstep --help for the commands)", msg))
}
