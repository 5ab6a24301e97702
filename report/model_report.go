package report

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"qiandun/scoring/monitor"
	"qiandun/training/metrics"
	"qiandun/training/scorecard"
)

// ScoreRun is the latest batch scoring run of a model, for PSI.
type ScoreRun struct {
	Path   string
	Scores []float64
	// From the run's manifest.json (monitoring of this model), when given:
	// the scoring stage's own score PSI and per-characteristic CSI
	// against the training distribution.
	ScorePSI float64
	CSI      map[string]float64
}

// LoadScoreRun reads the newest <dir>/<as_of>/scores.csv and keeps the rows
// of model name (and version, when the file names versions). It returns
// nil when there is no score file or it has no rows of that model.
func LoadScoreRun(dir, name, version string) (*ScoreRun, error) {
	if dir == "" {
		return nil, nil
	}
	files := runs(dir, "scores.csv")
	if len(files) == 0 {
		return nil, nil
	}
	sort.Strings(files)
	path := files[len(files)-1]
	run := &ScoreRun{Path: path}
	err := readCSV(path, true, []string{"score"}, func(r row) error {
		if c := firstCol(r.idx, "model", "model_name", "scorecard"); c != "" && r.s(c) != name && !strings.HasPrefix(r.s(c), name+"/") {
			return nil
		}
		if c := firstCol(r.idx, "model_version", "version"); c != "" && r.s(c) != version {
			return nil
		}
		run.Scores = append(run.Scores, r.f("score"))
		return r.err
	})
	if err != nil {
		return nil, err
	}
	if len(run.Scores) == 0 {
		return nil, nil
	}
	run.ScorePSI = math.NaN()
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(path), "manifest.json")); err == nil {
		var man struct {
			Models []struct {
				Name, Version string
				Monitoring    struct {
					monitor.Report
					ScorePSI *float64 `json:"score_psi"` // nil: absent
				} `json:"monitoring"`
			} `json:"models"`
		}
		if json.Unmarshal(b, &man) == nil {
			for _, mm := range man.Models {
				if mm.Name != name || mm.Version != version {
					continue
				}
				// An index the stage could not compute has level
				// "unknown" (and the value −1): not shown.
				if mo := mm.Monitoring; mo.ScorePSI != nil && mo.ScoreLevel != "unknown" {
					run.ScorePSI = *mo.ScorePSI
				}
				for _, c := range mm.Monitoring.CSI {
					if run.CSI == nil {
						run.CSI = map[string]float64{}
					}
					run.CSI[c.Variable] = c.CSI
					if c.Level == "unknown" {
						run.CSI[c.Variable] = math.NaN()
					}
				}
			}
		}
	}
	return run, nil
}

func firstCol(idx map[string]int, names ...string) string {
	for _, n := range names {
		if _, ok := idx[n]; ok {
			return n
		}
	}
	return ""
}

// devSample names the development sample among those present.
func devSample(samples map[string][]Obs) string {
	for _, n := range []string{"train", "dev", "development", "fit"} {
		if len(samples[n]) > 0 {
			return n
		}
	}
	names := sortedKeys(samples)
	if len(names) > 0 {
		return names[0]
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sampleOrder lists samples development first, then test, oot, others.
func sampleOrder(samples map[string][]Obs) []string {
	rank := map[string]int{"train": 0, "dev": 0, "development": 0, "fit": 0, "test": 1, "validation": 1, "valid": 1, "oot": 2, "out_of_time": 2}
	names := sortedKeys(samples)
	sort.SliceStable(names, func(i, j int) bool {
		ri, ok := rank[names[i]]
		if !ok {
			ri = 3
		}
		rj, ok := rank[names[j]]
		if !ok {
			rj = 3
		}
		return ri < rj
	})
	return names
}

// ModelPage builds the report of one model version; latest may be nil.
func ModelPage(m *Model, latest *ScoreRun) (*Page, error) {
	p := &Page{
		Title:    fmt.Sprintf("模型报告 Model report · %s %s", m.Name, m.Version),
		Subtitle: "评分卡开发与验证 — scorecard development and validation",
	}
	p.Meta = append(metaFacts(m.Meta), [2]string{"artifact", m.Dir})
	metricsSection(p, m)
	ivs, byVar := characteristicsSection(p, m)
	coefficientsSection(p, m)
	pairsSection(p, m)
	binsSection(p, m, ivs, byVar)
	if !curvesSection(p, m) {
		return p, nil
	}
	order := sampleOrder(m.Scored)
	gainsSection(p, m, order)
	calibrationSection(p, m, order)
	stabilitySection(p, m, latest, order)
	return p, nil
}

// metaFacts are model.json's top-level scalars (and those one level down,
// settings aside) as key facts.
func metaFacts(meta map[string]any) [][2]string {
	var out [][2]string
	for _, k := range sortedKeys(meta) {
		switch v := meta[k].(type) {
		case string, bool, int:
			out = append(out, [2]string{k, fmt.Sprint(v)})
		case float64:
			out = append(out, [2]string{k, fmtNum(v)})
		case map[string]any:
			if k == "settings" {
				continue
			}
			for _, k2 := range sortedKeys(v) {
				switch v2 := v[k2].(type) {
				case string, bool:
					out = append(out, [2]string{k + "." + k2, fmt.Sprint(v2)})
				case float64:
					out = append(out, [2]string{k + "." + k2, fmtNum(v2)})
				}
			}
		}
	}
	return out
}

// metricsSection is the performance table of metrics.csv.
func metricsSection(p *Page, m *Model) {
	if len(m.Metrics) == 0 {
		return
	}
	s := p.Add("metrics", "模型表现 Performance")
	t := Table{Head: []string{"样本 sample", "N", "坏 bads", "坏率 bad rate", "AUC", "Gini", "KS", "HL p", "PSI vs train"}}
	for _, x := range m.Metrics {
		br := math.NaN()
		if x.N > 0 {
			br = float64(x.Bads) / float64(x.N)
		}
		t.Rows = append(t.Rows, []Cell{T(x.Sample), I(int64(x.N)), I(int64(x.Bads)), Pct(br, 2), N(x.AUC, 4), N(x.Gini, 4), N(x.KS, 4), N(x.HLP, 4), N(x.ScorePSI, 4)})
	}
	s.Table(t)
}

// ivRow is a characteristic's information value (the sum of its bins').
type ivRow struct {
	v  string
	iv float64
}

// characteristicsSection is the characteristic summary: IV, bins, in the
// model or not, strength, and the dropped characteristics. It returns the
// characteristics by IV, highest first, and their bins.
func characteristicsSection(p *Page, m *Model) ([]ivRow, map[string][]scorecard.Bin) {
	inModel := map[string]bool{}
	for _, c := range m.Coefs {
		inModel[c.Term] = true
		inModel[strings.TrimPrefix(c.Term, "woe_")] = true
	}
	sum := p.Add("characteristics", "特征汇总 Characteristic summary")
	var ivs []ivRow
	byVar := map[string][]scorecard.Bin{}
	for _, c := range m.Characteristics {
		iv := 0.0
		for _, b := range c.Bins {
			if !math.IsNaN(b.IV) && !math.IsInf(b.IV, 0) {
				iv += b.IV
			}
		}
		ivs = append(ivs, ivRow{c.Name, iv})
		byVar[c.Name] = c.Bins
	}
	sort.SliceStable(ivs, func(i, j int) bool { return ivs[i].iv > ivs[j].iv })
	t := Table{Head: []string{"特征 characteristic", "IV", "分箱数 bins", "入模 in model", "强度 strength"}}
	for _, r := range ivs {
		in := "-"
		if inModel[r.v] {
			in = "✓ yes"
		}
		t.Rows = append(t.Rows, []Cell{T(r.v), N(r.iv, 4), I(int64(len(byVar[r.v]))), T(in), T(ivStrength(r.iv))})
	}
	sum.Table(t)
	if len(ivs) > 0 {
		cats := make([]string, len(ivs))
		vals := make([]float64, len(ivs))
		for i, r := range ivs {
			cats[i], vals[i] = r.v, r.iv
		}
		svg, err := BarChart("Information value by characteristic", "IV", cats, []Series{{Name: "IV", Y: vals}})
		sum.ChartErr("信息值 IV（编号同上表顺序 numbered as in the table）", svg, err)
	}
	if len(m.Dropped) > 0 {
		dt := Table{Caption: "剔除的特征 Dropped characteristics", Head: []string{"特征 characteristic", "原因 reason"}}
		for _, d := range m.Dropped {
			dt.Rows = append(dt.Rows, []Cell{T(d.Variable), T(d.Reason)})
		}
		sum.Table(dt)
	}
	return ivs, byVar
}

// coefficientsSection is the table of coefficients.csv.
func coefficientsSection(p *Page, m *Model) {
	if len(m.Coefs) == 0 {
		return
	}
	s := p.Add("coefficients", "回归系数 Coefficients")
	ct := Table{Head: []string{"项 term", "估计 estimate", "标准误 std. error", "z", "p 值 p-value", ""}}
	for _, c := range m.Coefs {
		ct.Rows = append(ct.Rows, []Cell{T(c.Term), N(c.Estimate, 6), N(c.StdErr, 6), N(c.Z, 3), {Text: fmtP(c.PValue), Num: true}, T(stars(c.PValue))})
	}
	s.Table(ct)
	s.P("显著性 significance: *** p<0.001, ** p<0.01, * p<0.05. WoE is ln((bad_i/bad_total)/(good_i/good_total)): positive is riskier, so coefficients on WoE are expected to be positive.")
}

// pairsSection shows a boosted card's pairs: every pair tried as a 2-D
// interaction table (PairChoice: its rank by FAST gain, the validation
// log-likelihood it gained over the card and over its inputs' main
// effects on the same bins, z, Newton iterations, kept or not and why) and each kept
// pair's points as a grid (rows the first input's coarse bins, columns
// the second's) with the training bad rate of each cell. A card with no
// pair tried or kept (a logistic card, or max_pairs: 0) has no such
// section.
func pairsSection(p *Page, m *Model) {
	if len(m.Pairs) == 0 && len(m.PairGrids) == 0 {
		return
	}
	s := p.Add("pairs", "交互项 Interaction pairs")
	if len(m.Pairs) > 0 {
		kept := 0
		for _, c := range m.Pairs {
			if c.Kept {
				kept++
			}
		}
		s.P(fmt.Sprintf("%d pairs tried, %d kept. The boosted card ranks pairs of characteristics by FAST gain (the best two-level tree over the two inputs' coarse bins, on the additive card's residuals) and tries the best ones in rank order: "+
			"on the pair's grid, over the card, its 2-D table (a value per cell) and its two inputs' main effects (a value per coarse bin of either input) are each fitted by Newton's method, and the pair is kept only when its table raises the validation log-likelihood enough above what the main effects reach (in nats per validation row and in standard errors, z), "+
			"so a kept pair carries an interaction, not main effects the card missed. The gains in the table are nats per validation row, as the thresholds are; the reason also gives the gain over the main effects summed over the validation rows. Iterations: Newton's, of the pair's table.", len(m.Pairs), kept))
		t := Table{Head: []string{"排名 rank", "交互项 pair", "FAST gain", "对比评分卡 log-lik gain per row vs card", "对比主效应 log-lik gain per row vs main effects", "z", "迭代 iterations", "保留 kept", "原因 reason"}}
		for _, c := range m.Pairs {
			k := "✗ no"
			if c.Kept {
				k = "✓ yes"
			}
			t.Rows = append(t.Rows, []Cell{I(int64(c.Rank)), T(c.Inputs[0] + " × " + c.Inputs[1]), N(c.Gain, 2), N(c.ValBefore-c.ValAfter, 4), N(c.ValMain-c.ValAfter, 4),
				N(c.Z, 2), I(int64(c.Trees)), T(k), T(c.Reason)})
		}
		s.Table(t)
	} else {
		s.P("model.json does not record which pairs were tried; the kept pairs follow.")
	}
	for _, g := range m.PairGrids {
		a, b := &g.Inputs[0], &g.Inputs[1]
		s.Raw(htmlf(`<h3 id="pair-%s">%s × %s <span class="sub">%d × %d cells</span></h3>`, g.Name, a.Name, b.Name, len(a.Bins), len(b.Bins)))
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, c := range g.Bins {
			lo, hi = math.Min(lo, c.Points), math.Max(hi, c.Points)
		}
		corner := a.Name + " ↓ / " + b.Name + " →"
		head := []string{corner}
		for _, y := range b.Bins {
			head = append(head, scorecard.ReadableLabel(y.Bin))
		}
		pts := Table{Caption: "分数 points of each cell (added to the card's other points; shaded: fewer points, riskier)", Head: head}
		br := Table{Caption: "坏率 training bad rate of each cell (N)", Head: head}
		for i, x := range a.Bins {
			pr, brr := []Cell{T(scorecard.ReadableLabel(x.Bin))}, []Cell{T(scorecard.ReadableLabel(x.Bin))}
			for j := range b.Bins {
				c := g.Bins[g.Cell(i, j)]
				pc := N(c.Points, 1)
				if hi > lo {
					pc.Shade = (hi - c.Points) / (hi - lo)
				}
				pr = append(pr, pc)
				rc := Cell{Text: "- (0)", Num: true}
				if c.Count > 0 {
					rc.Text = fmt.Sprintf("%.1f%% (%d)", 100*float64(c.Bad)/float64(c.Count), c.Count)
				}
				brr = append(brr, rc)
			}
			pts.Rows = append(pts.Rows, pr)
			br.Rows = append(br.Rows, brr)
		}
		s.Row()
		s.Table(pts)
		s.Table(br)
		s.EndRow()
	}
}

// binsSection is one bin table with its bad-rate and WoE charts per
// characteristic, in IV order.
func binsSection(p *Page, m *Model, ivs []ivRow, byVar map[string][]scorecard.Bin) {
	grid := map[string]bool{}
	for _, g := range m.PairGrids {
		grid[g.Name] = true
	}
	bs := p.Add("bins", "分箱明细 Bins, bad rate and WoE")
	for _, r := range ivs {
		v := r.v
		bins := byVar[v]
		bs.Raw(htmlf(`<h3 id="bin-%s">%s <span class="sub">IV %.4f</span></h3>`, v, v, r.iv))
		if grid[v] {
			bs.Raw(htmlf(`<p>交互项 An interaction pair: its cells below, and as a grid under <a href="#pair-%s">Interaction pairs</a>.</p>`, v))
		}
		bt := Table{Head: []string{"#", "分箱 bin", "N", "好 good", "坏 bad", "坏率 bad rate", "WoE", "IV", "分数 points"}}
		cats := make([]string, len(bins))
		br := make([]float64, len(bins))
		woe := make([]float64, len(bins))
		for i, b := range bins {
			bt.Rows = append(bt.Rows, []Cell{I(int64(i + 1)), T(b.Label), I(b.Count), I(b.Good), I(b.Bad), Pct(b.BadRate, 2), N(b.WoE, 4), N(b.IV, 4), N(b.Points, 1)})
			cats[i], br[i], woe[i] = b.Label, 100*b.BadRate, b.WoE
		}
		bs.Row()
		bs.Table(bt)
		svg, err := SmallBarChart(v+": bad rate", "bad rate, %", cats, []Series{{Name: "bad rate", Y: br}})
		bs.ChartErr(v+" 坏率 bad rate", svg, err)
		svg, err = SmallBarChart(v+": WoE", "WoE", cats, []Series{{Name: "WoE", Y: woe}})
		bs.ChartErr(v+" WoE", svg, err)
		bs.EndRow()
	}
}

// curvesSection draws ROC, KS and the score distributions from the
// per-row scores (training/metrics computes them); it reports false when
// the model directory has none, which ends the page.
func curvesSection(p *Page, m *Model) bool {
	cv := p.Add("curves", "区分能力 ROC, KS and score distributions")
	if len(m.Scored) == 0 {
		p.Note("模型目录没有 %s：ROC/KS、分数分布、增益表、校准和 PSI/CSI 需要逐行分数。 The model directory has no %s (sample, score, bad[, pd]); curves, gains, calibration and PSI/CSI need per-row scores.", ScoredFile, ScoredFile)
		cv.P("No per-row scores in the model directory; see the note above.")
		return false
	}
	if m.FromBands {
		cv.P("曲线按分数段绘制 Curves are drawn from the score bands of gains.csv (PDO-wide bands, every account at its band's mid-score): ROC and KS are exact at the band edges and linear between them; the AUC/KS in the performance table are the exact per-row figures.")
	}
	order := sampleOrder(m.Scored)
	dev := devSample(m.Scored)
	var rocs []Series
	rt := Table{Head: []string{"样本 sample", "N", "坏 bads", "AUC", "KS"}}
	for _, smp := range order {
		pts, auc, ks := roc(m.Scored[smp])
		sr := Series{Name: fmt.Sprintf("%s (AUC %.3f)", smp, auc)}
		for _, pt := range pts {
			sr.X = append(sr.X, pt.FPR)
			sr.Y = append(sr.Y, pt.TPR)
		}
		rocs = append(rocs, thin(sr, 400))
		nb := 0
		for _, o := range m.Scored[smp] {
			if o.Bad {
				nb++
			}
		}
		rt.Rows = append(rt.Rows, []Cell{T(smp), I(int64(len(m.Scored[smp]))), I(int64(nb)), N(auc, 4), N(ks, 4)})
	}
	cv.Table(rt)
	svg, err := LineChartAt("ROC", "false positive rate (goods refused)", "true positive rate (bads refused)", rocs, true, BottomRight)
	cv.ChartErr("ROC 曲线", svg, err)
	for _, smp := range order {
		pts, _, ks := roc(m.Scored[smp])
		bad, good := Series{Name: "cum. bads"}, Series{Name: "cum. goods"}
		for _, pt := range pts[1:] {
			bad.X, bad.Y = append(bad.X, -pt.Cut), append(bad.Y, pt.TPR)
			good.X, good.Y = append(good.X, -pt.Cut), append(good.Y, pt.FPR)
		}
		svg, err := LineChartAt(fmt.Sprintf("KS, %s sample (KS %.3f)", smp, ks), "score", "cumulative share", []Series{thin(bad, 400), thin(good, 400)}, false, TopLeft)
		cv.ChartErr("KS 曲线 "+smp, svg, err)
		if smp == dev || smp == "oot" {
			mid, g, b := Histogram(m.Scored[smp], 25)
			svg, err = LineChart("Score distribution, "+smp+" sample", "score", "share of group", []Series{{Name: "goods", X: mid, Y: g}, {Name: "bads", X: mid, Y: b}}, false)
			cv.ChartErr("好坏客户分数分布 score distribution of goods and bads, "+smp, svg, err)
		}
	}
	return true
}

// gainsSection is the gains table by score decile (metrics.Gains),
// riskiest (lowest-scoring) band first.
func gainsSection(p *Page, m *Model, order []string) {
	gs := p.Add("gains", "增益表 Gains")
	for _, smp := range order {
		risk, bad, _ := columns(m.Scored[smp])
		rows, err := metrics.Gains(risk, bad, 10)
		if err != nil {
			gs.P(smp + ": " + err.Error())
			continue
		}
		gt := Table{Caption: smp, Head: []string{"分组 band", "分数 score", "N", "坏 bads", "坏率 bad rate", "累计坏占比 cum. bads", "累计占比 cum. rows", "提升 lift"}}
		for _, r := range rows {
			gt.Rows = append(gt.Rows, []Cell{I(int64(r.Band)), T(fmt.Sprintf("%.0f – %.0f", -r.Upper, -r.Lower)), I(int64(r.N)), I(int64(r.Bads)), Pct(r.BadRate, 2), Pct(r.CumBadPct, 1), Pct(r.CumPct, 1), N(r.CumLift, 2)})
		}
		gs.Table(gt)
	}
}

// calibrationSection compares mean PD with the observed bad rate by PD
// decile (metrics.Calibrate).
func calibrationSection(p *Page, m *Model, order []string) {
	cs := p.Add("calibration", "校准 Calibration")
	var cal []Series
	var calTables []Table
	for _, smp := range order {
		obs := m.Scored[smp]
		_, bad, pd := columns(obs)
		groups, err := metrics.Calibrate(pd, bad, 10)
		if err != nil || groups == nil {
			continue
		}
		sr := Series{Name: smp}
		ct := Table{Caption: smp, Head: []string{"组 group", "N", "平均PD mean PD", "实际坏率 observed", "分数 score"}}
		for i, g := range groups {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, r := range g.Rows {
				lo, hi = math.Min(lo, obs[r].Score), math.Max(hi, obs[r].Score)
			}
			sr.X, sr.Y = append(sr.X, g.MeanPD), append(sr.Y, g.BadRate)
			ct.Rows = append(ct.Rows, []Cell{I(int64(i + 1)), I(int64(g.N)), Pct(g.MeanPD, 2), Pct(g.BadRate, 2), T(fmt.Sprintf("%.0f – %.0f", lo, hi))})
		}
		cal = append(cal, sr)
		calTables = append(calTables, ct)
	}
	if len(cal) == 0 {
		cs.P("No predicted PDs (scored.csv without pd, and no scaling in model.json); calibration needs them.")
		return
	}
	svg, err := LineChartAt("Calibration: observed bad rate vs mean PD", "mean predicted PD", "observed bad rate", cal, true, TopLeft)
	cs.ChartErr("校准曲线 calibration by PD decile", svg, err)
	cs.Row()
	for _, ct := range calTables {
		cs.Table(ct)
	}
	cs.EndRow()
}

// stabilitySection is the score PSI of each sample and the latest scoring
// run against the development sample, and the characteristics' CSI.
func stabilitySection(p *Page, m *Model, latest *ScoreRun, order []string) {
	ss := p.Add("stability", "稳定性 PSI / CSI")
	dev := devSample(m.Scored)
	devScores := scoresOf(m.Scored[dev])
	edges := metrics.QuantileCuts(devScores, 10)
	if m.FromBands {
		// The band edges of the development sample: exact shares.
		edges = nil
		for i, b := range m.Bands[dev] {
			if i > 0 {
				edges = append(edges, b.Lower)
			}
		}
	}
	pt := Table{Head: []string{"比较 comparison", "N", "PSI", "判断 reading"}}
	dsh := metrics.Shares(devScores, edges)
	psiSeries := []Series{{Name: dev, Y: dsh}}
	add := func(name string, scores []float64) {
		a := metrics.Shares(scores, edges)
		psi, _ := metrics.PSIOfShares(dsh, a) // same bands
		pt.Rows = append(pt.Rows, []Cell{T(dev + " → " + name), I(int64(len(scores))), N(psi, 4), T(psiReading(psi))})
		short := name
		if strings.HasPrefix(name, "latest") {
			short = "latest run"
		}
		psiSeries = append(psiSeries, Series{Name: short, Y: a})
	}
	for _, smp := range order {
		if smp != dev {
			add(smp, scoresOf(m.Scored[smp]))
		}
	}
	if latest != nil {
		add("latest scoring ("+filepath.Base(filepath.Dir(latest.Path))+")", latest.Scores)
		if !math.IsNaN(latest.ScorePSI) {
			pt.Rows = append(pt.Rows, []Cell{T("train → latest scoring, score stage's monitoring (manifest.json)"), I(int64(len(latest.Scores))), N(latest.ScorePSI, 4), T(psiReading(latest.ScorePSI))})
		}
	} else {
		ss.P("No scoring run of this model found (pass --scores); PSI against the latest run is not shown.")
	}
	ss.Table(pt)
	if len(psiSeries) > 1 {
		for i := range psiSeries {
			psiSeries[i].X = make([]float64, len(psiSeries[i].Y))
			for j := range psiSeries[i].X {
				psiSeries[i].X[j] = float64(j + 1)
			}
		}
		svg, err := LineChartAt("Score distribution by development score band", "band (1 = lowest scores)", "share of rows", psiSeries, false, TopLeft)
		ss.ChartErr("按开发样本分数段的分布 score shares by development-sample band: "+strings.Join(bandNames(edges), ", "), svg, err)
	}
	if m.FromBands {
		ss.P("PSI = Σ (actual − expected) · ln(actual / expected) over the development sample's score bands; empty shares are floored at 0.01%. < 0.1 stable, 0.1–0.25 watch, > 0.25 shifted. The performance table's PSI column is training's own figure over score deciles.")
	} else {
		ss.P("PSI = Σ (actual − expected) · ln(actual / expected) over the development sample's score deciles; empty shares are floored at 0.01%. < 0.1 stable, 0.1–0.25 watch, > 0.25 shifted.")
	}
	csiTables(ss, m, latest, order, dev)
}

// csiTables are the characteristics' CSI: training's psi.csv with the
// latest run's, and, where the model directory has per-row bins, each
// sample's against the development sample (metrics.CategoryPSI).
func csiTables(ss *Section, m *Model, latest *ScoreRun, order []string, dev string) {
	if len(m.CSI) > 0 || (latest != nil && latest.CSI != nil) {
		ss.Table(csiTable(m, latest))
	}
	if chars := m.Chars[dev]; len(chars) > 0 {
		ct := Table{Caption: "CSI 特征稳定性 characteristic stability", Head: append([]string{"特征 characteristic"}, nonDev(order, dev)...)}
		for _, v := range sortedKeys(chars) {
			r := []Cell{T(v)}
			for _, smp := range nonDev(order, dev) {
				psi, _, _, _ := metrics.CategoryPSI(chars[v], m.Chars[smp][v])
				r = append(r, N(psi, 4))
			}
			ct.Rows = append(ct.Rows, r)
		}
		ss.Table(ct)
	}
}

// csiTable is psi.csv's CSI by characteristic and sample, with the latest
// scoring run's column; a CSI over 0.1 is shaded.
func csiTable(m *Model, latest *ScoreRun) Table {
	var samples, vars []string
	seen, vseen := map[string]bool{}, map[string]bool{}
	val := map[[2]string]float64{}
	for _, c := range m.CSI {
		if !seen[c.Sample] {
			seen[c.Sample] = true
			samples = append(samples, c.Sample)
		}
		if !vseen[c.Variable] {
			vseen[c.Variable] = true
			vars = append(vars, c.Variable)
		}
		val[[2]string{c.Variable, c.Sample}] = c.PSI
	}
	withLatest := latest != nil && latest.CSI != nil
	if latest != nil {
		for _, v := range sortedKeys(latest.CSI) {
			if !vseen[v] {
				vseen[v] = true
				vars = append(vars, v)
			}
		}
	}
	head := append([]string{"特征 characteristic"}, samples...)
	if withLatest {
		head = append(head, "latest scoring")
	}
	shaded := func(x float64, ok bool) Cell {
		if !ok {
			x = math.NaN()
		}
		c := N(x, 4)
		if x > 0.1 {
			c.Shade = math.Min(1, x/0.25)
		}
		return c
	}
	ct := Table{Caption: "CSI 特征稳定性 characteristic stability (psi.csv and the score run's manifest: bin distribution vs train)", Head: head}
	for _, v := range vars {
		r := []Cell{T(v)}
		for _, smp := range samples {
			x, ok := val[[2]string{v, smp}]
			r = append(r, shaded(x, ok))
		}
		if withLatest {
			x, ok := latest.CSI[v]
			r = append(r, shaded(x, ok))
		}
		ct.Rows = append(ct.Rows, r)
	}
	return ct
}

func nonDev(order []string, dev string) []string {
	var out []string
	for _, s := range order {
		if s != dev {
			out = append(out, s)
		}
	}
	return out
}

func scoresOf(obs []Obs) []float64 {
	out := make([]float64, len(obs))
	for i, o := range obs {
		out[i] = o.Score
	}
	return out
}

func bandNames(edges []float64) []string {
	out := make([]string, len(edges)+1)
	for i := range out {
		switch {
		case len(edges) == 0:
			out[i] = "all"
		case i == 0:
			out[i] = fmt.Sprintf("<%.0f", edges[0])
		case i == len(edges):
			out[i] = fmt.Sprintf(">=%.0f", edges[i-1])
		default:
			out[i] = fmt.Sprintf("%.0f-%.0f", edges[i-1], edges[i])
		}
	}
	return out
}

// thin keeps at most n points of a long curve (evenly spaced, ends kept).
func thin(s Series, n int) Series {
	if len(s.X) <= n {
		return s
	}
	out := Series{Name: s.Name}
	step := float64(len(s.X)-1) / float64(n-1)
	for i := 0; i < n; i++ {
		j := int(math.Round(float64(i) * step))
		out.X, out.Y = append(out.X, s.X[j]), append(out.Y, s.Y[j])
	}
	return out
}

func ivStrength(iv float64) string {
	switch {
	case iv < 0.02:
		return "无 useless"
	case iv < 0.1:
		return "弱 weak"
	case iv < 0.3:
		return "中 medium"
	case iv < 0.5:
		return "强 strong"
	}
	return "过强 suspicious"
}

func psiReading(psi float64) string {
	switch {
	case psi < 0.1:
		return "稳定 stable"
	case psi < 0.25:
		return "关注 watch"
	}
	return "显著偏移 shifted"
}

func fmtP(p float64) string {
	if math.IsNaN(p) {
		return "-"
	}
	if p == 0 {
		return "< 1e-300"
	}
	if p < 1e-4 {
		return fmt.Sprintf("%.2e", p)
	}
	return fmt.Sprintf("%.4f", p)
}

func stars(p float64) string {
	switch {
	case p < 0.001:
		return "***"
	case p < 0.01:
		return "**"
	case p < 0.05:
		return "*"
	}
	return ""
}

// WriteModelReport loads a model directory, builds its report and writes
// it to outDir/model-<name>-<version>.html, returning the path.
func WriteModelReport(modelDir, scoresDir, outDir string, opt Options) (string, error) {
	m, err := LoadModel(modelDir)
	if err != nil {
		return "", err
	}
	latest, err := LoadScoreRun(scoresDir, m.Name, m.Version)
	if err != nil {
		return "", err
	}
	p, err := ModelPage(m, latest)
	if err != nil {
		return "", err
	}
	path := filepath.Join(outDir, fmt.Sprintf("model-%s-%s.html", m.Name, m.Version))
	return path, writePage(p, path, opt)
}

func writePage(p *Page, path string, opt Options) error {
	b, err := p.Render(opt.Version, opt.Generated)
	if err != nil {
		return fmt.Errorf("render %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
