// Package metrics measures how well scores rank and calibrate binary
// outcomes: AUC, Gini, KS, gains and lift by decile, bad rate by score
// band, the Hosmer–Lemeshow test and the population stability index.
//
// Every function is column-oriented: a slice of scores (or PDs) and a
// slice of outcomes (1 = bad, 0 = good), sorted once, O(n log n). Scores
// are taken as "higher = riskier" (pass PDs, or negate scorecard points).
// Ties are handled exactly: tied scores form one group, so AUC is the
// Mann–Whitney statistic with ties counted one half.
package metrics

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// group is a run of tied scores.
type group struct {
	score     float64
	bad, good float64
}

// groups sorts by score ascending and collapses ties.
func groups(score, bad []float64) ([]group, float64, float64, error) {
	if len(score) != len(bad) {
		return nil, 0, 0, fmt.Errorf("metrics: %d scores but %d outcomes", len(score), len(bad))
	}
	idx := make([]int32, len(score))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		sa, sb := score[a], score[b]
		if sa < sb {
			return -1
		}
		if sa > sb {
			return 1
		}
		return 0
	})
	var out []group
	var nb, ng float64
	for k, i := range idx {
		s := score[i]
		if math.IsNaN(s) {
			return nil, 0, 0, fmt.Errorf("metrics: score %d is NaN", i)
		}
		if k == 0 || s != out[len(out)-1].score {
			out = append(out, group{score: s})
		}
		g := &out[len(out)-1]
		if bad[i] == 1 {
			g.bad++
			nb++
		} else {
			g.good++
			ng++
		}
	}
	if nb == 0 || ng == 0 {
		return nil, 0, 0, errors.New("metrics: need both bads and goods")
	}
	return out, nb, ng, nil
}

// AUC returns the area under the ROC curve of score (higher = riskier)
// for outcome bad (1/0): the probability that a random bad scores above a
// random good, ties counting one half.
func AUC(score, bad []float64) (float64, error) {
	gs, nb, ng, err := groups(score, bad)
	if err != nil {
		return 0, err
	}
	return aucOf(gs, nb, ng), nil
}

func aucOf(gs []group, nb, ng float64) float64 {
	// Σ over bads of (#goods with lower score + ½ #goods tied).
	var below, s float64
	for _, g := range gs {
		s += g.bad * (below + g.good/2)
		below += g.good
	}
	return s / (nb * ng)
}

// Gini returns 2·AUC − 1.
func Gini(score, bad []float64) (float64, error) {
	a, err := AUC(score, bad)
	return 2*a - 1, err
}

// KS returns the Kolmogorov–Smirnov statistic: the largest gap between
// the cumulative distributions of bads and goods over score thresholds.
func KS(score, bad []float64) (float64, error) {
	gs, nb, ng, err := groups(score, bad)
	if err != nil {
		return 0, err
	}
	return ksOf(gs, nb, ng), nil
}

func ksOf(gs []group, nb, ng float64) float64 {
	var cb, cg, ks float64
	for _, g := range gs {
		cb += g.bad
		cg += g.good
		ks = math.Max(ks, math.Abs(cb/nb-cg/ng))
	}
	return ks
}

// Summary is the headline discrimination of one sample.
type Summary struct {
	N    int
	Bads int
	AUC  float64
	Gini float64
	KS   float64
}

// Summarize returns N, bads, AUC, Gini and KS (one sort).
func Summarize(score, bad []float64) (Summary, error) {
	gs, nb, ng, err := groups(score, bad)
	if err != nil {
		return Summary{}, err
	}
	a := aucOf(gs, nb, ng)
	return Summary{N: len(score), Bads: int(nb), AUC: a, Gini: 2*a - 1, KS: ksOf(gs, nb, ng)}, nil
}

// Band is one row of a gains table or a score-band table.
type Band struct {
	Band       int     // 1 = riskiest
	Lower      float64 // lowest score in the band
	Upper      float64 // highest score in the band
	N          int
	Bads       int
	BadRate    float64
	CumBadPct  float64 // share of all bads captured up to this band
	CumGoodPct float64
	CumPct     float64 // share of all rows up to this band
	Lift       float64 // band bad rate / overall bad rate
	CumLift    float64
}

// Gains splits the rows into k groups of (near) equal size from the
// riskiest score down (tied scores stay together) and returns the bads,
// capture and lift of each.
func Gains(score, bad []float64, k int) ([]Band, error) {
	gs, nb, ng, err := groups(score, bad)
	if err != nil {
		return nil, err
	}
	return gainsOf(gs, nb, ng, k)
}

// gainsOf is Gains of the tie groups gs (ascending; reversed in place).
func gainsOf(gs []group, nb, ng float64, k int) ([]Band, error) {
	if k <= 0 {
		return nil, fmt.Errorf("metrics: %d bands", k)
	}
	slices.Reverse(gs) // riskiest first
	n := nb + ng
	rate := nb / n
	var out []Band
	cur := Band{Band: 1}
	var seen, cb, cg float64
	flush := func() {
		cur.BadRate = float64(cur.Bads) / float64(cur.N)
		cur.CumBadPct = cb / nb
		cur.CumGoodPct = cg / ng
		cur.CumPct = seen / n
		cur.Lift = cur.BadRate / rate
		cur.CumLift = (cb / seen) / rate
		out = append(out, cur)
	}
	for _, g := range gs {
		if cur.N == 0 {
			cur.Upper = g.score
		}
		cur.N += int(g.bad + g.good)
		cur.Bads += int(g.bad)
		cur.Lower = g.score
		seen += g.bad + g.good
		cb += g.bad
		cg += g.good
		if seen >= float64(len(out)+1)*n/float64(k)-1e-9 {
			flush()
			cur = Band{Band: len(out) + 1}
		}
	}
	if cur.N > 0 {
		flush()
	}
	return out, nil
}

// ByBands returns the bad rate of each score band given its cut points:
// band i holds cuts[i-1] <= score < cuts[i]. Bands are numbered from the
// lowest score.
func ByBands(score, bad []float64, cuts []float64) []Band {
	out := make([]Band, len(cuts)+1)
	for i := range out {
		out[i].Band = i + 1
		out[i].Lower = math.Inf(-1)
		out[i].Upper = math.Inf(1)
		if i > 0 {
			out[i].Lower = cuts[i-1]
		}
		if i < len(cuts) {
			out[i].Upper = cuts[i]
		}
	}
	var nb float64
	for i, s := range score {
		b := sort.Search(len(cuts), func(j int) bool { return s < cuts[j] })
		out[b].N++
		if bad[i] == 1 {
			out[b].Bads++
			nb++
		}
	}
	rate := nb / float64(len(score))
	var cb float64
	for i := range out {
		if out[i].N > 0 {
			out[i].BadRate = float64(out[i].Bads) / float64(out[i].N)
			out[i].Lift = out[i].BadRate / rate
		}
		cb += float64(out[i].Bads)
		if nb > 0 {
			out[i].CumBadPct = cb / nb
		}
	}
	return out
}

// HosmerLemeshow groups rows into g groups by predicted probability and
// returns the chi-square statistic Σ (O−E)²/(E(1−E/n)) and its p-value on
// g−2 degrees of freedom.
func HosmerLemeshow(pd, bad []float64, g int) (chi2, p float64, err error) {
	if len(pd) != len(bad) {
		return 0, 0, fmt.Errorf("metrics: %d predictions but %d outcomes", len(pd), len(bad))
	}
	if g < 3 {
		return 0, 0, fmt.Errorf("metrics: Hosmer–Lemeshow needs at least 3 groups, got %d", g)
	}
	idx := make([]int32, len(pd))
	for i := range idx {
		idx[i] = int32(i)
	}
	sort.SliceStable(idx, func(a, b int) bool { return pd[idx[a]] < pd[idx[b]] })
	return hlOf(pd, bad, idx, g)
}

// hlOf is HosmerLemeshow with the rows in order idx (by pd, stably).
func hlOf(pd, bad []float64, idx []int32, g int) (chi2, p float64, err error) {
	n := len(pd)
	used := 0
	for k := 0; k < g; k++ {
		lo, hi := k*n/g, (k+1)*n/g
		if hi <= lo {
			continue
		}
		var o, e float64
		for _, i := range idx[lo:hi] {
			o += bad[i]
			e += pd[i]
		}
		m := float64(hi - lo)
		if v := e * (1 - e/m); v > 0 {
			chi2 += (o - e) * (o - e) / v
			used++
		}
	}
	if used < 3 {
		return chi2, math.NaN(), errors.New("metrics: too few non-empty Hosmer–Lemeshow groups")
	}
	p = distuv.ChiSquared{K: float64(used - 2)}.Survival(chi2)
	return chi2, p, nil
}

// PSIEpsilon floors an empty share in PSI so that it stays finite.
const PSIEpsilon = 1e-4

// PSI returns the population stability index between expected and actual
// counts over the same bins: Σ (a−e)·ln(a/e) of the shares, with empty
// shares floored at PSIEpsilon.
func PSI(expected, actual []float64) (float64, error) {
	if len(expected) != len(actual) {
		return 0, fmt.Errorf("metrics: PSI over %d and %d bins", len(expected), len(actual))
	}
	var te, ta float64
	for i := range expected {
		te += expected[i]
		ta += actual[i]
	}
	if te == 0 || ta == 0 {
		return 0, errors.New("metrics: PSI of an empty sample")
	}
	psi := 0.0
	for i := range expected {
		e := math.Max(expected[i]/te, PSIEpsilon)
		a := math.Max(actual[i]/ta, PSIEpsilon)
		psi += (a - e) * math.Log(a/e)
	}
	return psi, nil
}

// ScorePSI bins both samples of scores at the expected sample's deciles
// and returns their PSI.
func ScorePSI(expected, actual []float64, k int) (float64, error) {
	if len(expected) == 0 || len(actual) == 0 {
		return 0, errors.New("metrics: PSI of an empty sample")
	}
	order := argsort(expected) // radix: a third of slices.Sort's time on 700,000 scores
	var cuts []float64
	for i := 1; i < k; i++ {
		c := expected[order[i*len(order)/k]]
		if len(cuts) == 0 || c > cuts[len(cuts)-1] {
			cuts = append(cuts, c)
		}
	}
	count := func(xs []float64) []float64 {
		out := make([]float64, len(cuts)+1)
		for _, x := range xs {
			out[sort.Search(len(cuts), func(j int) bool { return x < cuts[j] })]++
		}
		return out
	}
	return PSI(count(expected), count(actual))
}
