package selection

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"qiandun/training/logit"
)

func cvSynth(n int, seed uint64) ([]Candidate, []float64) {
	r := rand.New(rand.NewPCG(seed, 3))
	names := []string{"x1", "x2", "noise1", "noise2", "noise3"}
	x := make([][]float64, len(names))
	for j := range x {
		x[j] = make([]float64, n)
	}
	y := make([]float64, n)
	for i := range n {
		for j := range x {
			x[j][i] = r.NormFloat64()
		}
		if r.Float64() < 1/(1+math.Exp(-(-1.5+0.8*x[0][i]+0.3*x[1][i]))) {
			y[i] = 1
		}
	}
	cs := make([]Candidate, len(names))
	for j, nm := range names {
		cs[j] = Candidate{Name: nm, IV: 0.1, WoE: x[j], PSI: math.NaN()}
	}
	return cs, y
}

func TestStepwiseCVKeepsSignal(t *testing.T) {
	cs, y := cvSynth(4000, 1)
	kept, dropped, err := StepwiseCV(context.Background(), cs, y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range kept {
		got = append(got, c.Name)
	}
	if !slices.Contains(got, "x1") || !slices.Contains(got, "x2") {
		t.Errorf("kept %v, want x1 and x2", got)
	}
	if len(kept)+len(dropped) != len(cs) {
		t.Errorf("%d kept + %d dropped of %d", len(kept), len(dropped), len(cs))
	}
	for _, d := range dropped {
		if !strings.HasPrefix(d.Reason, "stepwise cv") {
			t.Errorf("%s: reason %q", d.Variable, d.Reason)
		}
	}
	// Select's default stepwise is cv, followed by the sign check, which
	// may only remove (a noise column's negative coefficient).
	kept2, _, err := Select(context.Background(), cs, y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got2 []string
	for _, c := range kept2 {
		got2 = append(got2, c.Name)
		if !slices.Contains(got, c.Name) {
			t.Errorf("Select kept %s, which StepwiseCV did not", c.Name)
		}
	}
	if !slices.Contains(got2, "x1") || !slices.Contains(got2, "x2") {
		t.Errorf("Select kept %v, want x1 and x2", got2)
	}
}

// The score statistic from one fit is, for a modest effect on many rows,
// the likelihood-ratio statistic of two fits to within a few percent (the
// two are asymptotically equal under local alternatives).
func TestScoreStatsMatchLikelihoodRatio(t *testing.T) {
	cs, y := cvSynth(20000, 2)
	ctx := context.Background()
	x := mat.NewDense(len(y), len(cs)+1, nil)
	for i := range y {
		x.Set(i, 0, 1)
		for j, c := range cs {
			x.Set(i, j+1, c.WoE[i])
		}
	}
	base, err := logit.Fit(ctx, [][]float64{cs[0].WoE}, y, logit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stats := (&cvEval{x: x, y: y}).scoreStats([]int{0}, base.Coef)
	if !math.IsNaN(stats[0]) {
		t.Errorf("in-model column has a score statistic %v", stats[0])
	}
	for j := 1; j < len(cs); j++ {
		full, err := logit.Fit(ctx, [][]float64{cs[0].WoE, cs[j].WoE}, y, logit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		lr := 2 * (full.LogLik - base.LogLik)
		if d := math.Abs(stats[j] - lr); d > 0.05*lr+0.05 {
			t.Errorf("%s: score %.4f, LR %.4f", cs[j].Name, stats[j], lr)
		}
	}
	// x2 (a true effect) ranks above every noise column.
	for j := 2; j < len(cs); j++ {
		if stats[j] >= stats[1] {
			t.Errorf("%s score %.3f >= x2's %.3f", cs[j].Name, stats[j], stats[1])
		}
	}
}

func BenchmarkStepwiseCV(b *testing.B) {
	cs, y := cvSynth(100_000, 3)
	for b.Loop() {
		if _, _, err := StepwiseCV(context.Background(), cs, y, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// A noise characteristic with many bins whose WoE was fitted on the same
// rows looks predictive in-sample: judged on that WoE it enters every
// time; coded out of fold (Candidate.Bins) it enters far less often (the
// out-of-fold coding removes the held-out rows' own outcomes from their
// values; what is left is chance).
func TestStepwiseCVOutOfFoldWoE(t *testing.T) {
	cs, y := cvSynth(3000, 4)
	const nb, draws = 60, 8
	inOOF, inPlain := 0, 0
	for d := range uint64(draws) {
		r := rand.New(rand.NewPCG(9, d+1))
		bins := make([]int32, len(y))
		var good, bad [nb]float64
		for i := range bins {
			bins[i] = int32(r.IntN(nb))
			if y[i] == 1 {
				bad[bins[i]]++
			} else {
				good[bins[i]]++
			}
		}
		var gt, bt float64
		for v := range nb {
			gt += good[v]
			bt += bad[v]
		}
		woe := make([]float64, len(y))
		for i, b := range bins {
			woe[i] = math.Log(((bad[b] + 0.5) / bt) / ((good[b] + 0.5) / gt))
		}
		for _, oof := range []bool{true, false} {
			noisy := Candidate{Name: "noise_bins", IV: 0.1, WoE: woe, PSI: math.NaN()}
			if oof {
				noisy.Bins = bins
			}
			kept, _, err := StepwiseCV(context.Background(), []Candidate{cs[0], noisy}, y, Options{CVRepeats: 1})
			if err != nil {
				t.Fatal(err)
			}
			if kept[0].Name != "x1" {
				t.Errorf("x1 not kept first: %v", kept)
			}
			if len(kept) == 2 {
				if oof {
					inOOF++
				} else {
					inPlain++
				}
			}
		}
	}
	t.Logf("noise entered %d of %d times out of fold, %d in-sample", inOOF, draws, inPlain)
	if inPlain != draws || inOOF > draws/2 {
		t.Errorf("noise entered %d of %d times out of fold, %d in-sample; want at most half, and all", inOOF, draws, inPlain)
	}
}

// Many weak characteristics on few rows want a ridge penalty; two strong
// ones on many rows do not.
func TestChooseL2(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	weak := func(n, p int, beta float64) ([]Candidate, []float64) {
		cs := make([]Candidate, p)
		for j := range cs {
			cs[j] = Candidate{Name: fmt.Sprint("x", j), WoE: make([]float64, n), PSI: math.NaN()}
		}
		y := make([]float64, n)
		for i := range n {
			eta := -1.5
			for j := range cs {
				v := r.NormFloat64()
				cs[j].WoE[i] = v
				eta += beta * v
			}
			if r.Float64() < 1/(1+math.Exp(-eta)) {
				y[i] = 1
			}
		}
		return cs, y
	}
	cs, y := weak(300, 40, 0.05)
	l2, err := ChooseL2(context.Background(), cs, y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if l2 < 3 {
		t.Errorf("40 weak characteristics on 300 rows: l2 %v, want at least 3", l2)
	}
	cs, y = weak(20000, 2, 1)
	if l2, err = ChooseL2(context.Background(), cs, y, Options{}); err != nil {
		t.Fatal(err)
	}
	if l2 > 3 {
		t.Errorf("2 strong characteristics on 20,000 rows: l2 %v, want at most 3", l2)
	}
}
