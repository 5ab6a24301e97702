//go:build duckdb_arrow

package train

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"qiandun/training/binning"
)

// TestBoostKernelIsPlainSums checks the boosted trainer's per-round
// kernel against the plain computation, bit for bit, over several
// rounds: the histograms are the row-order sums of y − p and p(1 − p)
// per characteristic and bin, the log odds after a round are the old
// ones plus the change of each applied tree's table at the row's bin,
// and the validation log-likelihood is loglik's.
func TestBoostKernelIsPlainSums(t *testing.T) {
	const n = 6000
	r := rand.New(rand.NewPCG(5, 6))
	y := make([]float64, n)
	cols := []*binning.Column{
		{Name: "a", Kind: binning.Numeric, Num: make([]float64, n)},
		{Name: "b", Kind: binning.Numeric, Num: make([]float64, n)},
		{Name: "c", Kind: binning.Categorical, Codes: make([]int32, n), Dict: []string{"p", "q", "r", "s"}},
	}
	for i := range n {
		a, b := r.NormFloat64(), math.Round(r.Float64()*40)
		if i%13 == 0 {
			a = math.NaN()
		}
		cols[0].Num[i], cols[1].Num[i], cols[2].Codes[i] = a, b, int32(r.IntN(4))
		if r.Float64() < 1/(1+math.Exp(1.5-a+b/40-float64(cols[2].Codes[i])/3)) {
			y[i] = 1
		}
	}
	o := BoostOptions{FineBins: 40, Gate: 0.01}.withDefaults() // a low gate: several trees a round
	st, err := newBooster(context.Background(), cols, make([]int, len(cols)), y, binning.Options{}, o, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.nc != 3 {
		t.Fatalf("%d characteristics binned, want 3", st.nc)
	}
	for round := range 6 {
		fEta := append([]float64(nil), st.fEta...)
		st.histograms()
		for j := range st.nc {
			g, h := make([]float64, len(st.g[j])), make([]float64, len(st.h[j]))
			for i, e := range fEta {
				p := 1 / (1 + math.Exp(-e))
				k := st.fIdx[i*st.nc+j]
				g[k] += st.fy[i] - p
				h[k] += p * (1 - p)
			}
			for k := range g {
				if g[k] != st.g[j][k] || h[k] != st.h[j][k] {
					t.Fatalf("round %d, characteristic %d, bin %d: (%v, %v), plain sums (%v, %v)", round, j, k, st.g[j][k], st.h[j][k], g[k], h[k])
				}
			}
		}
		terms := st.roundTerms(false)
		if len(terms) == 0 {
			t.Fatalf("round %d: no tree", round)
		}
		before := cloneTables(st.m.tables)
		vEta := append([]float64(nil), st.vEta...)
		st.applyTerms(terms)
		// The new log odds: the old ones plus each changed table's change
		// at the row's bin, summed in card order.
		moved := func(idx []uint16, i int) float64 {
			var d float64
			for _, tm := range terms {
				b := idx[i*st.nc+tm.j]
				d += st.m.tables[tm.j][b] - before[tm.j][b]
			}
			return d
		}
		for i := range fEta {
			if want := fEta[i] + moved(st.fIdx, i); math.Abs(st.fEta[i]-want) > 1e-12 {
				t.Fatalf("round %d: fitting row %d log odds %v, want %v", round, i, st.fEta[i], want)
			}
		}
		for i := range vEta {
			if want := vEta[i] + moved(st.vIdx, i); math.Abs(st.vEta[i]-want) > 1e-12 {
				t.Fatalf("round %d: validation row %d log odds %v, want %v", round, i, st.vEta[i], want)
			}
		}
		if round == 0 && len(terms) < 2 {
			t.Errorf("round 0: %d trees applied, want several (each characteristic here carries signal, gate 0.01)", len(terms))
		}
		if got, want := st.valLoglik(), loglik(st.vEta, st.vy); got != want {
			t.Fatalf("round %d: validation log-likelihood %v, loglik %v", round, got, want)
		}
	}
}
