package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// cliReferencePath is the generated command-line reference.
var cliReferencePath = filepath.Join("..", "..", "docs", "cli.md")

// The -update flag rewrites docs/cli.md; another test of the package may
// have defined it already.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func cliDocUpdating() bool { return flag.Lookup("update").Value.String() == "true" }

// TestCLIReferenceIsCurrent renders every command's usage and flags and
// compares the result with docs/cli.md; -update rewrites the file.
func TestCLIReferenceIsCurrent(t *testing.T) {
	f, _, _ := testFactory(nil, "tester")
	got := renderCLIReference(newRootCmd(f))
	if cliDocUpdating() {
		if err := os.WriteFile(cliReferencePath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(cliReferencePath)
	if err != nil {
		t.Fatalf("read CLI reference: %v (create it with -update)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		i := 0
		for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
			i++
		}
		t.Errorf("docs/cli.md is out of date (first difference at line %d: commands say %q, file says %q); "+
			"run go test ./cmd/lockstep -run TestCLIReferenceIsCurrent -update", i+1, lineAt(gl, i), lineAt(wl, i))
	}
}

func lineAt(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end of file)"
}

// renderCLIReference renders the command tree under root as Markdown:
// per command its usage line, summary, description and flags.
func renderCLIReference(root *cobra.Command) string {
	var b strings.Builder
	b.WriteString("# Command line reference\n\n")
	b.WriteString("Generated from the commands' own definitions by `go test ./cmd/lockstep -run TestCLIReferenceIsCurrent -update`:\n")
	b.WriteString("do not edit by hand. `lockstep help COMMAND` and `lockstep COMMAND --help` print the same;\n")
	b.WriteString("`lockstep completion SHELL` prints a shell completion script.\n")
	root.InitDefaultVersionFlag()
	walk(root, func(cmd *cobra.Command) {
		if cmd.Hidden || cmd.Deprecated != "" {
			return
		}
		fmt.Fprintf(&b, "\n## %s\n\n", cmd.CommandPath())
		fmt.Fprintf(&b, "    %s\n\n%s.\n", cmd.UseLine(), strings.TrimSuffix(cmd.Short, "."))
		if long := strings.TrimSpace(cmd.Long); long != "" {
			fmt.Fprintf(&b, "\n```text\n%s\n```\n", long)
		}
		if subs := visibleCommands(cmd); len(subs) > 0 {
			fmt.Fprintf(&b, "\nCommands: %s.\n", strings.Join(subs, ", "))
		}
		rows := flagRows(cmd.LocalFlags())
		rows = append(rows, flagRows(cmd.InheritedFlags())...)
		if len(rows) > 0 {
			b.WriteString("\n| flag | default | meaning |\n|---|---|---|\n")
			b.WriteString(strings.Join(rows, ""))
		}
	})
	return b.String()
}

// visibleCommands names the subcommands of cmd that are listed.
func visibleCommands(cmd *cobra.Command) []string {
	var out []string
	for _, c := range cmd.Commands() {
		if !c.Hidden && c.Deprecated == "" {
			out = append(out, "`"+c.Name()+"`")
		}
	}
	return out
}

// flagRows renders one table row per visible flag of fs.
func flagRows(fs *pflag.FlagSet) []string {
	var rows []string
	fs.VisitAll(func(fl *pflag.Flag) {
		if fl.Hidden || fl.Name == "help" {
			return
		}
		name := "`--" + fl.Name
		if fl.Shorthand != "" {
			name = "`-" + fl.Shorthand + "`, " + name
		}
		varname, usage := pflag.UnquoteUsage(fl)
		if varname != "" {
			name += " " + varname
		}
		def := fl.DefValue
		if slices.Contains([]string{"", "false", "[]", "0"}, def) {
			def = ""
		} else {
			def = "`" + def + "`"
		}
		rows = append(rows, fmt.Sprintf("| %s` | %s | %s |\n", name, def, strings.ReplaceAll(usage, "|", `\|`)))
	})
	return rows
}
