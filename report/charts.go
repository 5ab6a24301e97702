package report

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Charts are drawn by gonum/plot onto its SVG canvas and inlined into the
// page. Their text (titles, axes, legends) is ASCII: plot measures text with
// its own Latin fonts, so Chinese labels go into the HTML around a chart.

// palette is a colour-blind-safe qualitative palette (Okabe-Ito).
var palette = [...]color.RGBA{
	{0, 114, 178, 255}, {213, 94, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
	{230, 159, 0, 255}, {86, 180, 233, 255}, {0, 0, 0, 255}, {240, 228, 66, 255},
}

func colorAt(i int) color.Color { return palette[i%len(palette)] }

// Series is one named line of a chart.
type Series struct {
	Name string
	X, Y []float64
}

const (
	chartW = 15 * vg.Centimeter
	chartH = 9 * vg.Centimeter
)

func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	p.Legend.Left = false
	p.Add(plotter.NewGrid())
	return p
}

// svg renders p as an inline <svg> element.
func svg(p *plot.Plot, w, h vg.Length) (template.HTML, error) {
	wt, err := p.WriterTo(w, h, "svg")
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return "", err
	}
	s := b.String()
	// Drop the XML declaration and generator comment: the element is inlined.
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	return template.HTML(s), nil //nolint:gosec // produced by plot from our own data
}

// Legend is where a chart's legend goes: the corner its lines leave empty.
type Legend int

// Legend corners.
const (
	TopRight Legend = iota
	TopLeft
	BottomRight
)

// LineChart draws series as lines (with points when a series is short).
// diagonal adds the y = x reference line (ROC, calibration).
func LineChart(title, xlabel, ylabel string, series []Series, diagonal bool) (template.HTML, error) {
	return LineChartAt(title, xlabel, ylabel, series, diagonal, TopRight)
}

// LineChartAt is LineChart with the legend in the given corner.
func LineChartAt(title, xlabel, ylabel string, series []Series, diagonal bool, at Legend) (template.HTML, error) {
	p := newPlot(title, xlabel, ylabel)
	p.Legend.Top = at != BottomRight
	p.Legend.Left = at == TopLeft
	p.Legend.XOffs = vg.Points(-6)
	if at == TopLeft {
		p.Legend.XOffs = vg.Points(6)
	}
	for i, s := range series {
		if len(s.X) == 0 {
			continue
		}
		xy := make(plotter.XYs, len(s.X))
		for j := range s.X {
			xy[j].X, xy[j].Y = finite(s.X[j]), finite(s.Y[j])
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return "", fmt.Errorf("chart %q series %q: %w", title, s.Name, err)
		}
		l.Color = colorAt(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		if len(xy) <= 40 {
			sc, err := plotter.NewScatter(xy)
			if err != nil {
				return "", err
			}
			sc.GlyphStyle.Color = colorAt(i)
			sc.GlyphStyle.Radius = vg.Points(2)
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			p.Add(sc)
		}
		if s.Name != "" && len(series) > 1 {
			p.Legend.Add(s.Name, l)
		}
	}
	if diagonal {
		d, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
		if err != nil {
			return "", err
		}
		d.Color = color.Gray{Y: 150}
		d.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(d)
	}
	return svg(p, chartW, chartH)
}

// BarChart draws one or more groups of bars over nominal categories.
func BarChart(title, ylabel string, categories []string, series []Series) (template.HTML, error) {
	return barChart(title, ylabel, categories, series, chartW, chartH)
}

// SmallBarChart is BarChart at a size that fits two or three to a row.
func SmallBarChart(title, ylabel string, categories []string, series []Series) (template.HTML, error) {
	return barChart(title, ylabel, categories, series, 10*vg.Centimeter, 6.5*vg.Centimeter)
}

func barChart(title, ylabel string, categories []string, series []Series, cw, ch vg.Length) (template.HTML, error) {
	p := newPlot(title, "", ylabel)
	n := len(series)
	if n == 0 || len(categories) == 0 {
		return "", fmt.Errorf("chart %q: no data", title)
	}
	w := vg.Points(math.Max(4, math.Min(28, 360/float64(len(categories)*n))))
	for i, s := range series {
		vals := make(plotter.Values, len(s.Y))
		for j, v := range s.Y {
			vals[j] = finite(v)
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return "", fmt.Errorf("chart %q: %w", title, err)
		}
		b.Color = colorAt(i)
		b.LineStyle.Width = 0
		b.Offset = vg.Length(float64(i)-float64(n-1)/2) * w
		p.Add(b)
		if s.Name != "" && n > 1 {
			p.Legend.Add(s.Name, b)
		}
	}
	labels := categories
	if len(categories) > 12 || longest(categories) > 10 {
		// Long or many labels are numbered; the table beside the chart
		// names them.
		labels = make([]string, len(categories))
		for i := range categories {
			labels[i] = fmt.Sprint(i + 1)
		}
		if len(categories) > 24 {
			for i := range labels {
				if i%((len(categories)+23)/24) != 0 {
					labels[i] = ""
				}
			}
		}
	}
	p.NominalX(labels...)
	return svg(p, cw, ch)
}

func longest(ss []string) int {
	m := 0
	for _, s := range ss {
		if len(s) > m {
			m = len(s)
		}
	}
	return m
}

// finite maps NaN and infinities to 0 so that one bad value does not
// abort a chart; tables show the true value.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}
