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

// TestROCOfScores: roc refuses the lowest scores first (a bad scoring
// below a good is ranked right), so perfect separation has AUC and KS 1
// and the curve's cuts are the negated scores.
func TestROCOfScores(t *testing.T) {
	perfect := []Obs{{Score: 1, Bad: true}, {Score: 2, Bad: true}, {Score: 3}, {Score: 4}}
	pts, auc, ks := roc(perfect)
	if auc != 1 || ks != 1 || len(pts) != 5 || pts[1].Cut != -1 || pts[2].TPR != 1 {
		t.Errorf("perfect: AUC %v KS %v points %+v", auc, ks, pts)
	}
	if _, auc, _ := roc([]Obs{{Score: 1}, {Score: 2}}); !math.IsNaN(auc) {
		t.Errorf("no bads: AUC %v, want NaN", auc)
	}
}

func TestHistogram(t *testing.T) {
	obs := sample(5, 5000, 0.3)
	mid, g, b := Histogram(obs, 20)
	var sg, sb float64
	for i := range mid {
		sg += g[i]
		sb += b[i]
		if i > 0 && mid[i] <= mid[i-1] {
			t.Fatalf("mid-points not increasing: %v", mid)
		}
	}
	if math.Abs(sg-1) > 1e-12 || math.Abs(sb-1) > 1e-12 {
		t.Fatalf("histogram shares sum to %v and %v", sg, sb)
	}
}
