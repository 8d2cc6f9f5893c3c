// Package plain is lockstep's line-mode front end, used without a terminal
// (CI, pipes) or with --plain: a Prompter that answers from an answers file
// and never reads stdin, and an Observer that prints engine events as
// readable lines.
//
// It may import the standard library, the YAML parser and engine — never
// Bubble Tea, a store, the journal driver or the AWS SDK.
package plain
