package util

import (
	"regexp"
	"sync"
)

// lazyRegexp returns a function compiling expr on its first call and
// returning the same *regexp.Regexp ever after.
//
// lockstep fork: goldmark compiled its patterns in package initialisation,
// which every lockstep command paid whether it rendered Markdown or not.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
