package report

import (
	"math"
	"sort"
)

// Obs is one scored, labelled row: a higher score means lower risk.
type Obs struct {
	Score float64
	Bad   bool
	PD    float64 // NaN when unknown
}

// ROCPoint is one point of the ROC curve: the shares of bads (TPR) and
// goods (FPR) with a score at or below a cut-off.
type ROCPoint struct{ Cut, FPR, TPR float64 }

// ROC returns the ROC curve from (0,0) to (1,1), refusing low scores
// first, with tied scores taken together; AUC by the trapezoid rule
// (equal to the Mann-Whitney probability that a bad scores below a good,
// ties counting one half); KS the largest gap TPR - FPR.
func ROC(obs []Obs) (pts []ROCPoint, auc, ks float64) {
	s := sortedByScore(obs)
	var nb, ng float64
	for _, o := range s {
		if o.Bad {
			nb++
		} else {
			ng++
		}
	}
	pts = []ROCPoint{{Cut: math.Inf(-1)}}
	if nb == 0 || ng == 0 {
		return pts, math.NaN(), math.NaN()
	}
	var cb, cg float64
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j].Score == s[i].Score {
			if s[j].Bad {
				cb++
			} else {
				cg++
			}
			j++
		}
		p := ROCPoint{Cut: s[i].Score, FPR: cg / ng, TPR: cb / nb}
		last := pts[len(pts)-1]
		auc += (p.FPR - last.FPR) * (p.TPR + last.TPR) / 2
		ks = math.Max(ks, p.TPR-p.FPR)
		pts = append(pts, p)
		i = j
	}
	return pts, auc, ks
}

func sortedByScore(obs []Obs) []Obs {
	s := append([]Obs(nil), obs...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Score < s[j].Score })
	return s
}

// GainsRow is one score band of the gains table, riskiest band first.
type GainsRow struct {
	Band               int
	MinScore, MaxScore float64
	N, Bads            int
	BadRate            float64
	CumBadShare        float64 // share of all bads in this and riskier bands
	CumShare           float64 // share of all rows in this and riskier bands
	Lift               float64 // CumBadShare / CumShare
}

// Gains splits the rows into k bands of (nearly) equal size by score,
// lowest (riskiest) first; tied scores stay in one band.
func Gains(obs []Obs, k int) []GainsRow {
	s := sortedByScore(obs)
	n := len(s)
	if n == 0 || k <= 0 {
		return nil
	}
	totalBad := 0
	for _, o := range s {
		if o.Bad {
			totalBad++
		}
	}
	var rows []GainsRow
	cumBad, cum := 0, 0
	for i := 0; i < n; {
		band := len(rows)
		end := (band + 1) * n / k
		if end <= i {
			end = i + 1
		}
		for end < n && s[end].Score == s[end-1].Score {
			end++
		}
		r := GainsRow{Band: band + 1, MinScore: s[i].Score, MaxScore: s[end-1].Score, N: end - i}
		for _, o := range s[i:end] {
			if o.Bad {
				r.Bads++
			}
		}
		cumBad += r.Bads
		cum += r.N
		r.BadRate = float64(r.Bads) / float64(r.N)
		r.CumShare = float64(cum) / float64(n)
		if totalBad > 0 {
			r.CumBadShare = float64(cumBad) / float64(totalBad)
		}
		r.Lift = r.CumBadShare / r.CumShare
		rows = append(rows, r)
		i = end
	}
	return rows
}

// CalRow is one calibration group: mean predicted PD and observed bad rate.
type CalRow struct {
	N                  int
	MeanPD, BadRate    float64
	MinScore, MaxScore float64
}

// Calibration groups rows with a known PD into k groups by PD and
// compares mean PD with the observed bad rate. It returns nil when no
// row has a PD.
func Calibration(obs []Obs, k int) []CalRow {
	var s []Obs
	for _, o := range obs {
		if !math.IsNaN(o.PD) {
			s = append(s, o)
		}
	}
	if len(s) == 0 || k <= 0 {
		return nil
	}
	sort.SliceStable(s, func(i, j int) bool { return s[i].PD < s[j].PD })
	var out []CalRow
	n := len(s)
	for g := 0; g < k; g++ {
		lo, hi := g*n/k, (g+1)*n/k
		if hi <= lo {
			continue
		}
		var r CalRow
		r.MinScore, r.MaxScore = math.Inf(1), math.Inf(-1)
		bads := 0
		for _, o := range s[lo:hi] {
			r.MeanPD += o.PD
			if o.Bad {
				bads++
			}
			r.MinScore, r.MaxScore = math.Min(r.MinScore, o.Score), math.Max(r.MaxScore, o.Score)
		}
		r.N = hi - lo
		r.MeanPD /= float64(r.N)
		r.BadRate = float64(bads) / float64(r.N)
		out = append(out, r)
	}
	return out
}

// psiFloor replaces an empty share in PSI so that ln stays finite; it is
// the usual 0.0001 (0.01%).
const psiFloor = 1e-4

// PSI is the population stability index of actual against expected over
// the bins defined by edges (bin i is [edges[i-1], edges[i]), with open
// ends): sum (a_i - e_i) ln(a_i / e_i), empty shares floored at 0.0001.
// It also returns the per-bin shares.
func PSI(expected, actual []float64, edges []float64) (psi float64, e, a []float64) {
	e, a = shares(expected, edges), shares(actual, edges)
	for i := range e {
		ei, ai := math.Max(e[i], psiFloor), math.Max(a[i], psiFloor)
		psi += (ai - ei) * math.Log(ai/ei)
	}
	return psi, e, a
}

func shares(xs, edges []float64) []float64 {
	out := make([]float64, len(edges)+1)
	if len(xs) == 0 {
		return out
	}
	for _, x := range xs {
		out[sort.Search(len(edges), func(i int) bool { return edges[i] > x })]++
	}
	for i := range out {
		out[i] /= float64(len(xs))
	}
	return out
}

// QuantileEdges returns up to k-1 distinct interior cut points splitting
// xs into k groups of nearly equal size.
func QuantileEdges(xs []float64, k int) []float64 {
	if len(xs) == 0 || k < 2 {
		return nil
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	var edges []float64
	for g := 1; g < k; g++ {
		v := s[g*len(s)/k]
		if v > s[0] && (len(edges) == 0 || v > edges[len(edges)-1]) {
			edges = append(edges, v)
		}
	}
	return edges
}

// CategoryPSI is PSI over categories (bins named by label): CSI of a
// characteristic when the labels are its bins.
func CategoryPSI(expected, actual []string) (psi float64, cats []string, e, a []float64) {
	count := func(xs []string) map[string]float64 {
		m := map[string]float64{}
		for _, x := range xs {
			m[x]++
		}
		for k := range m {
			m[k] /= float64(len(xs))
		}
		return m
	}
	me, ma := count(expected), count(actual)
	seen := map[string]bool{}
	for _, m := range []map[string]float64{me, ma} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				cats = append(cats, k)
			}
		}
	}
	sort.Strings(cats)
	for _, c := range cats {
		ei, ai := math.Max(me[c], psiFloor), math.Max(ma[c], psiFloor)
		psi += (ai - ei) * math.Log(ai/ei)
		e, a = append(e, me[c]), append(a, ma[c])
	}
	return psi, cats, e, a
}

// Histogram returns the shares of goods and bads in k equal-width score
// bins over the range of all rows, with the bin mid-points.
func Histogram(obs []Obs, k int) (mid, good, bad []float64) {
	if len(obs) == 0 || k <= 0 {
		return nil, nil, nil
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, o := range obs {
		lo, hi = math.Min(lo, o.Score), math.Max(hi, o.Score)
	}
	if hi == lo {
		hi = lo + 1
	}
	w := (hi - lo) / float64(k)
	good, bad, mid = make([]float64, k), make([]float64, k), make([]float64, k)
	var ng, nb float64
	for _, o := range obs {
		i := int((o.Score - lo) / w)
		if i >= k {
			i = k - 1
		}
		if o.Bad {
			bad[i]++
			nb++
		} else {
			good[i]++
			ng++
		}
	}
	for i := range mid {
		mid[i] = lo + (float64(i)+0.5)*w
		if ng > 0 {
			good[i] /= ng
		}
		if nb > 0 {
			bad[i] /= nb
		}
	}
	return mid, good, bad
}
