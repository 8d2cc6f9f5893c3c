package steps

import (
	"strings"
	"testing"
)

// TestReadLines: a line longer than the limit is cut, saying how much,
// and the lines after it are kept (a longer line used to drop the rest of
// the stream).
func TestReadLines(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 200*1024)
	tests := []struct {
		name, in string
		want     []string
	}{
		{"plain", "a\nb\n", []string{"a", "b"}},
		{"no final newline", "a\nb", []string{"a", "b"}},
		{"empty lines", "a\n\nb\n", []string{"a", "", "b"}},
		{"crlf", "a\r\nb\r\n", []string{"a", "b"}},
		{"long line then more", "start\n" + long + "\nafter\n", []string{"start", strings.Repeat("x", 100) + " … [204700 bytes of this line cut]", "after"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			readLines(strings.NewReader(tt.in), 100, func(s string) { got = append(got, s) })
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("lines = %q, want %q", got, tt.want)
			}
		})
	}
}
