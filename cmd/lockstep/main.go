// Command lockstep is a terminal runbook assistant for data migrations.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "lockstep: under construction")
	os.Exit(2)
}
