package engine

import "context"

// Item is one record of a store: attribute name → value. Values are one of
//
//	string          DynamoDB S, SQLite TEXT
//	Number          DynamoDB N, SQLite INTEGER/REAL — a decimal string, never float64
//	[]byte          B, BLOB
//	bool            BOOL
//	nil             NULL
//	[]any           L
//	map[string]any  M
//	StringSet, NumberSet, BinarySet   SS, NS, BS
//
// so that every DynamoDB value round-trips without loss.
type Item map[string]any

// Number is a decimal number kept as its exact decimal string.
type Number string

// StringSet is a DynamoDB string set.
type StringSet []string

// NumberSet is a DynamoDB number set.
type NumberSet []Number

// BinarySet is a DynamoDB binary set.
type BinarySet [][]byte

// reusableItemsKey is the context key of WithReusableItems.
type reusableItemsKey struct{}

// WithReusableItems returns ctx carrying items its caller no longer
// refers to, nor anything it handed them to: a Store.Scan under it may
// clear those maps and return them, refilled, as its page's items instead
// of allocating new ones (a store that does not reuse ignores them).
// migrate hands a segment's written page back this way, so that a long
// scan fills the same few thousand maps rather than one new map per row.
// Anything that must outlive the page takes its own copy (maps.Clone) or
// the values it needs: the map itself is the next page's.
func WithReusableItems(ctx context.Context, items []Item) context.Context {
	if len(items) == 0 {
		return ctx
	}
	return context.WithValue(ctx, reusableItemsKey{}, items)
}

// ReusableItems returns the items WithReusableItems put in ctx (nil:
// none). Only the scan the context was made for may use them.
func ReusableItems(ctx context.Context) []Item {
	items, _ := ctx.Value(reusableItemsKey{}).([]Item)
	return items
}
