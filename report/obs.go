package report

import (
	"math"

	"qiandun/training/metrics"
)

// Obs is one scored, labelled row: a higher score means lower risk.
type Obs struct {
	Score float64
	Bad   bool
	PD    float64 // NaN when unknown
}

// columns returns obs as training/metrics takes them: risk (the negated
// score: metrics ranks higher as riskier), bad (1/0) and PD.
func columns(obs []Obs) (risk, bad, pd []float64) {
	risk, bad, pd = make([]float64, len(obs)), make([]float64, len(obs)), make([]float64, len(obs))
	for i, o := range obs {
		risk[i], pd[i] = -o.Score, o.PD
		if o.Bad {
			bad[i] = 1
		}
	}
	return risk, bad, pd
}

// roc returns the ROC curve of obs (metrics.ROC: the lowest scores refused
// first; a point's Cut is the negated score) with AUC and KS, NaN without
// both bads and goods.
func roc(obs []Obs) (pts []metrics.ROCPoint, auc, ks float64) {
	risk, bad, _ := columns(obs)
	pts, err := metrics.ROC(risk, bad)
	if err != nil {
		return pts, math.NaN(), math.NaN()
	}
	s, err := metrics.Summarize(risk, bad)
	if err != nil {
		return pts, math.NaN(), math.NaN()
	}
	return pts, s.AUC, s.KS
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
