package svgterm

import "fmt"

// palette16 is xterm's default 16-colour palette.
var palette16 = [16]string{
	"#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd", "#e5e5e5",
	"#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff", "#00ffff", "#ffffff",
}

// color256 is xterm's colour n of 256: the 16 colours, a 6×6×6 cube, then
// 24 greys.
func color256(n int) string {
	switch {
	case n < 16:
		return palette16[n]
	case n < 232:
		n -= 16
		level := func(v int) int {
			if v == 0 {
				return 0
			}
			return 55 + 40*v
		}
		return hex(level(n/36), level(n/6%6), level(n%6))
	default:
		v := 8 + 10*(n-232)
		return hex(v, v, v)
	}
}

func hex(r, g, b int) string {
	clamp := func(v int) int { return min(max(v, 0), 255) }
	return fmt.Sprintf("#%02x%02x%02x", clamp(r), clamp(g), clamp(b))
}
