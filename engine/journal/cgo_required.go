//go:build !cgo

package journal

// The journal is SQLite through mattn/go-sqlite3, a cgo package: without
// cgo the build stops here with a name that says what to do, rather than
// with go-sqlite3's missing symbols alone.
var _ = lockstep_needs_cgo__build_with_CGO_ENABLED_1_and_a_C_compiler_gcc_or_clang
