package metrics

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// ROCPoint is one point of the ROC curve: the shares of bads (TPR) and of
// goods (FPR) with a score at or above Cut, refused riskiest first.
type ROCPoint struct{ Cut, FPR, TPR float64 }

// ROC returns the ROC curve from (0,0) to (1,1), refusing the riskiest
// (highest) scores first with tied scores taken together, one point per
// distinct score (Cut, from the highest down; the first point, before any
// refusal, has Cut +Inf). The area under it by the trapezoid rule is AUC
// and its largest TPR − FPR is KS. With no bads or no goods it returns the
// first point and an error.
func ROC(score, bad []float64) ([]ROCPoint, error) {
	gs, nb, ng, err := groups(score, bad)
	pts := []ROCPoint{{Cut: math.Inf(1)}}
	if err != nil {
		return pts, err
	}
	var cb, cg float64
	for i := len(gs) - 1; i >= 0; i-- {
		cb += gs[i].bad
		cg += gs[i].good
		pts = append(pts, ROCPoint{Cut: gs[i].score, FPR: cg / ng, TPR: cb / nb})
	}
	return pts, nil
}

// Calibration is one group of rows by predicted PD (Calibrate).
type Calibration struct {
	N       int
	MeanPD  float64
	BadRate float64
	Rows    []int // the group's rows (indices into the inputs), by PD
}

// Calibrate sorts the rows by predicted PD (stably) and cuts them into g
// groups of ⌊n/g⌋ or ⌈n/g⌉ rows, the groups of the Hosmer–Lemeshow test,
// returning each group's mean PD and observed bad rate. Rows whose PD is
// NaN are left out; with none left it returns nil.
func Calibrate(pd, bad []float64, g int) ([]Calibration, error) {
	if len(pd) != len(bad) {
		return nil, fmt.Errorf("metrics: %d predictions but %d outcomes", len(pd), len(bad))
	}
	if g <= 0 {
		return nil, fmt.Errorf("metrics: %d groups", g)
	}
	var idx []int
	for i, p := range pd {
		if !math.IsNaN(p) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, nil
	}
	sort.SliceStable(idx, func(a, b int) bool { return pd[idx[a]] < pd[idx[b]] })
	var out []Calibration
	n := len(idx)
	for k := range g {
		lo, hi := k*n/g, (k+1)*n/g
		if hi <= lo {
			continue
		}
		c := Calibration{N: hi - lo, Rows: idx[lo:hi]}
		var bads float64
		for _, i := range c.Rows {
			c.MeanPD += pd[i]
			bads += bad[i]
		}
		c.MeanPD /= float64(c.N)
		c.BadRate = bads / float64(c.N)
		out = append(out, c)
	}
	return out, nil
}

// QuantileCuts returns up to k−1 distinct interior cut points splitting xs
// into k groups of nearly equal size: the values at ranks i·n/k, keeping
// none at the minimum (which would only open an empty band below it).
func QuantileCuts(xs []float64, k int) []float64 {
	if len(xs) == 0 || k < 2 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	var cuts []float64
	for g := 1; g < k; g++ {
		v := s[g*len(s)/k]
		if v > s[0] && (len(cuts) == 0 || v > cuts[len(cuts)-1]) {
			cuts = append(cuts, v)
		}
	}
	return cuts
}

// Shares returns the share of xs in each band of cuts: band i holds
// cuts[i−1] ≤ x < cuts[i], with open ends (all zero for no xs).
func Shares(xs, cuts []float64) []float64 {
	out := make([]float64, len(cuts)+1)
	if len(xs) == 0 {
		return out
	}
	for _, x := range xs {
		out[sort.Search(len(cuts), func(j int) bool { return x < cuts[j] })]++
	}
	for i := range out {
		out[i] /= float64(len(xs))
	}
	return out
}

// PSIOfShares is the population stability index of two share vectors
// over the same bands, Σ (a−e)·ln(a/e), each share floored at PSIEpsilon
// (so an empty band stays finite; PSI is this over counts).
func PSIOfShares(expected, actual []float64) (float64, error) {
	if len(expected) != len(actual) {
		return 0, fmt.Errorf("metrics: PSI over %d and %d bins", len(expected), len(actual))
	}
	psi := 0.0
	for i := range expected {
		e := math.Max(expected[i], PSIEpsilon)
		a := math.Max(actual[i], PSIEpsilon)
		psi += (a - e) * math.Log(a/e)
	}
	return psi, nil
}

// CategoryPSI is the PSI of two samples of category labels (a
// characteristic's bins: its CSI) over the union of their labels, sorted;
// it returns the labels and both samples' shares. An empty sample has
// every share 0 (floored as in PSIOfShares).
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
	for _, m := range []map[string]float64{me, ma} {
		for k := range m {
			if !slices.Contains(cats, k) {
				cats = append(cats, k)
			}
		}
	}
	sort.Strings(cats)
	for _, c := range cats {
		e, a = append(e, me[c]), append(a, ma[c])
	}
	psi, _ = PSIOfShares(e, a) // same length by construction
	return psi, cats, e, a
}
