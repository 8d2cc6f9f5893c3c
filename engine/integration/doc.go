// Package integration holds the engine's tests that need a real server
// (dynalite, shared by the package's tests) or long real-time runs: two
// sessions racing over 20,000 items, lease expiry and throttling on
// DynamoDB. They drive the engine through its exported API only, so the
// engine core's own tests (`go test ./engine`) stay fast.
//
// It has no code outside its tests; the tests may import engine, its
// stores and journal, runbook, internal/dynalite and the rig they share
// with engine's and engine/migrate's tests (engine/enginetest/rig), but
// no UI.
package integration
