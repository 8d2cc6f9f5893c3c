package engine

import "context"

// Store is the port to the data a migration changes. engine/store/dynamo and
// engine/store/sqlite implement it; engine/store/storetest is the
// conformance suite both pass. (Placeholder: the data-steps work fills it in.)
type Store interface {
	Close() error
}

var _ = context.Background
