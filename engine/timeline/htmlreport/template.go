package htmlreport

import (
	_ "embed"
	"html/template"
)

//go:embed page.html
var pageHTML string

// pageTemplate holds the report ("report") and the diff ("diff") pages
// and the parts they share; html/template escapes every value.
var pageTemplate = template.Must(template.New("page").Parse(pageHTML))
