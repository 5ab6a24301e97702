package binning

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFoldCountsLogLikIsCVLogLik checks that the cross-validated
// log-likelihood from counts per fold (what ChooseCV uses) is CVLogLik's,
// which bins each fold's complement row by row, for numeric columns
// (ties, −0, missing, special values, a special absent from some folds)
// and categorical ones (null, empty value, rare categories), under several
// searches and merge options.
func TestFoldCountsLogLikIsCVLogLik(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	n := 4000
	y := make([]float64, n)
	num := make([]float64, n)
	codes := make([]int32, n)
	dict := []string{"a", "b", "", "c", "d", "rare", "e"}
	for i := range n {
		x := math.Round(r.NormFloat64()*20) / 4 // many ties
		switch u := r.Float64(); {
		case u < 0.05:
			x = math.NaN()
		case u < 0.08:
			x = -1 // special
		case u < 0.0815:
			x = -99 // a rare special
		case u < 0.09:
			x = math.Copysign(0, -1)
		}
		num[i] = x
		c := int32(r.IntN(len(dict)))
		if c == 5 && r.Float64() < 0.9 {
			c = 0
		}
		if r.Float64() < 0.04 {
			c = -1
		}
		codes[i] = c
		p := 0.1 + 0.2*float64(c+1)/float64(len(dict))
		if !math.IsNaN(x) && x > 2 {
			p += 0.2
		}
		if r.Float64() < p {
			y[i] = 1
		}
	}
	cols := []*Column{
		{Name: "num", Kind: Numeric, Num: num},
		{Name: "cat", Kind: Categorical, Codes: codes, Dict: dict},
	}
	opts := []Options{
		{},
		{Specials: []float64{-1, -99}},
		{Specials: []float64{-1, -99}, MergeSpecial: true, MergeMissing: true, MaxBins: 8, MinShare: 0.02},
		{Method: Tree, MaxBins: 4},
		{Method: ChiMerge, SharePrecision: true},
		{Monotonic: None, MaxBins: 10, MinShare: 0.01},
	}
	folds := Folds(y, 5, 1)
	for _, col := range cols {
		for k, o := range opts {
			o = o.WithDefaults()
			want, werr := CVLogLik(col, y, o, nil, folds)
			fc := newFoldCounts(col, y, folds, 5, o.Specials)
			got, gerr := fc.logLik(col.Name, o, fc.atomColumn(), fc.outsides())
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("%s options %d: errors differ: %v vs %v", col.Name, k, werr, gerr)
			}
			if math.Abs(got-want) > 1e-9*math.Abs(want) {
				t.Errorf("%s options %d: from counts %.10f, row by row %.10f", col.Name, k, got, want)
			}
		}
	}
}
