package htmlreport

import (
	_ "embed"
	"html/template"
	"sync"
)

//go:embed page.html
var pageHTML string

// pageTemplate returns the report ("report") and the diff ("diff") pages
// and the parts they share; html/template escapes every value. It is
// parsed on first use, not at start-up: every lockstep command links this
// package, few render HTML, and parsing it took 1.8k allocations.
var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(pageHTML))
})
