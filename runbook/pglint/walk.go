package pglint

import (
	"slices"
	"strings"
)

// last returns the last part of a qualified name.
func last(name string) string { return name[strings.LastIndex(name, ".")+1:] }

// column returns the column a ColumnRef node names ("" if n is not one).
func column(n node) string {
	if c := n.as("ColumnRef"); c != nil {
		return last(names(c.list("fields")))
	}
	return ""
}

// volatileFuncs are the volatile functions commonly used as defaults: a
// default calling one is computed per row, so ADD COLUMN rewrites the table.
var volatileFuncs = []string{"clock_timestamp", "timeofday", "random", "random_normal", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "uuidv4", "uuidv7", "nextval", "txid_current"}

// serialTypes are the column types that imply a nextval() default.
var serialTypes = []string{"serial", "serial2", "serial4", "serial8", "smallserial", "bigserial"}

// volatileCall returns the first volatile function called under n, or "".
func volatileCall(n node) string {
	found := ""
	walk(n, func(typ string, x node) {
		if typ == "FuncCall" && found == "" {
			if name := last(names(x.list("funcname"))); slices.Contains(volatileFuncs, name) {
				found = name + "()"
			}
		}
	})
	return found
}
