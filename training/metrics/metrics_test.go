package metrics_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"qiandun/training/metrics"
)

// bruteAUC counts pairs: P(score_bad > score_good) + ½ P(tie).
func bruteAUC(s, y []float64) float64 {
	var num, den float64
	for i := range s {
		for j := range s {
			if y[i] == 1 && y[j] == 0 {
				den++
				switch {
				case s[i] > s[j]:
					num++
				case s[i] == s[j]:
					num += 0.5
				}
			}
		}
	}
	return num / den
}

// bruteKS scans every threshold.
func bruteKS(s, y []float64) float64 {
	var nb, ng float64
	for _, v := range y {
		if v == 1 {
			nb++
		} else {
			ng++
		}
	}
	ks := 0.0
	for _, t := range s {
		var b, g float64
		for i := range s {
			if s[i] <= t {
				if y[i] == 1 {
					b++
				} else {
					g++
				}
			}
		}
		ks = math.Max(ks, math.Abs(b/nb-g/ng))
	}
	return ks
}

func TestAUCKSAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 20; trial++ {
		n := 50 + r.IntN(200)
		s := make([]float64, n)
		y := make([]float64, n)
		for i := range s {
			s[i] = float64(r.IntN(15)) // many ties
			if r.Float64() < 0.2+0.04*s[i] {
				y[i] = 1
			}
		}
		auc, err := metrics.AUC(s, y)
		if err != nil {
			t.Fatal(err)
		}
		if w := bruteAUC(s, y); math.Abs(auc-w) > 1e-12 {
			t.Errorf("AUC %v, brute force %v", auc, w)
		}
		ks, _ := metrics.KS(s, y)
		if w := bruteKS(s, y); math.Abs(ks-w) > 1e-12 {
			t.Errorf("KS %v, brute force %v", ks, w)
		}
	}
}

func TestAUCExtremes(t *testing.T) {
	y := []float64{0, 0, 1, 1}
	tests := []struct {
		s    []float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, 1},
		{[]float64{4, 3, 2, 1}, 0},
		{[]float64{1, 1, 1, 1}, 0.5},
	}
	for _, tc := range tests {
		if got, _ := metrics.AUC(tc.s, y); got != tc.want {
			t.Errorf("AUC(%v) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestGains(t *testing.T) {
	n := 1000
	s := make([]float64, n)
	y := make([]float64, n)
	for i := range s {
		s[i] = float64(i)
		if i%10 == 0 || i >= 900 {
			y[i] = 1
		}
	}
	g, err := metrics.Gains(s, y, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 10 {
		t.Fatalf("%d bands", len(g))
	}
	tot := 0
	for _, b := range g {
		tot += b.N
		if b.N != 100 {
			t.Errorf("band %d has %d rows", b.Band, b.N)
		}
	}
	if g[0].Bads != 100 || g[0].Lower != 900 || g[0].Upper != 999 {
		t.Errorf("top band %+v", g[0])
	}
	for i, b := range g {
		if want := float64(i+1) / 10; math.Abs(b.CumPct-want) > 1e-12 {
			t.Errorf("band %d: CumPct %v, want %v", b.Band, b.CumPct, want)
		}
	}
	if math.Abs(g[9].CumBadPct-1) > 1e-12 || math.Abs(g[9].CumLift-1) > 1e-12 {
		t.Errorf("last band cum %v lift %v", g[9].CumBadPct, g[9].CumLift)
	}
}

func TestPSI(t *testing.T) {
	if p, _ := metrics.PSI([]float64{10, 20, 30}, []float64{1, 2, 3}); math.Abs(p) > 1e-15 {
		t.Errorf("PSI of proportional samples %v", p)
	}
	// hand computed: shares (.5,.5) vs (.25,.75)
	want := (0.25-0.5)*math.Log(0.25/0.5) + (0.75-0.5)*math.Log(0.75/0.5)
	if p, _ := metrics.PSI([]float64{50, 50}, []float64{25, 75}); math.Abs(p-want) > 1e-15 {
		t.Errorf("PSI %v, want %v", p, want)
	}
}

// A well-calibrated model passes Hosmer–Lemeshow; a badly calibrated one fails.
func TestHosmerLemeshow(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := 20000
	pd := make([]float64, n)
	y := make([]float64, n)
	for i := range pd {
		pd[i] = 0.02 + 0.5*r.Float64()
		if r.Float64() < pd[i] {
			y[i] = 1
		}
	}
	_, p, err := metrics.HosmerLemeshow(pd, y, 10)
	if err != nil || p < 0.001 {
		t.Errorf("calibrated: p %v err %v", p, err)
	}
	bad := make([]float64, n)
	for i := range bad {
		bad[i] = pd[i] / 2
	}
	if _, p, _ := metrics.HosmerLemeshow(bad, y, 10); p > 1e-6 {
		t.Errorf("miscalibrated: p %v", p)
	}
}

func TestSummarizeAgrees(t *testing.T) {
	s := []float64{0.1, 0.4, 0.35, 0.8, 0.8, 0.2, 0.9}
	y := []float64{0, 0, 1, 1, 0, 0, 1}
	sum, err := metrics.Summarize(s, y)
	if err != nil {
		t.Fatal(err)
	}
	auc, _ := metrics.AUC(s, y)
	ks, _ := metrics.KS(s, y)
	if sum.N != 7 || sum.Bads != 3 || sum.AUC != auc || sum.KS != ks || sum.Gini != 2*auc-1 {
		t.Errorf("%+v vs auc %v ks %v", sum, auc, ks)
	}
	if w := bruteAUC(s, y); math.Abs(auc-w) > 1e-15 {
		t.Errorf("AUC %v, brute force %v", auc, w)
	}
}

// TestRankedAgrees checks that the one-sort Ranked gives exactly what
// Summarize, Gains and HosmerLemeshow give by their own sorts, on scores
// with many ties (including −0 and +0) and on continuous ones.
func TestRankedAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 2))
	for _, tc := range []struct {
		name  string
		n     int
		score func() float64
	}{
		{"ties", 3000, func() float64 { return math.Round(r.Float64()*40) / 40 }},
		{"signed zeros", 500, func() float64 { return []float64{0, math.Copysign(0, -1), 0.5, -0.25}[r.IntN(4)] }},
		{"continuous", 5000, func() float64 { return r.Float64() }},
	} {
		score, bad := make([]float64, tc.n), make([]float64, tc.n)
		for i := range score {
			score[i] = tc.score()
			if r.Float64() < 0.2+0.5*score[i] {
				bad[i] = 1
			}
		}
		rk, err := metrics.Rank(score, bad)
		if err != nil {
			t.Fatal(err)
		}
		sum, _ := metrics.Summarize(score, bad)
		if got := rk.Summary(); got != sum {
			t.Errorf("%s: summary %+v, Summarize %+v", tc.name, got, sum)
		}
		g1, _ := rk.Gains(10)
		g2, _ := metrics.Gains(score, bad, 10)
		if !reflect.DeepEqual(g1, g2) {
			t.Errorf("%s: gains differ:\n%+v\n%+v", tc.name, g1, g2)
		}
		c1, p1, e1 := rk.HosmerLemeshow(10)
		c2, p2, e2 := metrics.HosmerLemeshow(score, bad, 10)
		if c1 != c2 || !(p1 == p2 || math.IsNaN(p1) && math.IsNaN(p2)) || (e1 == nil) != (e2 == nil) {
			t.Errorf("%s: Hosmer–Lemeshow %v %v %v, by its own sort %v %v %v", tc.name, c1, p1, e1, c2, p2, e2)
		}
	}
	if _, err := metrics.Rank([]float64{0.1, math.NaN()}, []float64{0, 1}); err == nil {
		t.Error("a NaN score was ranked")
	}
	if _, err := metrics.Rank([]float64{0.1, 0.2}, []float64{1, 1}); err == nil {
		t.Error("a sample without goods was ranked")
	}
}
