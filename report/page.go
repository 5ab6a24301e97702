// Package report writes qiandun's HTML reports: one per model version
// (bins, WoE/IV, coefficients, a boosted card's interaction pairs, ROC/KS,
// score distributions, gains, calibration, PSI/CSI) and one for the
// portfolio (vintages, roll rates, delinquency, expected loss,
// concentration, disclosure metrics, the early-warning list).
//
// Every report is one self-contained file: styles inline, charts inline
// SVG drawn with gonum/plot, no scripts, fonts or images fetched from
// anywhere, so it opens offline from disk. Chinese text lives in the HTML,
// which declares a CJK-capable font stack; chart text is ASCII.
package report

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// Page is one report being assembled: a title and a list of sections.
type Page struct {
	Title    string
	Subtitle string
	Meta     [][2]string // key facts shown under the title
	Sections []*Section
	Notes    []string // warnings shown at the top (missing inputs etc.)
}

// Section is a titled block of content items.
type Section struct {
	ID    string
	Title string
	Items []template.HTML
}

// Add appends a section and returns it.
func (p *Page) Add(id, title string) *Section {
	s := &Section{ID: id, Title: title}
	p.Sections = append(p.Sections, s)
	return s
}

// Note records a warning shown at the top of the page.
func (p *Page) Note(format string, args ...any) {
	p.Notes = append(p.Notes, fmt.Sprintf(format, args...))
}

// P adds a paragraph of text.
func (s *Section) P(text string) {
	s.Items = append(s.Items, template.HTML("<p>"+template.HTMLEscapeString(text)+"</p>"))
}

// Chart adds an SVG chart with a caption (the caption may be Chinese).
func (s *Section) Chart(caption string, svg template.HTML) {
	var b strings.Builder
	b.WriteString(`<figure class="chart">`)
	b.WriteString(string(svg))
	if caption != "" {
		b.WriteString("<figcaption>" + template.HTMLEscapeString(caption) + "</figcaption>")
	}
	b.WriteString("</figure>")
	s.Items = append(s.Items, template.HTML(b.String()))
}

// ChartErr adds a chart, or a visible note when drawing it failed.
func (s *Section) ChartErr(caption string, svg template.HTML, err error) {
	if err != nil {
		s.P(caption + ": chart not drawn: " + err.Error())
		return
	}
	s.Chart(caption, svg)
}

// Table is an HTML table; cells are text, numbers are right-aligned.
type Table struct {
	Caption string
	Head    []string
	Rows    [][]Cell
}

// Cell is one table cell: text, whether it is numeric, and an optional
// background shade in [0,1] (heat tables).
type Cell struct {
	Text  string
	Num   bool
	Shade float64 // 0: none
}

// T is a text cell.
func T(s string) Cell { return Cell{Text: s} }

// N is a numeric cell formatted with prec decimals ("-" for NaN).
func N(x float64, prec int) Cell {
	if math.IsNaN(x) {
		return Cell{Text: "-", Num: true}
	}
	return Cell{Text: strconv.FormatFloat(x, 'f', prec, 64), Num: true}
}

// I is an integer cell.
func I(n int64) Cell { return Cell{Text: strconv.FormatInt(n, 10), Num: true} }

// Pct is a percentage cell from a share.
func Pct(x float64, prec int) Cell {
	if math.IsNaN(x) {
		return Cell{Text: "-", Num: true}
	}
	return Cell{Text: strconv.FormatFloat(100*x, 'f', prec, 64) + "%", Num: true}
}

// Table adds a table.
func (s *Section) Table(t Table) {
	var b strings.Builder
	b.WriteString(`<div class="tw"><table>`)
	if t.Caption != "" {
		b.WriteString("<caption>" + template.HTMLEscapeString(t.Caption) + "</caption>")
	}
	b.WriteString("<thead><tr>")
	for _, h := range t.Head {
		b.WriteString("<th>" + template.HTMLEscapeString(h) + "</th>")
	}
	b.WriteString("</tr></thead><tbody>")
	for _, r := range t.Rows {
		b.WriteString("<tr>")
		for _, c := range r {
			cls := ""
			if c.Num {
				cls = ` class="n"`
			}
			style := ""
			if c.Shade > 0 {
				style = fmt.Sprintf(` style="background:rgba(213,94,0,%.2f)"`, math.Min(c.Shade, 1)*0.6)
			}
			b.WriteString("<td" + cls + style + ">" + template.HTMLEscapeString(c.Text) + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table></div>")
	s.Items = append(s.Items, template.HTML(b.String()))
}

// Row starts a row of items laid out side by side (wrapping); EndRow
// closes it.
func (s *Section) Row() { s.Items = append(s.Items, template.HTML(`<div class="row">`)) }

// EndRow closes a Row.
func (s *Section) EndRow() { s.Items = append(s.Items, template.HTML(`</div>`)) }

// Raw adds trusted HTML.
func (s *Section) Raw(h template.HTML) { s.Items = append(s.Items, h) }

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="qiandun {{.Version}}">
<title>{{.P.Title}}</title>
<style>
:root { --fg:#1d2330; --muted:#5b6475; --line:#d9dee7; --accent:#0072b2; }
body { margin:0; color:var(--fg); background:#fff;
  font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC",
    "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", "Droid Sans Fallback",
    "Liberation Sans", Arial, sans-serif;
  font-size:14px; line-height:1.5; }
header { padding:18px 28px; border-bottom:3px solid var(--accent); }
h1 { margin:0 0 4px; font-size:22px; }
h2 { font-size:18px; border-bottom:1px solid var(--line); padding-bottom:4px; margin-top:28px; }
h3 { font-size:15px; margin:18px 0 6px; }
.sub { color:var(--muted); }
main { padding:0 28px 40px; max-width:1200px; }
nav { font-size:13px; margin:10px 0; }
nav a { margin-right:12px; color:var(--accent); text-decoration:none; }
dl.meta { display:grid; grid-template-columns:max-content auto; gap:2px 14px; margin:10px 0 0; font-size:13px; }
dl.meta dt { color:var(--muted); }
dl.meta dd { margin:0; }
.notes { background:#fff4e5; border-left:4px solid #e69f00; padding:8px 14px; margin:14px 0; }
.tw { overflow-x:auto; margin:8px 0 14px; }
table { border-collapse:collapse; font-size:13px; }
caption { text-align:left; font-weight:600; padding:4px 0; }
th, td { border:1px solid var(--line); padding:3px 8px; }
th { background:#f3f5f9; text-align:left; }
td.n { text-align:right; font-variant-numeric:tabular-nums; }
.row { display:flex; flex-wrap:wrap; gap:4px 16px; align-items:flex-start; }
.row .tw { margin-top:8px; }
figure.chart { display:inline-block; margin:8px 16px 8px 0; vertical-align:top; }
figure.chart svg { max-width:100%; height:auto; }
figcaption { font-size:13px; color:var(--muted); text-align:center; }
footer { color:var(--muted); font-size:12px; padding:12px 28px; border-top:1px solid var(--line); }
</style>
</head>
<body>
<header>
<h1>{{.P.Title}}</h1>
{{if .P.Subtitle}}<div class="sub">{{.P.Subtitle}}</div>{{end}}
{{if .P.Meta}}<dl class="meta">{{range .P.Meta}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl>{{end}}
</header>
<main>
<nav>{{range .P.Sections}}<a href="#{{.ID}}">{{.Title}}</a>{{end}}</nav>
{{if .P.Notes}}<div class="notes">{{range .P.Notes}}<div>{{.}}</div>{{end}}</div>{{end}}
{{range .P.Sections}}<section id="{{.ID}}">
<h2>{{.Title}}</h2>
{{range .Items}}{{.}}
{{end}}</section>
{{end}}</main>
<footer>qiandun {{.Version}}{{if .Generated}} · 生成时间 generated {{.Generated}}{{end}}</footer>
</body>
</html>
`))

// Render writes the page as one HTML document. A non-zero generated is
// printed in the footer, and then the bytes change with it; pass the zero
// time (what `qiandun report` does) and the same inputs give the same
// bytes. When a report was written is recorded outside it (the run
// manifest, <lake>/_manifests/run/report.json, and the file's mtime).
func (p *Page) Render(version string, generated time.Time) ([]byte, error) {
	var b bytes.Buffer
	stamp := ""
	if !generated.IsZero() {
		stamp = generated.UTC().Format("2006-01-02 15:04 MST")
	}
	err := pageTmpl.Execute(&b, struct {
		P         *Page
		Version   string
		Generated string
	}{p, version, stamp})
	return b.Bytes(), err
}

// htmlf formats trusted HTML with escaped arguments.
func htmlf(format string, args ...any) template.HTML {
	esc := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			esc[i] = template.HTMLEscapeString(v)
		default:
			esc[i] = v
		}
	}
	return template.HTML(fmt.Sprintf(format, esc...))
}
