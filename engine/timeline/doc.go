// Package timeline turns a session's journaled events into a history for
// review: Build folds []engine.Event into a Timeline (steps with their
// attempts, decisions, checks, output excerpt and results; phases; notes,
// pauses and resumes), which writes itself as a Markdown post-mortem or as
// the stable Timeline JSON; Compare pairs two timelines step by step
// (lockstep journal diff) and writes the result as a table or JSON.
//
// It reads events alone — no journal, no store, no clock — so a front end
// can render any session, finished or not, from whatever journal holds it.
// It may import the standard library, engine (events, payloads,
// SessionInfo) and runbook; never Bubble Tea, a store, the journal driver
// or the AWS SDK. engine never imports it.
package timeline
