package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// BenchmarkRunnerView100k renders the running-shell screen after 100,000
// output lines were pushed (the ring keeps the last 10,000).
func BenchmarkRunnerView100k(b *testing.B) {
	m, _ := newTestModel(b, "staging", 120, 40)
	send(m, engine.EvStepStart, "dump", map[string]any{"attempt": 1}, at(1))
	var chunk strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&chunk, "row %06d copied to the audit bucket, checksum 9f86d081884c7d65\n", i)
		if i%1000 == 999 {
			send(m, engine.EvOutput, "dump", map[string]any{"stream": "stdout", "text": chunk.String()}, at(2))
			chunk.Reset()
		}
	}
	if got := m.out.Len(); got != defaultOutputLines {
		b.Fatalf("ring holds %d lines, want %d", got, defaultOutputLines)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkFirstFrame builds a model and renders its first screen, Markdown
// included.
func BenchmarkFirstFrame(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		m, _ := newTestModel(b, "staging", 120, 40)
		m.current = "deploy-reader"
		_ = m.View()
	}
}
