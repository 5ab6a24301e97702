package binning

import (
	"math"
	"slices"
	"testing"
)

// The prior strength is the beta-binomial moment estimate, worked by hand.
func TestShrinkStrength(t *testing.T) {
	cat := func(n, bad int64) atom { return atom{good: n - bad, bad: bad, count: n} }
	tests := []struct {
		name         string
		atoms        []atom
		wantM, wantP float64
	}{
		// p̄ = 0.2; Σn(r−p̄)² = 1000·(0.01+0+0.01) = 20; binomial part
		// (k−1)p̄(1−p̄) = 0.32; n − Σn²/n = 2000; τ² = 19.68/2000;
		// m = 0.16/τ² − 1.
		{"three rates", []atom{cat(1000, 100), cat(1000, 200), cat(1000, 300)}, 0.16/(19.68/2000) - 1, 0.2},
		// identical rates: no variance beyond the binomial, raw order
		{"no spread", []atom{cat(1000, 100), cat(500, 50), cat(2000, 200)}, 0, 0.1},
		// two categories: too few to estimate a spread
		{"two", []atom{cat(1000, 100), cat(1000, 300)}, 0, 0},
	}
	for _, tc := range tests {
		m, p := shrinkStrength(tc.atoms)
		if math.Abs(m-tc.wantM) > 1e-9 || math.Abs(p-tc.wantP) > 1e-12 {
			t.Errorf("%s: m %v p̄ %v, want %v %v", tc.name, m, p, tc.wantM, tc.wantP)
		}
	}
}

// A two-row category whose raw bad rate (1 in 2) is the highest by chance
// is ordered by its shrunk rate, between the large categories, so it does
// not get the riskiest bin to itself.
func TestCategoricalSmallCategoryShrunk(t *testing.T) {
	col := &Column{Name: "c", Kind: Categorical, Dict: []string{"a", "b", "c", "z"}}
	var y []float64
	add := func(code int32, n, bad int) {
		for i := range n {
			col.Codes = append(col.Codes, code)
			y = append(y, float64(min(1, max(0, bad-i))))
		}
	}
	add(0, 2000, 100) // 5%
	add(1, 2000, 200) // 10%
	add(2, 2000, 400) // 20%
	add(3, 2, 1)      // 50%, by chance
	b, err := Fit(col, y, Options{MaxBins: 4, MinShare: 1e-4})
	if err != nil {
		t.Fatal(err)
	}
	for _, bin := range b.Bins {
		if slices.Contains(bin.Values, "z") && len(bin.Values) == 1 {
			t.Errorf("z has a bin of its own: %+v", b.Bins)
		}
	}
	if last := b.Bins[len(b.Bins)-1]; !slices.Contains(last.Values, "c") {
		t.Errorf("riskiest bin %v, want the one with c", last.Values)
	}
}

// A count with heavy ties: 0 for 96% of rows, 1 for 4% at more than twice
// the bad rate, 2 for a few rows that are nearly all bad. Under MinShare
// 0.05 as a row count the 4% cannot have a bin; read as a precision it
// can (1/112 + 1/688 ≤ (1/B + 1/G)/0.05), while the 2s, with 15 goods,
// are too imprecise to stand alone and join the 1s.
func TestSharePrecision(t *testing.T) {
	col := &Column{Name: "n"}
	var y []float64
	add := func(x float64, n, bad int) {
		for i := range n {
			col.Num = append(col.Num, x)
			y = append(y, float64(min(1, max(0, bad-i))))
		}
	}
	add(0, 19200, 1152)
	add(1, 800, 112)
	add(2, 150, 135)
	tests := []struct {
		precision bool
		want      []float64 // breaks
	}{
		{false, nil},
		{true, []float64{1}},
	}
	for _, tc := range tests {
		b, err := Fit(col, y, Options{MinShare: 0.05, SharePrecision: tc.precision})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(b.Breaks, tc.want) {
			t.Errorf("precision %v: breaks %v, want %v", tc.precision, b.Breaks, tc.want)
		}
	}
}
