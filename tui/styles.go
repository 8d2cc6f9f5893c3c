package tui

import (
	"image/color"
	"os"

	"charm.land/lipgloss/v2"
)

// styles is the one set of styles every view of the package renders with.
type styles struct {
	isDark  bool
	noColor bool

	Title      lipgloss.Style
	Badge      lipgloss.Style
	BadgeEnv   lipgloss.Style
	BadgeProt  lipgloss.Style
	BadgeLive  lipgloss.Style
	BadgeRehe  lipgloss.Style
	BadgeDry   lipgloss.Style
	Dim        lipgloss.Style
	Phase      lipgloss.Style
	StepCur    lipgloss.Style
	Pending    lipgloss.Style
	Running    lipgloss.Style
	Done       lipgloss.Style
	Failed     lipgloss.Style
	Skipped    lipgloss.Style
	Warn       lipgloss.Style
	Section    lipgloss.Style
	Selected   lipgloss.Style
	Error      lipgloss.Style
	Stderr     lipgloss.Style
	Border     lipgloss.Style
	PromptBox  lipgloss.Style
	BarFull    color.Color
	BarEmpty   color.Color
	HelpKey    lipgloss.Style
	HelpDesc   lipgloss.Style
	HelpSep    lipgloss.Style
	TableHead  lipgloss.Style
	TableSel   lipgloss.Style
	SparkStyle lipgloss.Style
}

// noColorEnv reports whether NO_COLOR asks for no colour: set and not
// empty, as https://no-color.org defines it ("NO_COLOR=" keeps colour).
func noColorEnv() bool { return os.Getenv("NO_COLOR") != "" }

// newStyles builds the styles for a dark or light background. With noColor
// every style keeps only attributes (bold, reverse, faint): glyphs carry the
// meaning.
func newStyles(isDark, noColor bool) styles {
	ld := lipgloss.LightDark(isDark)
	c := func(light, dark string) color.Color {
		if noColor {
			return lipgloss.NoColor{}
		}
		return ld(lipgloss.Color(light), lipgloss.Color(dark))
	}
	fg := func(light, dark string) lipgloss.Style { return lipgloss.NewStyle().Foreground(c(light, dark)) }
	badge := func(bgLight, bgDark string) lipgloss.Style {
		s := lipgloss.NewStyle().Padding(0, 1).Bold(true)
		if noColor {
			return s.Reverse(true)
		}
		return s.Foreground(lipgloss.Color("#FFFFFF")).Background(c(bgLight, bgDark))
	}
	s := styles{isDark: isDark, noColor: noColor}
	s.Title = lipgloss.NewStyle().Bold(true).Foreground(c("#1F1F8F", "#C8C8FF"))
	s.Badge = badge("#5A5A5A", "#4A4A4A")
	s.BadgeEnv = badge("#2E7D32", "#2E7D32")
	s.BadgeProt = badge("#C62828", "#D32F2F")
	s.BadgeLive = badge("#C62828", "#B71C1C")
	s.BadgeRehe = badge("#1565C0", "#1565C0")
	s.BadgeDry = badge("#6A1B9A", "#7B1FA2")
	s.Dim = fg("#8A8A8A", "#7A7A7A").Faint(noColor)
	s.Phase = lipgloss.NewStyle().Bold(true).Foreground(c("#5A3E9B", "#B39DDB"))
	s.StepCur = lipgloss.NewStyle().Bold(true)
	if noColor {
		s.StepCur = s.StepCur.Reverse(true)
	} else {
		s.StepCur = s.StepCur.Background(c("#E0E0F0", "#303050"))
	}
	s.Pending = fg("#8A8A8A", "#8A8A8A")
	s.Running = fg("#B26A00", "#FFB74D").Bold(true)
	s.Done = fg("#2E7D32", "#81C784")
	s.Failed = fg("#C62828", "#EF5350").Bold(true)
	s.Skipped = fg("#6D6D6D", "#9E9E9E")
	s.Warn = fg("#B26A00", "#FFB74D")
	s.Section = lipgloss.NewStyle().Bold(true).Foreground(c("#1F1F8F", "#9FA8DA"))
	s.Selected = lipgloss.NewStyle().Bold(true).Foreground(c("#5A3E9B", "#CE93D8"))
	s.Error = fg("#C62828", "#EF5350").Bold(true)
	s.Stderr = fg("#C62828", "#E57373")
	s.Border = fg("#BDBDBD", "#444444")
	s.PromptBox = lipgloss.NewStyle().Bold(true).Foreground(c("#B26A00", "#FFD54F"))
	s.BarFull = c("#5A3E9B", "#7E57C2")
	s.BarEmpty = c("#D0D0D0", "#3A3A3A")
	s.HelpKey = fg("#5A5A5A", "#9E9E9E").Bold(true)
	s.HelpDesc = fg("#8A8A8A", "#6E6E6E")
	s.HelpSep = fg("#BDBDBD", "#444444")
	s.TableHead = lipgloss.NewStyle().Bold(true).Foreground(c("#1F1F8F", "#9FA8DA"))
	s.TableSel = lipgloss.NewStyle().Bold(true)
	if noColor {
		s.TableSel = s.TableSel.Reverse(true)
	} else {
		s.TableSel = s.TableSel.Background(c("#E0E0F0", "#303050"))
	}
	s.SparkStyle = fg("#5A3E9B", "#B39DDB")
	return s
}
