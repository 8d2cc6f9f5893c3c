//go:build !cgo

package sqlite

// See engine/journal/cgo_required.go: the SQLite store needs cgo too.
var _ = lockstep_needs_cgo__build_with_CGO_ENABLED_1_and_a_C_compiler_gcc_or_clang
