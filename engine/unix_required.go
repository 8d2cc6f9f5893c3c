//go:build !unix

package engine

// Shell steps and external transforms run in process groups of their own
// (Setpgid, kill of the group) and sessions are claimed with flock: all
// Unix-only. Elsewhere the build stops here with a name that says so.
var _ = lockstep_runs_on_unix_like_systems_only__linux_macos_bsd__use_WSL_on_windows
