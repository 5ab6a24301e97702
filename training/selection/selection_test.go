package selection_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"qiandun/training/selection"
)

func names(cs []selection.Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestFilter(t *testing.T) {
	cs := []selection.Candidate{
		{Name: "ok", IV: 0.3, PSI: math.NaN()},
		{Name: "missing", IV: 0.3, MissingRate: 0.97, PSI: math.NaN()},
		{Name: "single", IV: 0.3, SingleShare: 0.99, PSI: math.NaN()},
		{Name: "weak", IV: 0.01, PSI: math.NaN()},
		{Name: "unstable", IV: 0.3, PSI: 0.4},
		{Name: "stable", IV: 0.3, PSI: 0.05},
	}
	kept, dropped := selection.Filter(cs, selection.Options{MinIV: 0.02})
	if got := names(kept); !slices.Equal(got, []string{"ok", "stable"}) {
		t.Errorf("kept %v", got)
	}
	want := map[string]string{"missing": "missing_rate", "single": "single_value_share", "weak": "iv", "unstable": "psi"}
	for _, d := range dropped {
		if !strings.HasPrefix(d.Reason, want[d.Variable]) {
			t.Errorf("%s dropped for %q, want %s", d.Variable, d.Reason, want[d.Variable])
		}
	}
	if len(dropped) != 4 {
		t.Errorf("%d dropped", len(dropped))
	}
}

// synth returns candidates x1, x2 (true effects), x3 (noise), x1b (x1
// plus a little noise, lower IV) and y.
func synth(n int) ([]selection.Candidate, []float64) {
	r := rand.New(rand.NewPCG(7, 8))
	x := make([][]float64, 4)
	for j := range x {
		x[j] = make([]float64, n)
	}
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		x[0][i] = r.NormFloat64()
		x[1][i] = r.NormFloat64()
		x[2][i] = r.NormFloat64()
		x[3][i] = x[0][i] + 0.1*r.NormFloat64()
		if r.Float64() < 1/(1+math.Exp(-(-1+0.8*x[0][i]+0.5*x[1][i]))) {
			y[i] = 1
		}
	}
	return []selection.Candidate{
		{Name: "x1", IV: 0.5, WoE: x[0]},
		{Name: "x2", IV: 0.2, WoE: x[1]},
		{Name: "x3", IV: 0.03, WoE: x[2]},
		{Name: "x1b", IV: 0.45, WoE: x[3]},
	}, y
}

func TestCorrelationDropsLowerIV(t *testing.T) {
	cs, _ := synth(2000)
	kept, dropped := selection.Correlation(cs, 0.7)
	if got := names(kept); !slices.Equal(got, []string{"x1", "x2", "x3"}) {
		t.Errorf("kept %v", got)
	}
	if len(dropped) != 1 || dropped[0].Variable != "x1b" || !strings.Contains(dropped[0].Reason, "x1") {
		t.Errorf("dropped %+v", dropped)
	}
}

func TestVIF(t *testing.T) {
	cs, _ := synth(2000)
	v := selection.VIFs(cs[:3])
	for i, x := range v {
		if x < 1 || x > 1.05 {
			t.Errorf("independent column %d: VIF %v, want ≈1", i, x)
		}
	}
	// x1b ≈ x1: corr ≈ 0.995, VIF ≈ 1/(1-0.99) ≈ 100
	v = selection.VIFs([]selection.Candidate{cs[0], cs[3]})
	if v[0] < 50 || v[1] < 50 {
		t.Errorf("collinear VIFs %v", v)
	}
	kept, dropped := selection.VIF(cs, 10)
	if len(kept) != 3 || len(dropped) != 1 || (dropped[0].Variable != "x1b" && dropped[0].Variable != "x1") {
		t.Errorf("kept %v dropped %+v", names(kept), dropped)
	}
}

func TestStepwiseFindsTrueVariables(t *testing.T) {
	cs, y := synth(5000)
	cs = cs[:3]
	for _, o := range []selection.Options{
		{Stepwise: "forward", Criterion: "aic"},
		{Stepwise: "backward", Criterion: "bic"},
		{Stepwise: "both", Criterion: "bic"},
		{Stepwise: "both", Criterion: "pvalue", PEnter: 0.01, PRemove: 0.01},
	} {
		kept, dropped, err := selection.Stepwise(context.Background(), cs, y, o)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(kept); !slices.Contains(got, "x1") || !slices.Contains(got, "x2") {
			t.Errorf("%s/%s: kept %v", o.Stepwise, o.Criterion, got)
		}
		if o.Criterion != "aic" && (len(dropped) != 1 || dropped[0].Variable != "x3") {
			t.Errorf("%s/%s: dropped %+v, want x3", o.Stepwise, o.Criterion, dropped)
		}
	}
}

func TestSignCheck(t *testing.T) {
	cs, y := synth(3000)
	neg := make([]float64, len(y))
	for i, v := range cs[1].WoE {
		neg[i] = -v // riskier when lower: a negative coefficient
	}
	in := []selection.Candidate{cs[0], {Name: "x2neg", IV: 0.2, WoE: neg}}
	kept, dropped, err := selection.SignCheck(context.Background(), in, y, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(kept); !slices.Equal(got, []string{"x1"}) || len(dropped) != 1 || !strings.HasPrefix(dropped[0].Reason, "sign") {
		t.Errorf("kept %v dropped %+v", got, dropped)
	}
}
