package binning

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Choice is one setting of the number and size of bins.
type Choice struct {
	MaxBins  int
	MinShare float64
}

// Choices returns the settings ChooseCV compares around o's: o's own, one
// coarser and three finer (more, smaller bins).
func Choices(o Options) []Choice {
	o = o.WithDefaults()
	return []Choice{
		{o.MaxBins, o.MinShare},
		{max(2, o.MaxBins-2), o.MinShare * 1.6},
		{o.MaxBins + 2, o.MinShare * 0.6},
		{o.MaxBins + 4, o.MinShare * 0.4},
		{o.MaxBins + 6, o.MinShare * 0.2},
	}
}

// Take returns the rows idx of c (sharing the dictionary).
func (c *Column) Take(idx []int) *Column {
	o := &Column{Name: c.Name, Kind: c.Kind, Dict: c.Dict}
	if c.Kind == Categorical {
		o.Codes = make([]int32, len(idx))
		for k, i := range idx {
			o.Codes[k] = c.Codes[i]
		}
		return o
	}
	o.Num = make([]float64, len(idx))
	for k, i := range idx {
		o.Num[k] = c.Num[i]
	}
	return o
}

// Folds assigns the rows of y to k folds, stratified by class, by a seeded
// shuffle.
func Folds(y []float64, k int, seed uint64) []int { return StratifiedFolds(y, k, seed, 0xb1a5) }

// StratifiedFolds assigns the rows of y to k folds, stratified by class,
// by a shuffle seeded with seed on PCG stream stream: fold sizes and bad
// rates are as equal as they can be. Callers that need fold assignments
// independent of binning's pass their own stream.
func StratifiedFolds(y []float64, k int, seed, stream uint64) []int {
	r := rand.New(rand.NewPCG(seed, stream))
	f := make([]int, len(y))
	idx := make([]int, 0, len(y)) // each class's rows in turn
	for _, cls := range []float64{0, 1} {
		idx = idx[:0]
		for i, v := range y {
			if v == cls {
				idx = append(idx, i)
			}
		}
		r.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for t, i := range idx {
			f[i] = t % k
		}
	}
	return f
}

// CVLogLik is the cross-validated log-likelihood of col's bins under o:
// for each fold, bins searched on the other folds, and each held-out row
// predicted by its bin's log odds (the other folds' log odds plus the
// bin's WoE, the one-characteristic scorecard).
func CVLogLik(col *Column, y []float64, o Options, spec *Spec, folds []int) (float64, error) {
	k := 0
	for _, f := range folds {
		k = max(k, f+1)
	}
	var total float64
	for f := range k {
		var tr, te []int
		for i, v := range folds {
			if v == f {
				te = append(te, i)
			} else {
				tr = append(tr, i)
			}
		}
		ty := make([]float64, len(tr))
		var bads float64
		for t, i := range tr {
			ty[t] = y[i]
			bads += y[i]
		}
		b, err := fit(col.Take(tr), ty, o, spec)
		if err != nil {
			return math.Inf(-1), err
		}
		prior := math.Log(bads / (float64(len(tr)) - bads))
		w, _ := b.WoE(col.Take(te))
		for t, i := range te {
			eta := prior + w[t]
			if y[i] == 1 {
				total -= softplus(-eta)
			} else {
				total -= softplus(eta)
			}
		}
	}
	return total, nil
}

// ChooseCV returns, of the choices, the one with the fewest bins whose
// cross-validated log-likelihood (CVLogLik) on col is within one unit of
// the highest: a finer binning must buy at least that much held-out
// likelihood (as AIC asks of a parameter).
// Above maxRows rows it decides on an evenly strided subsample of about
// maxRows rows.
func ChooseCV(col *Column, y []float64, o Options, spec *Spec, choices []Choice, k int, seed uint64, maxRows int) (Choice, error) {
	if len(choices) == 0 {
		return Choice{}, fmt.Errorf("binning %s: no choices", col.Name)
	}
	n := len(y)
	if maxRows > 0 && n > maxRows {
		stride := (n + maxRows - 1) / maxRows
		idx := make([]int, 0, (n+stride-1)/stride)
		for i := 0; i < n; i += stride {
			idx = append(idx, i)
		}
		sy := make([]float64, len(idx))
		for t, i := range idx {
			sy[t] = y[i]
		}
		col, y = col.Take(idx), sy
	}
	folds := Folds(y, k, seed)
	// From the counts per fold (one sort of the column) when no spec
	// fixes the bins: the same likelihoods as CVLogLik's.
	var fc *foldCounts
	var ac *Column
	var outs []*outside
	if spec == nil {
		nf := 0
		for _, f := range folds {
			nf = max(nf, f+1)
		}
		fc = newFoldCounts(col, y, folds, nf, o.WithDefaults().Specials)
		ac, outs = fc.atomColumn(), fc.outsides()
	}
	lls := make([]float64, len(choices))
	bestLL := math.Inf(-1)
	for t, c := range choices {
		oc := o
		oc.MaxBins, oc.MinShare = c.MaxBins, c.MinShare
		var ll float64
		var err error
		if fc != nil {
			ll, err = fc.logLik(col.Name, oc, ac, outs)
		} else {
			ll, err = CVLogLik(col, y, oc, spec, folds)
		}
		if err != nil {
			ll = math.Inf(-1)
		}
		lls[t] = ll
		bestLL = math.Max(bestLL, ll)
	}
	if math.IsInf(bestLL, -1) {
		return choices[0], nil
	}
	best := -1
	for t, c := range choices {
		if lls[t] >= bestLL-1 && (best < 0 || c.MaxBins < choices[best].MaxBins) {
			best = t
		}
	}
	return choices[best], nil
}

// softplus is ln(1 + e^x) without overflow.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}
