package report

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"qiandun/data/lake"
)

// Options are what every report shares.
type Options struct {
	Version   string    // qiandun version for the footer
	Generated time.Time // footer time; zero (the CLI's choice) for none, so the same inputs give the same bytes
}

//go:embed sql/concentration.sql
var concentrationSQL string

// PortfolioInputs name what the portfolio report reads.
type PortfolioInputs struct {
	Lake   string // lake root: loans, perf/*
	Scores string // score root holding <as_of>/scores.csv; optional
	EWS    string // early-warning root holding <as_of>/ews.csv; optional
	// MemoryLimit is DuckDB's memory_limit (default 1GB); it spills to
	// <lake>/_tmp/duckdb beyond.
	MemoryLimit string
	// Disclosure is the monthly disclosure site's index (qiandun
	// disclose), relative to the report; linked when set.
	Disclosure string
	// Reconcile is a published custody reconciliation run's directory
	// (qiandun reconcile: <out>/<to>/); when set, the report summarises
	// its breaks and migration check, and links its files at
	// ReconcileLink (the directory relative to the report).
	Reconcile, ReconcileLink string
}

// WritePortfolioReport builds the portfolio report and writes it to
// outDir/portfolio.html, returning the path.
func WritePortfolioReport(ctx context.Context, in PortfolioInputs, outDir string, opt Options) (string, error) {
	p, err := PortfolioPage(ctx, in)
	if err != nil {
		return "", err
	}
	path := filepath.Join(outDir, "portfolio.html")
	return path, writePage(p, path, opt)
}

// PortfolioPage builds the portfolio report from the lake's perf tables.
func PortfolioPage(ctx context.Context, in PortfolioInputs) (*Page, error) {
	lk := lake.New(in.Lake)
	mem := in.MemoryLimit
	if mem == "" {
		mem = "1GB"
	}
	db, err := lk.OpenDB(ctx, lake.DBOptions{MemoryLimit: mem})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	p := &Page{Title: "资产组合报告 Portfolio report", Subtitle: "资产质量、迁徙、逾期、预期损失、集中度与信息披露 — asset quality, roll rates, delinquency, expected loss, concentration, disclosure"}
	p.Meta = append(p.Meta, [2]string{"lake", in.Lake})
	load := func(table, order string) *Frame {
		scan, err := lk.Scan(table)
		if err != nil {
			p.Note("%s: 湖中没有该表 not in the lake", table)
			return nil
		}
		q := "SELECT * FROM " + scan
		if order != "" {
			q += " ORDER BY " + order
		}
		f, err := query(ctx, db, q)
		if err != nil {
			p.Note("%s: %v", table, err)
			return nil
		}
		return f
	}
	if m, err := lk.ReadManifest("perf"); err == nil {
		if v, ok := m.Config["as_of"]; ok {
			p.Meta = append(p.Meta, [2]string{"as of 观察日", fmt.Sprint(v)})
		}
	}

	overview(ctx, db, lk, p)
	vintageSection(p, load("perf/vintage", "ALL"))
	rollSection(p, load("perf/roll_rates", "ALL"))
	delinquencySection(p, load("perf/delinquency", "ALL"))
	expectedLossSection(p, load("perf/expected_loss", "ALL"))
	concentrationSection(ctx, db, lk, p)
	disclosureSection(p, load("perf/disclosure", ""))
	if in.Disclosure != "" {
		p.Sections[len(p.Sections)-1].Raw(htmlf(`<p>月度信息披露 Monthly disclosure (operating data, projects): <a href="%s">%s</a></p>`, in.Disclosure, in.Disclosure))
	}
	if in.Reconcile != "" {
		custodySection(p, in.Reconcile, in.ReconcileLink)
	}
	if err := scoresSection(ctx, db, in.Scores, p); err != nil {
		return nil, err
	}
	if err := ewsSection(ctx, db, in.EWS, p); err != nil {
		return nil, err
	}
	return p, nil
}

func overview(ctx context.Context, db *sql.DB, lk lake.Lake, p *Page) {
	scan, err := lk.Scan("loans")
	if err != nil {
		p.Note("loans: not in the lake")
		return
	}
	f, err := query(ctx, db, "SELECT status AS \"状态 status\", count(*) AS loans, sum(principal) AS principal FROM "+scan+" GROUP BY ALL ORDER BY 1")
	if err != nil {
		p.Note("loans: %v", err)
		return
	}
	s := p.Add("overview", "概览 Overview")
	s.Table(f.table("放款 Loans by status"))
}

// pivot turns long rows (x, series, y) into one series per distinct
// series value, x ascending.
func pivot(f *Frame, xc, sc, yc int) []Series {
	by := map[string]*Series{}
	var names []string
	for r := 0; r < f.N; r++ {
		name := "all"
		if sc >= 0 {
			name = f.S[sc][r]
		}
		s, ok := by[name]
		if !ok {
			s = &Series{Name: name}
			by[name] = s
			names = append(names, name)
		}
		x := float64(r)
		if f.Num[xc] {
			x = f.F[xc][r]
		}
		s.X, s.Y = append(s.X, x), append(s.Y, f.F[yc][r])
	}
	sort.Strings(names)
	out := make([]Series, 0, len(names))
	for _, n := range names {
		s := *by[n]
		idx := make([]int, len(s.X))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return s.X[idx[a]] < s.X[idx[b]] })
		t := Series{Name: n}
		for _, i := range idx {
			if !math.IsNaN(s.Y[i]) {
				t.X, t.Y = append(t.X, s.X[i]), append(t.Y, s.Y[i])
			}
		}
		out = append(out, t)
	}
	return out
}

// every keeps at most n series, evenly spread and always the last.
func every(ss []Series, n int) []Series {
	if len(ss) <= n {
		return ss
	}
	var out []Series
	step := float64(len(ss)-1) / float64(n-1)
	for i := 0; i < n; i++ {
		out = append(out, ss[int(math.Round(float64(i)*step))])
	}
	return out
}

func vintageSection(p *Page, f *Frame) {
	s := p.Add("vintage", "账龄分析 Vintage curves")
	if f == nil || f.N == 0 {
		s.P("No vintage rows.")
		return
	}
	xc := f.Col("mob", "months_on_book")
	sc := f.Col("issue_month", "vintage", "cohort")
	if xc < 0 || sc < 0 {
		s.Table(f.table("perf/vintage"))
		return
	}
	var drawn bool
	for _, m := range []struct{ part, label string }{{"30", "ever 30+ DPD"}, {"60", "ever 60+ DPD"}, {"90", "ever 90+ DPD"}} {
		yc := f.ColLike(m.part, "share", "loans")
		if yc < 0 {
			yc = f.ColLike(m.part, "share")
		}
		if yc < 0 {
			continue
		}
		ss := pivot(f, xc, sc, yc)
		for i := range ss {
			for j := range ss[i].Y {
				ss[i].Y[j] *= 100
			}
		}
		svg, err := LineChartAt("Vintage: "+m.label+" (% of loans), by issue month", "months on book", "% of vintage", every(ss, 8), false, TopLeft)
		s.ChartErr("账龄曲线 "+m.label+"（"+f.Cols[yc]+"）", svg, err)
		if !drawn {
			s.Table(pivotTable(f, sc, xc, yc, "按放款月与账龄 "+f.Cols[yc]+" by issue month × mob (%)", 100, 24))
			drawn = true
		}
	}
	if !drawn {
		s.Table(f.table("perf/vintage"))
	}
}

// pivotTable lays out y by row key (rc) and column key (cc), at most
// maxCols columns.
func pivotTable(f *Frame, rc, cc, yc int, caption string, scale float64, maxCols int) Table {
	var rows, cols []string
	rseen, cseen := map[string]bool{}, map[string]bool{}
	val := map[[2]string]float64{}
	cnum := map[string]float64{}
	for r := 0; r < f.N; r++ {
		rk, ck := f.S[rc][r], f.S[cc][r]
		if !rseen[rk] {
			rseen[rk] = true
			rows = append(rows, rk)
		}
		if !cseen[ck] {
			cseen[ck] = true
			cols = append(cols, ck)
			if f.Num[cc] {
				cnum[ck] = f.F[cc][r]
			}
		}
		val[[2]string{rk, ck}] = f.F[yc][r]
	}
	sort.Strings(rows)
	sort.SliceStable(cols, func(i, j int) bool {
		if f.Num[cc] {
			return cnum[cols[i]] < cnum[cols[j]]
		}
		return cols[i] < cols[j]
	})
	if len(cols) > maxCols {
		cols = cols[:maxCols]
	}
	max := 0.0
	for _, v := range val {
		if !math.IsNaN(v) {
			max = math.Max(max, v)
		}
	}
	t := Table{Caption: caption, Head: append([]string{f.Cols[rc] + " \\ " + f.Cols[cc]}, cols...)}
	for _, rk := range rows {
		row := []Cell{T(rk)}
		for _, ck := range cols {
			v, ok := val[[2]string{rk, ck}]
			if !ok {
				row = append(row, T(""))
				continue
			}
			c := N(v*scale, 2)
			if max > 0 && !math.IsNaN(v) {
				c.Shade = v / max
			}
			row = append(row, c)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func rollSection(p *Page, f *Frame) {
	s := p.Add("roll", "迁徙率 Roll rates")
	if f == nil || f.N == 0 {
		s.P("No roll-rate rows.")
		return
	}
	fc := f.Col("from_bucket", "bucket_from", "from")
	tc := f.Col("to_bucket", "bucket_to", "to")
	vc := f.Col("share_balance", "share_n", "rate", "roll_rate", "share", "pct")
	if vc < 0 {
		vc = f.ColLike("rate")
	}
	mc := f.Col("month", "month_end", "obs_month", "as_of", "from_month")
	if fc < 0 || tc < 0 || vc < 0 {
		s.Table(f.table("perf/roll_rates"))
		return
	}
	if mc >= 0 {
		// The latest month's matrix, and the forward roll rates over time.
		latest := ""
		for r := 0; r < f.N; r++ {
			if f.S[mc][r] > latest {
				latest = f.S[mc][r]
			}
		}
		sub := f.filter(func(r int) bool { return f.S[mc][r] == latest })
		s.Table(pivotTable(sub, fc, tc, vc, "迁徙矩阵 roll-rate matrix, "+latest+" (% of balance/loans in from-bucket)", 100, 12))
		fwd := f.filter(func(r int) bool { return nextBucket(f.S[fc][r]) == f.S[tc][r] })
		if fwd.N > 0 {
			// x axis: month index.
			months := distinctSorted(fwd.S[mc])
			pos := map[string]float64{}
			for i, m := range months {
				pos[m] = float64(i)
			}
			by := map[string]*Series{}
			var names []string
			for r := 0; r < fwd.N; r++ {
				n := fwd.S[fc][r] + "→" + fwd.S[tc][r]
				if by[n] == nil {
					by[n] = &Series{Name: asciiArrow(n)}
					names = append(names, n)
				}
				by[n].X = append(by[n].X, pos[fwd.S[mc][r]])
				by[n].Y = append(by[n].Y, 100*fwd.F[vc][r])
			}
			sort.Strings(names)
			var ss []Series
			for _, n := range names {
				ss = append(ss, *by[n])
			}
			svg, err := LineChart(fmt.Sprintf("Forward roll rates by month (%s .. %s)", months[0], months[len(months)-1]), "month index", "% rolling forward", ss, false)
			s.ChartErr("向前迁徙率趋势 forward roll rates over time", svg, err)
		}
		return
	}
	s.Table(pivotTable(f, fc, tc, vc, "迁徙矩阵 roll-rate matrix (%)", 100, 12))
	fwd := f.filter(func(r int) bool { return nextBucket(f.S[fc][r]) == f.S[tc][r] })
	if fwd.N > 0 {
		cats := make([]string, fwd.N)
		ys := make([]float64, fwd.N)
		for r := 0; r < fwd.N; r++ {
			cats[r], ys[r] = asciiArrow(fwd.S[fc][r]+"→"+fwd.S[tc][r]), 100*fwd.F[vc][r]
		}
		svg, err := BarChart("Forward roll rates", "% rolling forward", cats, []Series{{Name: "roll", Y: ys}})
		s.ChartErr("向前迁徙率 forward roll rates", svg, err)
	}
}

func asciiArrow(s string) string { return strings.ReplaceAll(s, "→", "->") }

var bucketOrder = []string{"C", "M1", "M2", "M3", "M4+"}

func nextBucket(b string) string {
	for i, x := range bucketOrder[:len(bucketOrder)-1] {
		if x == b {
			return bucketOrder[i+1]
		}
	}
	return ""
}

func distinctSorted(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// filter returns the rows of f for which keep is true.
func (f *Frame) filter(keep func(r int) bool) *Frame {
	out := &Frame{Cols: f.Cols, Num: f.Num, F: make([][]float64, len(f.Cols)), S: make([][]string, len(f.Cols))}
	for r := 0; r < f.N; r++ {
		if !keep(r) {
			continue
		}
		for c := range f.Cols {
			if f.Num[c] {
				out.F[c] = append(out.F[c], f.F[c][r])
			}
			out.S[c] = append(out.S[c], f.S[c][r])
		}
		out.N++
	}
	return out
}

func delinquencySection(p *Page, f *Frame) {
	s := p.Add("delinquency", "逾期趋势 Delinquency trend")
	if f == nil || f.N == 0 {
		s.P("No delinquency rows.")
		return
	}
	mc := f.Col("month", "month_end", "as_of", "obs_month", "obs_date")
	bc := f.Col("bucket", "dpd_bucket")
	if mc < 0 {
		s.Table(f.table("perf/delinquency"))
		return
	}
	months := distinctSorted(f.S[mc])
	pos := map[string]float64{}
	for i, m := range months {
		pos[m] = float64(i)
	}
	xlabel := fmt.Sprintf("month index (%s .. %s)", months[0], months[len(months)-1])
	if bc >= 0 {
		for _, name := range []string{"share_balance", "balance_share", "share_n", "share"} {
			yc := f.Col(name)
			if yc < 0 {
				continue
			}
			by := map[string]*Series{}
			var names []string
			for r := 0; r < f.N; r++ {
				b := f.S[bc][r]
				if by[b] == nil {
					by[b] = &Series{Name: b}
					names = append(names, b)
				}
				by[b].X = append(by[b].X, pos[f.S[mc][r]])
				by[b].Y = append(by[b].Y, 100*f.F[yc][r])
			}
			sort.Strings(names)
			var ss []Series
			for _, n := range names {
				if n == "C" {
					continue // current dominates the scale; shown in the table
				}
				ss = append(ss, *by[n])
			}
			svg, err := LineChart("Delinquency by bucket: "+f.Cols[yc]+" (%)", xlabel, "% of book", ss, false)
			s.ChartErr("逾期分布趋势 delinquency buckets over time ("+f.Cols[yc]+")", svg, err)
			s.Table(pivotTable(f, mc, bc, yc, "各月逾期分布 "+f.Cols[yc]+" by month × bucket (%)", 100, 12))
			return
		}
	}
	// Wide form: every numeric column is a series over months.
	var ss []Series
	for c := range f.Cols {
		if !f.Num[c] || c == mc {
			continue
		}
		sr := Series{Name: f.Cols[c]}
		for r := 0; r < f.N; r++ {
			sr.X, sr.Y = append(sr.X, pos[f.S[mc][r]]), append(sr.Y, f.F[c][r])
		}
		ss = append(ss, sr)
	}
	if len(ss) > 0 {
		svg, err := LineChart("Delinquency over time", xlabel, "", every(ss, 8), false)
		s.ChartErr("逾期趋势 delinquency over time", svg, err)
	}
	s.Table(f.table("perf/delinquency"))
}

func expectedLossSection(p *Page, f *Frame) {
	s := p.Add("el", "预期损失 Expected loss")
	if f == nil || f.N == 0 {
		s.P("No expected-loss rows.")
		return
	}
	// Aggregate by the first grouping column, if the table is per loan.
	if f.N > 50 {
		gc := -1
		for _, name := range []string{"bucket", "collateral_type", "product", "grade"} {
			if gc = f.Col(name); gc >= 0 {
				break
			}
		}
		ec := f.Col("el", "expected_loss")
		if ec < 0 {
			ec = f.ColLike("el")
		}
		ead := f.Col("ead", "exposure", "balance", "outstanding_principal")
		if gc >= 0 && ec >= 0 {
			sums := map[string][2]float64{}
			var keys []string
			for r := 0; r < f.N; r++ {
				k := f.S[gc][r]
				v, ok := sums[k]
				if !ok {
					keys = append(keys, k)
				}
				v[0] += nz(f.F[ec][r])
				if ead >= 0 {
					v[1] += nz(f.F[ead][r])
				}
				sums[k] = v
			}
			sort.Strings(keys)
			t := Table{Caption: "按 " + f.Cols[gc] + " 汇总 expected loss by " + f.Cols[gc], Head: []string{f.Cols[gc], "EL", "EAD", "EL / EAD"}}
			ys := make([]float64, len(keys))
			var tot [2]float64
			for i, k := range keys {
				v := sums[k]
				tot[0], tot[1] = tot[0]+v[0], tot[1]+v[1]
				t.Rows = append(t.Rows, []Cell{T(k), N(v[0], 2), N(v[1], 2), Pct(v[0]/v[1], 2)})
				ys[i] = v[0]
			}
			t.Rows = append(t.Rows, []Cell{T("合计 total"), N(tot[0], 2), N(tot[1], 2), Pct(tot[0]/tot[1], 2)})
			s.Table(t)
			svg, err := BarChart("Expected loss by "+f.Cols[gc]+" (CNY)", "EL, CNY", keys, []Series{{Name: "EL", Y: ys}})
			s.ChartErr("预期损失 expected loss by "+f.Cols[gc], svg, err)
			return
		}
	}
	s.Table(f.table("perf/expected_loss"))
	gc, ec := -1, f.Col("el", "expected_loss")
	for c := range f.Cols {
		if !f.Num[c] {
			gc = c
			break
		}
	}
	if gc >= 0 && ec >= 0 {
		svg, err := BarChart("Expected loss by "+f.Cols[gc]+" (CNY)", "EL, CNY", f.S[gc], []Series{{Name: "EL", Y: f.F[ec]}})
		s.ChartErr("预期损失 expected loss", svg, err)
	}
}

func nz(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}

func concentrationSection(ctx context.Context, db *sql.DB, lk lake.Lake, p *Page) {
	s := p.Add("concentration", "集中度 Concentration")
	scan, err := lk.Scan("loans")
	if err != nil {
		s.P("loans: not in the lake")
		return
	}
	active := "SELECT borrower_id, region, product, collateral_type, CAST(principal AS DOUBLE) AS principal FROM " + scan + " WHERE status = 'active'"
	basis := "issued principal of loans whose status is active (no perf/panel in the lake)"
	if panel, err := lk.Scan("perf/panel"); err == nil {
		active = "SELECT l.borrower_id, l.region, l.product, l.collateral_type, CAST(p.outstanding_principal AS DOUBLE) AS principal FROM " +
			panel + " p JOIN " + scan + " l USING (loan_id) WHERE p.status = 'active' AND p.month_end = (SELECT max(month_end) FROM " + panel + ")"
		basis = "outstanding principal of the loans active at the panel's last month end"
	}
	q := strings.ReplaceAll(concentrationSQL, "{{active}}", active)
	f, err := query(ctx, db, q)
	if err != nil {
		s.P("concentration: " + err.Error())
		return
	}
	dc, kc, vc, nc := f.Col("dimension"), f.Col("key"), f.Col("share"), f.Col("loans")
	for _, dim := range distinctSorted(f.S[dc]) {
		sub := f.filter(func(r int) bool { return f.S[dc][r] == dim })
		t := Table{Caption: dim, Head: []string{dim, "在贷笔数 active loans", "在贷本金占比 share of principal"}}
		cats := make([]string, 0, sub.N)
		ys := make([]float64, 0, sub.N)
		for r := 0; r < sub.N; r++ {
			t.Rows = append(t.Rows, []Cell{T(sub.S[kc][r]), N(sub.F[nc][r], 0), Pct(sub.F[vc][r], 2)})
			if ascii(sub.S[kc][r]) {
				cats = append(cats, sub.S[kc][r])
			} else {
				cats = append(cats, fmt.Sprint(r+1))
			}
			ys = append(ys, 100*sub.F[vc][r])
		}
		s.Table(t)
		if dim != "top_borrowers" && len(ys) > 1 {
			if len(ys) > 20 {
				cats, ys = cats[:20], ys[:20]
			}
			svg, err := BarChart("Share of active principal by "+dim+" (%)", "% of active principal", cats, []Series{{Name: dim, Y: ys}})
			s.ChartErr("在贷本金集中度 concentration by "+dim+"（编号同表 numbered as in the table）", svg, err)
		}
	}
	s.P("Shares are of the " + basis + "; top_borrowers is the share of the ten largest borrowers and of the largest one.")
}

// asciiOnly drops non-ASCII runes (for chart text, which plot measures
// with Latin fonts).
func asciiOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 {
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

func ascii(s string) bool {
	for _, r := range s {
		if r > 127 {
			return false
		}
	}
	return true
}

func disclosureSection(p *Page, f *Frame) {
	s := p.Add("disclosure", "信息披露 Disclosure metrics")
	if f == nil || f.N == 0 {
		s.P("No disclosure metrics.")
		return
	}
	mc, vc, uc, dc := f.Col("metric"), f.Col("value"), f.Col("unit"), f.Col("definition")
	if mc < 0 || vc < 0 {
		s.Table(f.table("perf/disclosure"))
		return
	}
	t := Table{Head: []string{"指标 metric", "值 value", "单位 unit", "定义 definition"}}
	for r := 0; r < f.N; r++ {
		unit, def := "", ""
		if uc >= 0 {
			unit = f.S[uc][r]
		}
		if dc >= 0 {
			def = f.S[dc][r]
		}
		t.Rows = append(t.Rows, []Cell{T(f.S[mc][r]), {Text: f.S[vc][r], Num: true}, T(unit), T(def)})
	}
	s.Table(t)
}

// scoresSection summarises the latest batch scoring run: rows, grades,
// decisions and mean PD by model.
func scoresSection(ctx context.Context, db *sql.DB, dir string, p *Page) error {
	if dir == "" {
		return nil
	}
	s := p.Add("scores", "批量评分 Latest scoring run")
	files := runs(dir, "scores.csv")
	if len(files) == 0 {
		s.P("No score file under " + dir + ".")
		return nil
	}
	sort.Strings(files)
	path := files[len(files)-1]
	src := "read_csv(" + lake.Quote(path) + ", header = true, all_varchar = true)"
	f, err := query(ctx, db, "SELECT * FROM "+src+" LIMIT 0")
	if err != nil {
		return fmt.Errorf("scores %s: %w", path, err)
	}
	if f.Col("model") < 0 || f.Col("grade") < 0 {
		s.P(path + ": no model/grade columns; not summarised.")
		return nil
	}
	s.P(path)
	g, err := query(ctx, db, `SELECT model, model_version, grade, count(*) AS rows,
		avg(TRY_CAST(pd AS DOUBLE)) AS mean_pd, min(TRY_CAST(score AS INTEGER)) AS min_score, max(TRY_CAST(score AS INTEGER)) AS max_score
		FROM `+src+` GROUP BY ALL ORDER BY model, model_version, grade`)
	if err != nil {
		return fmt.Errorf("scores %s: %w", path, err)
	}
	s.Row()
	s.Table(g.table("按等级 by grade"))
	if f.Col("decision") >= 0 {
		d, err := query(ctx, db, "SELECT model, decision, count(*) AS rows FROM "+src+" GROUP BY ALL ORDER BY model, rows DESC, decision")
		if err != nil {
			return fmt.Errorf("scores %s: %w", path, err)
		}
		s.Table(d.table("按决策 by decision"))
	}
	s.EndRow()
	var series []Series
	grades := distinctSorted(g.S[2])
	for _, m := range distinctSorted(g.S[0]) {
		sr := Series{Name: asciiOnly(m)}
		total := 0.0
		byGrade := map[string]float64{}
		for r := 0; r < g.N; r++ {
			if g.S[0][r] == m {
				byGrade[g.S[2][r]] += g.F[3][r]
				total += g.F[3][r]
			}
		}
		for _, gr := range grades {
			sr.Y = append(sr.Y, 100*byGrade[gr]/total)
		}
		series = append(series, sr)
	}
	svg, err := SmallBarChart("Grade distribution by model (% of rows)", "% of rows", grades, series)
	s.ChartErr("评分等级分布 grade distribution", svg, err)
	return nil
}

func ewsSection(ctx context.Context, db *sql.DB, dir string, p *Page) error {
	s := p.Add("ews", "预警名单 Early-warning list")
	if dir == "" {
		s.P("No early-warning directory given (--ews).")
		return nil
	}
	files := runs(dir, "ews.csv")
	if len(files) == 0 {
		s.P("No early-warning list under " + dir + ".")
		return nil
	}
	sort.Strings(files)
	path := files[len(files)-1]
	src := "read_csv(" + lake.Quote(path) + ", header = true, all_varchar = true)"
	f, err := query(ctx, db, "SELECT * FROM "+src+" LIMIT 0")
	if err != nil {
		return fmt.Errorf("early-warning list %s: %w", path, err)
	}
	var n float64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+src).Scan(&n); err != nil {
		return fmt.Errorf("early-warning list %s: %w", path, err)
	}
	s.P(fmt.Sprintf("%s: %.0f loans on the list.", path, n))
	type dim struct{ col, expr string }
	var dims []dim
	for _, name := range []string{"action", "queue", "priority", "primary_reason", "level", "severity", "reason", "bucket", "grade", "channel"} {
		if c := f.Col(name); c >= 0 {
			dims = append(dims, dim{f.Cols[c], lake.Ident(f.Cols[c])})
		}
	}
	if c := f.Col("reasons"); c >= 0 {
		// Every triggered rule, not only the primary one.
		dims = append(dims, dim{"triggered rule (reasons)", "unnest(string_split(" + lake.Ident(f.Cols[c]) + ", ';'))"})
	}
	amt, sumAmt := "NULL", ""
	if c := f.Col("outstanding_principal"); c >= 0 {
		amt = "TRY_CAST(" + lake.Ident(f.Cols[c]) + " AS DECIMAL(18,2))"
		sumAmt = ", sum(a) AS outstanding_principal"
	}
	for _, d := range dims {
		g, err := query(ctx, db, "SELECT k AS "+lake.Ident(d.col)+", count(*) AS loans"+sumAmt+" FROM (SELECT "+d.expr+" AS k, "+amt+" AS a FROM "+src+") GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20")
		if err != nil {
			return fmt.Errorf("early-warning list %s: %w", path, err)
		}
		s.Row()
		s.Table(g.table("按 " + d.col + " by " + d.col))
		cats := make([]string, g.N)
		for i, v := range g.S[0] {
			cats[i] = v
			if !ascii(v) || v == "" {
				cats[i] = fmt.Sprint(i + 1)
			}
		}
		svg, err := SmallBarChart("Early-warning list by "+asciiOnly(d.col), "loans", cats, []Series{{Name: "loans", Y: g.F[1]}})
		s.ChartErr("预警名单分布 by "+d.col, svg, err)
		s.EndRow()
	}
	return nil
}
