package extension

import (
	"regexp"
	"sync"
)

// lazyRegexp returns a function compiling expr on its first call and
// returning the same *regexp.Regexp ever after.
//
// lockstep fork: the extensions' patterns were compiled in package
// initialisation, about 3 ms that every lockstep command paid whether it
// rendered Markdown or not.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
