package metrics_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"qiandun/training/metrics"
)

// tiedSample draws n risks, higher for bads, rounded so that ties are
// common.
func tiedSample(seed uint64, n int, badRate float64) (risk, bad []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	for range n {
		b, mu := 0.0, 0.0
		if r.Float64() < badRate {
			b, mu = 1, 4
		}
		risk = append(risk, math.Round(mu+4*r.NormFloat64()))
		bad = append(bad, b)
	}
	return risk, bad
}

// TestROC: the curve runs from (0,0) to (1,1), monotone, each point the
// shares of bads and goods at or above its cut counted row by row; its
// trapezoid area is the pairwise AUC and its largest gap the brute-force
// KS.
func TestROC(t *testing.T) {
	for _, tc := range []struct {
		seed uint64
		n    int
		br   float64
	}{{1, 400, 0.2}, {2, 300, 0.5}, {3, 250, 0.05}} {
		s, y := tiedSample(tc.seed, tc.n, tc.br)
		pts, err := metrics.ROC(s, y)
		if err != nil {
			t.Fatal(err)
		}
		var nb, ng float64
		for _, v := range y {
			nb += v
			ng += 1 - v
		}
		var auc, ks float64
		for i, p := range pts {
			if i == 0 {
				if p.FPR != 0 || p.TPR != 0 || !math.IsInf(p.Cut, 1) {
					t.Fatalf("first point %+v", p)
				}
				continue
			}
			var b, g float64
			for k := range s {
				if s[k] >= p.Cut {
					b += y[k]
					g += 1 - y[k]
				}
			}
			if math.Abs(p.TPR-b/nb) > 1e-12 || math.Abs(p.FPR-g/ng) > 1e-12 || p.Cut >= pts[i-1].Cut {
				t.Fatalf("point %d %+v, rows at or above the cut: TPR %v FPR %v", i, p, b/nb, g/ng)
			}
			auc += (p.FPR - pts[i-1].FPR) * (p.TPR + pts[i-1].TPR) / 2
			ks = math.Max(ks, p.TPR-p.FPR)
		}
		if last := pts[len(pts)-1]; last.FPR != 1 || last.TPR != 1 {
			t.Errorf("seed %d: ROC ends at %+v", tc.seed, last)
		}
		if want := bruteAUC(s, y); math.Abs(auc-want) > 1e-12 {
			t.Errorf("seed %d: trapezoid AUC %v, pairwise %v", tc.seed, auc, want)
		}
		if want := bruteKS(s, y); math.Abs(ks-want) > 1e-12 {
			t.Errorf("seed %d: KS %v, brute force %v", tc.seed, ks, want)
		}
	}
	if _, err := metrics.ROC([]float64{1, 2}, []float64{0, 0}); err == nil {
		t.Error("ROC without bads: no error")
	}
}

// TestCalibrate: groups of the true probability match their observed bad
// rates within sampling error, and cover every row with a PD once.
func TestCalibrate(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	n := 5000
	pd, bad := make([]float64, n), make([]float64, n)
	for i := range pd {
		pd[i] = 0.05 + 0.5*float64(i%10)/10
		if r.Float64() < pd[i] {
			bad[i] = 1
		}
	}
	pd[7] = math.NaN()
	groups, err := metrics.Calibrate(pd, bad, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 10 {
		t.Fatalf("%d groups", len(groups))
	}
	var rows []int
	for _, c := range groups {
		se := math.Sqrt(c.MeanPD * (1 - c.MeanPD) / float64(c.N))
		if math.Abs(c.BadRate-c.MeanPD) > 4*se {
			t.Errorf("group of mean PD %.3f: observed %.3f (4 s.e. %.3f)", c.MeanPD, c.BadRate, 4*se)
		}
		rows = append(rows, c.Rows...)
	}
	slices.Sort(rows)
	if len(rows) != n-1 || slices.Contains(rows, 7) || rows[0] != 0 || rows[len(rows)-1] != n-1 {
		t.Errorf("groups hold %d rows, want every row but the NaN one", len(rows))
	}
	if g, err := metrics.Calibrate([]float64{math.NaN()}, []float64{1}, 10); g != nil || err != nil {
		t.Errorf("no PDs: %v, %v, want nil", g, err)
	}
}

// TestQuantileCutsAndShares: deciles of 0..999 are 100..900 and hold a
// tenth each; a constant sample has no cuts.
func TestQuantileCutsAndShares(t *testing.T) {
	xs := make([]float64, 1000)
	for i := range xs {
		xs[i] = float64(i)
	}
	c := metrics.QuantileCuts(xs, 10)
	if len(c) != 9 || c[0] != 100 || c[8] != 900 {
		t.Fatalf("cuts = %v", c)
	}
	for _, s := range metrics.Shares(xs, c) {
		if math.Abs(s-0.1) > 1e-12 {
			t.Fatalf("decile shares not equal: %v", metrics.Shares(xs, c))
		}
	}
	if c := metrics.QuantileCuts([]float64{5, 5, 5}, 10); len(c) != 0 {
		t.Fatalf("constant input: cuts %v, want none", c)
	}
}

// TestPSIOfShares and CategoryPSI against the formula by hand.
func TestPSIOfShares(t *testing.T) {
	for _, tc := range []struct {
		name string
		e, a []float64
		want float64
	}{
		{"identical", []float64{0.5, 0.5}, []float64{0.5, 0.5}, 0},
		{"shift", []float64{0.5, 0.5}, []float64{0.25, 0.75}, (0.25-0.5)*math.Log(0.25/0.5) + (0.75-0.5)*math.Log(0.75/0.5)},
		{"empty band floored", []float64{0.5, 0.5}, []float64{0, 1}, (1e-4-0.5)*math.Log(1e-4/0.5) + (1-0.5)*math.Log(1/0.5)},
	} {
		got, err := metrics.PSIOfShares(tc.e, tc.a)
		if err != nil || math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("%s: PSI %v (%v), want %v", tc.name, got, err, tc.want)
		}
		// PSI over counts is the same number.
		counts := func(s []float64) []float64 {
			out := slices.Clone(s)
			for i := range out {
				out[i] *= 4
			}
			return out
		}
		if got2, _ := metrics.PSI(counts(tc.e), counts(tc.a)); math.Abs(got2-got) > 1e-15 {
			t.Errorf("%s: PSI of counts %v, of shares %v", tc.name, got2, got)
		}
	}
	psi, cats, e, a := metrics.CategoryPSI([]string{"a", "a", "b", "b"}, []string{"a", "b", "b", "b", "c", "c", "c", "c"})
	want := (0.125-0.5)*math.Log(0.125/0.5) + (0.375-0.5)*math.Log(0.375/0.5) + (0.5-1e-4)*math.Log(0.5/1e-4)
	if math.Abs(psi-want) > 1e-12 || !slices.Equal(cats, []string{"a", "b", "c"}) || !slices.Equal(e, []float64{0.5, 0.5, 0}) || !slices.Equal(a, []float64{0.125, 0.375, 0.5}) {
		t.Errorf("CategoryPSI = %v %v %v %v, want %v", psi, cats, e, a, want)
	}
}
