// Command hello is the hello-world cobra binary BenchmarkStartup measures
// lockstep's start-up against: a root command and a version subcommand,
// nothing else.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{Use: "hello", SilenceUsage: true}
	root.AddCommand(&cobra.Command{Use: "version", Short: "Print the version", Run: func(*cobra.Command, []string) {
		fmt.Println("hello dev")
	}})
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}
