// Package bench holds lockstep's end-to-end benchmarks (`make bench`):
// the migrate step against dynalite and SQLite measured side by side with
// hand-written baselines in one process, the peak RSS of the built binary,
// the achieved write rate under max_write_rate, and the TUI's render
// times. Each benchmark records its figures; TestMain prints one summary
// table with targets and PASS/MISS at the end. Figures are ratios measured
// in the same run, so machine noise hits both sides alike.
//
// The package has no non-test code beyond this comment; its tests may
// import anything in the module.
package bench
