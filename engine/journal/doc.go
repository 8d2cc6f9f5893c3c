// Package journal is lockstep's SQLite journal: it implements engine.Journal
// on a single database file (WAL mode, busy_timeout, synchronous=FULL, file
// mode 0600, versioned schema) holding sessions, their hash-chained events,
// migrate checkpoints and the migrations applied per environment.
//
// It may import the standard library, engine and the mattn/go-sqlite3
// driver — nothing else. Only cmd wires it in; front ends read sessions
// through the engine.Journal interface and engine/timeline.
package journal
