package report

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sample draws n rows whose score is lower for bads, with many ties
// (scores rounded to 10 points) so tie handling matters.
func sample(seed uint64, n int, badRate float64) []Obs {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]Obs, n)
	for i := range out {
		bad := r.Float64() < badRate
		mu := 600.0
		if bad {
			mu = 560
		}
		s := math.Round((mu+40*r.NormFloat64())/10) * 10
		out[i] = Obs{Score: s, Bad: bad, PD: 1 / (1 + math.Exp((s-500)/30))}
	}
	return out
}

// bruteAUC is the Mann-Whitney probability that a bad scores below a
// good, ties counting one half, over all pairs.
func bruteAUC(obs []Obs) float64 {
	var num, den float64
	for _, b := range obs {
		if !b.Bad {
			continue
		}
		for _, g := range obs {
			if g.Bad {
				continue
			}
			den++
			switch {
			case b.Score < g.Score:
				num++
			case b.Score == g.Score:
				num += 0.5
			}
		}
	}
	return num / den
}

// bruteKS is the largest gap between the cumulative bad and good shares
// over every cut-off score.
func bruteKS(obs []Obs) float64 {
	var nb, ng float64
	for _, o := range obs {
		if o.Bad {
			nb++
		} else {
			ng++
		}
	}
	ks := 0.0
	for _, c := range obs {
		var b, g float64
		for _, o := range obs {
			if o.Score <= c.Score {
				if o.Bad {
					b++
				} else {
					g++
				}
			}
		}
		ks = math.Max(ks, b/nb-g/ng)
	}
	return ks
}

func TestROCMatchesPairwise(t *testing.T) {
	for _, tc := range []struct {
		seed uint64
		n    int
		br   float64
	}{{1, 400, 0.2}, {2, 300, 0.5}, {3, 250, 0.05}} {
		obs := sample(tc.seed, tc.n, tc.br)
		pts, auc, ks := ROC(obs)
		if want := bruteAUC(obs); math.Abs(auc-want) > 1e-12 {
			t.Errorf("seed %d: AUC %v, pairwise %v", tc.seed, auc, want)
		}
		if want := bruteKS(obs); math.Abs(ks-want) > 1e-12 {
			t.Errorf("seed %d: KS %v, brute force %v", tc.seed, ks, want)
		}
		last := pts[len(pts)-1]
		if last.FPR != 1 || last.TPR != 1 || pts[0].FPR != 0 || pts[0].TPR != 0 {
			t.Errorf("seed %d: ROC does not run from (0,0) to (1,1): %v .. %v", tc.seed, pts[0], last)
		}
		for i := 1; i < len(pts); i++ {
			if pts[i].FPR < pts[i-1].FPR || pts[i].TPR < pts[i-1].TPR {
				t.Fatalf("seed %d: ROC not monotone at %d", tc.seed, i)
			}
		}
	}
	// Perfect separation and a single class.
	perfect := []Obs{{Score: 1, Bad: true}, {Score: 2, Bad: true}, {Score: 3}, {Score: 4}}
	if _, auc, ks := ROC(perfect); auc != 1 || ks != 1 {
		t.Errorf("perfect: AUC %v KS %v, want 1 1", auc, ks)
	}
	if _, auc, _ := ROC([]Obs{{Score: 1}, {Score: 2}}); !math.IsNaN(auc) {
		t.Errorf("no bads: AUC %v, want NaN", auc)
	}
}

func TestGains(t *testing.T) {
	obs := sample(4, 1000, 0.15)
	rows := Gains(obs, 10)
	n, bads := 0, 0
	for i, r := range rows {
		n += r.N
		bads += r.Bads
		if i > 0 && r.MinScore <= rows[i-1].MaxScore {
			t.Fatalf("band %d overlaps the previous one (ties split): %v after %v", r.Band, r, rows[i-1])
		}
	}
	total := 0
	for _, o := range obs {
		if o.Bad {
			total++
		}
	}
	last := rows[len(rows)-1]
	if n != len(obs) || bads != total || last.CumBadShare != 1 || last.CumShare != 1 || last.Lift != 1 {
		t.Fatalf("gains do not add up: n %d bads %d last %+v", n, bads, last)
	}
	if rows[0].Lift <= 1 || rows[0].BadRate <= last.BadRate {
		t.Fatalf("riskiest band should lift: first %+v last %+v", rows[0], last)
	}
	if len(rows) < 5 || len(rows) > 10 {
		t.Fatalf("%d bands from 10 deciles with 10-point ties", len(rows))
	}
}

func TestPSI(t *testing.T) {
	for _, tc := range []struct {
		name      string
		exp, act  []float64
		edges     []float64
		want      float64
		tolerance float64
	}{
		{"identical", []float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, []float64{2.5}, 0, 0},
		// expected shares 1/2, 1/2; actual 1/4, 3/4.
		{"shift", []float64{1, 2, 3, 4}, []float64{1, 3, 4, 4}, []float64{2.5},
			(0.25-0.5)*math.Log(0.25/0.5) + (0.75-0.5)*math.Log(0.75/0.5), 1e-15},
		// An empty actual bin is floored at 1e-4.
		{"empty bin", []float64{1, 4}, []float64{4, 4}, []float64{2.5},
			(1e-4-0.5)*math.Log(1e-4/0.5) + (1-0.5)*math.Log(1/0.5), 1e-15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			psi, _, _ := PSI(tc.exp, tc.act, tc.edges)
			if math.Abs(psi-tc.want) > tc.tolerance {
				t.Fatalf("PSI = %v, want %v", psi, tc.want)
			}
		})
	}
	// CSI on categories agrees with PSI on the same split.
	psi, _, _, _ := CategoryPSI([]string{"a", "a", "b", "b"}, []string{"a", "b", "b", "b"})
	if want := (0.25-0.5)*math.Log(0.5) + (0.75-0.5)*math.Log(1.5); math.Abs(psi-want) > 1e-15 {
		t.Fatalf("CSI = %v, want %v", psi, want)
	}
}

func TestQuantileEdges(t *testing.T) {
	xs := make([]float64, 1000)
	for i := range xs {
		xs[i] = float64(i)
	}
	e := QuantileEdges(xs, 10)
	if len(e) != 9 || e[0] != 100 || e[8] != 900 {
		t.Fatalf("edges = %v", e)
	}
	for _, s := range shares(xs, e) {
		if math.Abs(s-0.1) > 1e-12 {
			t.Fatalf("decile shares not equal: %v", shares(xs, e))
		}
	}
	if e := QuantileEdges([]float64{5, 5, 5}, 10); len(e) != 0 {
		t.Fatalf("constant input: edges %v, want none", e)
	}
}

func TestCalibrationAndHistogram(t *testing.T) {
	obs := sample(5, 5000, 0.3)
	// Relabel so the PD is the true probability: then observed bad rates
	// match mean PDs within sampling error.
	r := rand.New(rand.NewPCG(9, 9))
	for i := range obs {
		obs[i].PD = 0.05 + 0.5*float64(i%10)/10
		obs[i].Bad = r.Float64() < obs[i].PD
	}
	rows := Calibration(obs, 10)
	if len(rows) != 10 {
		t.Fatalf("%d calibration groups", len(rows))
	}
	for _, c := range rows {
		se := math.Sqrt(c.MeanPD * (1 - c.MeanPD) / float64(c.N))
		if math.Abs(c.BadRate-c.MeanPD) > 4*se {
			t.Errorf("group %+v: observed %.3f vs mean PD %.3f (4 s.e. %.3f)", c, c.BadRate, c.MeanPD, 4*se)
		}
	}
	mid, g, b := Histogram(obs, 20)
	var sg, sb float64
	for i := range mid {
		sg += g[i]
		sb += b[i]
	}
	if math.Abs(sg-1) > 1e-12 || math.Abs(sb-1) > 1e-12 {
		t.Fatalf("histogram shares sum to %v and %v", sg, sb)
	}
	noPD := []Obs{{Score: 1, PD: math.NaN()}}
	if Calibration(noPD, 10) != nil {
		t.Fatal("calibration without PDs should be nil")
	}
}
