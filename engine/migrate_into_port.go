package engine

import (
	"context"
	"errors"
)

// TableOpener is implemented by stores that reach the other tables of
// their database (DynamoDB): a migrate step with `into:` copies the
// store's items into one of them under a new key.
type TableOpener interface {
	// OpenTable opens the existing table name; an error wrapping
	// ErrNoTable when there is none.
	OpenTable(ctx context.Context, name string) (CopyTarget, error)
}

// CopyTarget is a table a copy writes whole items into.
type CopyTarget interface {
	Store
	// PutGuarded writes item whole (its key included) only when the
	// table holds no item under its key, or one whose version attribute
	// g.VersionAttr is absent or below g.Below. It returns an error
	// wrapping ErrConditionFailed otherwise, ErrThrottled when throttled,
	// and ErrAmbiguous besides when an earlier attempt of the same
	// request may have applied.
	PutGuarded(ctx context.Context, item Item, g Guard) error
	// DeleteGuarded deletes the item under key only when its version
	// attribute equals g.Equals and each attribute of g.Unchanged holds
	// the value given (an Absent one is absent); ErrConditionFailed
	// otherwise, also when there is no such item.
	DeleteGuarded(ctx context.Context, key Item, g Guard) error
}

// ErrNoTable: the table a step names does not exist.
var ErrNoTable = errors.New("no such table")
