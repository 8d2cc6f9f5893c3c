package htmlreport

import (
	"bytes"
	"fmt"
	"html/template"
	"regexp"
	"sync"
	"time"

	"github.com/go-analyze/charts"

	"github.com/lockstep-run/lockstep/engine"
)

// Chart sizes: the SVG scales to its box (viewBox), so these set the
// aspect ratio and the text size relative to the plot.
const (
	chartWidth  = 720
	chartHeight = 300
)

// svgHead matches the opening tag of a rendered chart, to which role and
// an accessible label are added. It is compiled on first use: Go
// initialises every linked package on every command (issue 17).
var svgHead = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^<svg `) })

// throughputChart draws a migrate step's buckets: items written per
// second and the write limit on the left axis, throttles and conflicts
// per interval on the right one (marks where the store pushed back).
func throughputChart(title string, bs []bucket) (template.HTML, error) {
	if len(bs) == 0 {
		return "", nil
	}
	perSec := make([]float64, len(bs))
	limit := make([]float64, len(bs))
	pushback := make([]float64, len(bs))
	labels := make([]string, len(bs))
	hasLimit := false
	for i, b := range bs {
		perSec[i], limit[i], pushback[i] = b.PerSec, b.Limit, float64(b.Throttles+b.Conflicts)
		if b.Limit <= 0 { // unlimited: no point, not a limit of 0
			limit[i] = charts.GetNullValue()
		}
		hasLimit = hasLimit || b.Limit > 0
		labels[i] = engine.FormatDuration(b.Offset.Round(100 * time.Millisecond))
	}
	values := [][]float64{perSec, pushback}
	names := []string{"items written/s", "throttles + conflicts"}
	if hasLimit {
		values = append(values, limit)
		names = append(names, "write limit (items/s)")
	}
	opt := charts.NewLineChartOptionWithData(values)
	opt.Title.Text = title
	opt.XAxis.Labels = labels
	opt.Legend.SeriesNames = names
	opt.Legend.Offset = charts.OffsetStr{Top: "24"}
	opt.Padding = charts.NewBox(10, 20, 20, 10)
	opt.SeriesList[1].YAxisIndex = 1
	opt.YAxis = append(opt.YAxis, opt.YAxis[0])
	opt.YAxis[0].Theme = opt.Theme.WithYAxisSeriesColor(0)
	opt.YAxis[1].Theme = opt.Theme.WithYAxisSeriesColor(1)
	opt.YAxis[0].Min, opt.YAxis[1].Min = new(0.0), new(0.0)
	opt.Symbol = charts.Symbol{Shape: charts.SymbolNone}
	return render(title, func(p *charts.Painter) error { return p.LineChart(opt) })
}

// durationChart compares each step's duration in two sessions, in
// seconds (journal diff --format html).
func durationChart(title string, ids []string, a, b []float64, nameA, nameB string) (template.HTML, error) {
	if len(ids) == 0 {
		return "", nil
	}
	opt := charts.NewBarChartOptionWithData([][]float64{a, b})
	opt.Title.Text = title
	opt.CategoryAxis.Labels = ids
	opt.CategoryAxis.LabelRotation = -0.6
	opt.Legend.SeriesNames = []string{nameA, nameB}
	opt.Legend.Offset = charts.OffsetStr{Top: "24"}
	opt.Padding = charts.NewBox(10, 20, 20, 10)
	opt.ValueAxis[0].Title = "seconds"
	return render(title, func(p *charts.Painter) error { return p.BarChart(opt) })
}

// render draws a chart into an SVG painter and returns the SVG, with an
// img role and its title as label, as trusted HTML: the library escapes
// the text it writes into the SVG.
func render(label string, draw func(*charts.Painter) error) (template.HTML, error) {
	p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputSVG, Width: chartWidth, Height: chartHeight})
	if err := draw(p); err != nil {
		return "", fmt.Errorf("draw chart %q: %w", label, err)
	}
	svg, err := p.Bytes()
	if err != nil {
		return "", fmt.Errorf("draw chart %q: %w", label, err)
	}
	svg = svgHead().ReplaceAll(bytes.TrimSpace(svg), []byte(`<svg role="img" aria-label="`+template.HTMLEscapeString(label)+`" class="chart" `))
	return template.HTML(svg), nil
}
