package selection

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// TestCorrMatrixIsPearson checks the blocked cross-product correlation
// matrix against gonum's stat.Correlation pair by pair, over more rows
// than one block, with WoE-like columns of few values, a correlated pair,
// a column far from zero mean and a constant column (correlation 0).
func TestCorrMatrixIsPearson(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	n := 10_001
	cs := make([]Candidate, 5)
	for j := range cs {
		cs[j] = Candidate{Name: string(rune('a' + j)), WoE: make([]float64, n)}
	}
	levels := []float64{-0.8, -0.2, 0.1, 0.5, 1.3}
	for i := range n {
		a := levels[r.IntN(len(levels))]
		cs[0].WoE[i] = a
		cs[1].WoE[i] = a + 0.3*r.NormFloat64()
		cs[2].WoE[i] = 1e3 + levels[r.IntN(2)]
		cs[3].WoE[i] = 0.25
		cs[4].WoE[i] = r.NormFloat64()
	}
	got := corrMatrix(cs)
	for i := range cs {
		for j := range cs {
			want := stat.Correlation(cs[i].WoE, cs[j].WoE, nil)
			switch {
			case i == j:
				want = 1
			case math.IsNaN(want):
				want = 0
			}
			if d := math.Abs(got.At(i, j) - want); d > 1e-12 {
				t.Errorf("corr(%s, %s) = %.15f, stat.Correlation %.15f", cs[i].Name, cs[j].Name, got.At(i, j), want)
			}
		}
	}
	sub := subCorr([]Candidate{cs[4], cs[1]}, cs, got)
	if sub.At(0, 1) != got.At(4, 1) || sub.At(1, 1) != 1 {
		t.Errorf("subCorr took the wrong entries: %v", sub)
	}
}

// TestSelectFewCandidates checks that selection of no candidate or one
// (a tiny file where every characteristic has one bin) returns without
// a correlation matrix to form.
func TestSelectFewCandidates(t *testing.T) {
	y := []float64{0, 1, 0, 1, 0, 0}
	kept, _, err := Select(context.Background(), nil, y, Options{})
	if err != nil || len(kept) != 0 {
		t.Fatalf("no candidates: kept %v, err %v", kept, err)
	}
	one := []Candidate{{Name: "a", IV: 0.5, WoE: []float64{-1, 1, -1, 0.9, -1, 0.5}, PSI: math.NaN()}}
	if _, _, err := Select(context.Background(), one, y, Options{Stepwise: "none", NoSignCheck: true}); err != nil {
		t.Fatalf("one candidate: %v", err)
	}
}
