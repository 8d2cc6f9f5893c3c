package pglint

import (
	"slices"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// walk calls fn on m and every message under it, depth first.
func walk(m proto.Message, fn func(proto.Message)) {
	if m == nil {
		return
	}
	var visit func(protoreflect.Message)
	visit = func(r protoreflect.Message) {
		if !r.IsValid() {
			return
		}
		fn(r.Interface())
		r.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i, l := 0, v.List(); i < l.Len(); i++ {
					visit(l.Get(i).Message())
				}
			case fd.Message() != nil && !fd.IsMap():
				visit(v.Message())
			}
			return true
		})
	}
	visit(m.ProtoReflect())
}

// names joins a list of String nodes (a qualified name) with dots,
// lowercased: pg_catalog.int4, public.users.
func names(list []*pg.Node) string {
	var parts []string
	for _, n := range list {
		if s := n.GetString_(); s != nil {
			parts = append(parts, strings.ToLower(s.GetSval()))
		}
	}
	return strings.Join(parts, ".")
}

// last returns the last part of a qualified name.
func last(name string) string { return name[strings.LastIndex(name, ".")+1:] }

// column returns the column a ColumnRef node names ("" if n is not one).
func column(n *pg.Node) string {
	if c := n.GetColumnRef(); c != nil {
		return last(names(c.GetFields()))
	}
	return ""
}

// volatileFuncs are the volatile functions commonly used as defaults: a
// default calling one is computed per row, so ADD COLUMN rewrites the table.
var volatileFuncs = []string{"clock_timestamp", "timeofday", "random", "random_normal", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "uuidv4", "uuidv7", "nextval", "txid_current"}

// serialTypes are the column types that imply a nextval() default.
var serialTypes = []string{"serial", "serial2", "serial4", "serial8", "smallserial", "bigserial"}

// volatileCall returns the first volatile function called under m, or "".
func volatileCall(m proto.Message) string {
	found := ""
	walk(m, func(x proto.Message) {
		if f, ok := x.(*pg.FuncCall); ok && found == "" {
			if name := last(names(f.GetFuncname())); slices.Contains(volatileFuncs, name) {
				found = name + "()"
			}
		}
	})
	return found
}
