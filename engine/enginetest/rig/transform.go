package rig

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TransformHelper is the body of a test binary's external-transform
// helper process: each package that runs migrate's external transform
// has a TestMigrateHelperTransform calling it, and names its own binary
// in the step's transform command. Without LOCKSTEP_TEST_TRANSFORM it
// skips; with it, it reads typed JSON lines and writes one transformed
// line per line in, as the mode says (crash, skip5, exit9, upper, or
// anything else: unchanged), then exits.
func TransformHelper(t *testing.T) {
	mode := os.Getenv("LOCKSTEP_TEST_TRANSFORM")
	if mode == "" {
		t.Skip("helper process for external transform tests")
	}
	if f := os.Getenv("LOCKSTEP_TEST_PIDFILE"); f != "" {
		_ = os.WriteFile(f, []byte(strconv.Itoa(os.Getpid())), 0o600)
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	for n := 1; in.Scan(); n++ {
		it, err := engine.UnmarshalItem(in.Bytes())
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad input:", err)
			os.Exit(2)
		}
		switch mode {
		case "crash":
			if n == 3 {
				fmt.Fprintln(os.Stderr, "boom: cannot parse address of", it["id"])
				os.Exit(3)
			}
		case "skip5": // forgets one line and waits for more input
			if n == 5 {
				continue
			}
		case "exit9": // prints 9 lines, then exits
			if n == 10 {
				fmt.Fprintln(os.Stderr, "stopping early")
				os.Exit(0)
			}
		case "upper":
			if s, ok := it["name"].(string); ok && strings.HasSuffix(s, "0") {
				it["name"] = strings.ToUpper(s)
				delete(it, "address")
			}
		}
		b, _ := engine.MarshalItem(it)
		out.Write(append(b, '\n'))
		out.Flush()
	}
	os.Exit(0)
}
