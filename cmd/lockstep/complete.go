package main

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/protocols"
	"github.com/lockstep-run/lockstep/runbook"
)

// Shell completion beyond command and flag names: the values of --mode,
// --format and --env (read from the runbook argument), protocol names
// and runbook files where a command takes a runbook, and session ids
// from the journal where it takes a session.

// completeNoFile completes nothing and suggests no file.
const completeNoFile = cobra.ShellCompDirectiveNoFileComp

// sessionCommands take session ids as arguments, by command path.
var sessionCommands = []string{
	"lockstep resume", "lockstep journal show", "lockstep journal export",
	"lockstep journal verify", "lockstep journal diff",
}

// runbookCommands take a runbook file or a protocol name.
var runbookCommands = []string{"lockstep run", "lockstep plan", "lockstep lint"}

// formatWords reads the formats a --format flag lists in its usage
// ("output format: text or json"). It is compiled, and the usage read,
// only when a shell asks for completions: every command builds the
// tree, and this cost 0.1 ms of each start (issue 17).
var formatWords = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\b(text|json|md|markdown|html)\b`) })

// addCompletions registers the dynamic completions on every command of
// the tree under root.
func addCompletions(root *cobra.Command, f *factory) {
	walk(root, func(cmd *cobra.Command) {
		path := cmd.CommandPath()
		switch {
		case slices.Contains(sessionCommands, path):
			cmd.ValidArgsFunction = func(c *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return sessionIDs(c, f, args), completeNoFile
			}
		case slices.Contains(runbookCommands, path):
			cmd.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 && path != "lockstep lint" {
					return nil, completeNoFile
				}
				return protocols.Names(), cobra.ShellCompDirectiveDefault // and files
			}
		case path == "lockstep protocols show" || path == "lockstep protocols new":
			cmd.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 || path == "lockstep protocols new" {
					return nil, completeNoFile
				}
				return protocols.Names(), completeNoFile
			}
		}
		if fl := cmd.Flags().Lookup("mode"); fl != nil {
			_ = cmd.RegisterFlagCompletionFunc("mode", fixed(string(engine.ModeLive), string(engine.ModeRehearsal), string(engine.ModeDryRun)))
		}
		if fl := cmd.Flags().Lookup("format"); fl != nil {
			_ = cmd.RegisterFlagCompletionFunc("format", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return formatWords().FindAllString(fl.Usage, -1), completeNoFile
			})
		}
		if fl := cmd.Flags().Lookup("env"); fl != nil {
			_ = cmd.RegisterFlagCompletionFunc("env", func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return envsOf(args), completeNoFile
			})
		}
	})
}

func walk(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, c := range cmd.Commands() {
		walk(c, fn)
	}
}

func fixed(values ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return values, completeNoFile
	}
}

// envsOf lists the environments of the runbook (file or protocol) named
// by the first argument; nothing when there is none or it does not parse.
func envsOf(args []string) []string {
	if len(args) == 0 {
		return nil
	}
	var rb *runbook.Runbook
	var err error
	if fi, serr := os.Stat(args[0]); serr == nil && !fi.IsDir() {
		rb, err = runbook.ParseFile(args[0])
	} else {
		rb, err = protocols.Get(args[0])
	}
	if err != nil || rb == nil {
		return nil
	}
	out := make([]string, 0, len(rb.Environments))
	for _, e := range rb.Environments {
		out = append(out, e.Name)
	}
	return out
}

// sessionIDs lists the journal's sessions as "id\trunbook env outcome",
// newest first, without creating a journal where there is none.
func sessionIDs(cmd *cobra.Command, f *factory, args []string) []string {
	flag := ""
	if fl := cmd.Flags().Lookup("journal"); fl != nil {
		flag = fl.Value.String()
	}
	path := f.journalPath(flag)
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	j, err := journal.OpenReadOnly(path)
	if err != nil {
		return nil
	}
	defer j.Close()
	list, err := j.ListSessions(context.Background(), engine.SessionFilter{Limit: 50})
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range list {
		if slices.Contains(args, s.ID) {
			continue
		}
		out = append(out, s.ID+"\t"+strings.TrimSpace(strings.Join([]string{s.Runbook, s.Env, string(s.Mode), orRunning(s.Outcome)}, " ")))
	}
	return out
}

func orRunning(o engine.Outcome) string {
	if o == engine.OutcomeRunning {
		return "running"
	}
	return string(o)
}
