// Package eventtest builds journal events for tests. Tests only.
package eventtest

import (
	"encoding/json"

	"github.com/lockstep-run/lockstep/engine"
)

// Raw builds an event of kind whose data is data's JSON encoding as it
// stands (nil: no data), bypassing the payload types: the shapes a
// journal may hold, older or malformed ones included.
func Raw(kind engine.EventKind, step string, data any) engine.Event {
	ev := engine.Event{Kind: kind, Step: step}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			panic(err)
		}
		ev.Data = b
	}
	return ev
}
