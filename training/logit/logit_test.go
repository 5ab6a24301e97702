package logit_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"qiandun/training/binning"
	"qiandun/training/internal/gcredit"
	"qiandun/training/logit"
	"qiandun/training/metrics"
)

// The fit on the reference's WoE characteristics reproduces statsmodels'
// coefficients, standard errors, log-likelihood and AIC, and the train
// AUC and KS.
func TestGermanCreditReferenceFit(t *testing.T) {
	d, err := gcredit.Load()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := gcredit.LoadReference()
	if err != nil {
		t.Fatal(err)
	}
	var cols [][]float64
	for _, name := range ref.Logit.Variables {
		b, err := binning.Apply(d.Cols[name], d.Y, ref.Variables[name].Spec(), binning.Options{})
		if err != nil {
			t.Fatal(err)
		}
		w, fb := b.WoE(d.Cols[name])
		if fb != 0 {
			t.Fatalf("%s: %d fallbacks on training data", name, fb)
		}
		cols = append(cols, w)
	}
	r, err := logit.Fit(context.Background(), cols, d.Y, logit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.10f, reference %.10f", what, got, want)
		}
	}
	check("const", r.Coef[0], ref.Logit.Coef["const"], 1e-5)
	check("se(const)", r.StdErr[0], ref.Logit.StdErr["const"], 1e-5)
	for j, name := range ref.Logit.Variables {
		check(name, r.Coef[j+1], ref.Logit.Coef[name+"_woe"], 1e-5)
		check("se("+name+")", r.StdErr[j+1], ref.Logit.StdErr[name+"_woe"], 1e-5)
	}
	check("loglik", r.LogLik, ref.Logit.LogLik, 1e-6)
	check("aic", r.AIC, ref.Logit.AIC, 1e-6)
	pd := r.Predict(cols)
	auc, _ := metrics.AUC(pd, d.Y)
	ks, _ := metrics.KS(pd, d.Y)
	check("train AUC", auc, ref.Logit.TrainAUC, 1e-6)
	check("train KS", ks, ref.Logit.TrainKS, 1e-6)
}

// With one binary regressor the MLE is closed form: the intercept is the
// log odds at x=0, the slope the log odds ratio, and the standard errors
// sqrt(1/a+1/b) and sqrt(1/a+1/b+1/c+1/d).
func TestClosedFormTwoByTwo(t *testing.T) {
	tests := []struct{ a, b, c, d int }{ // x=0: a bads, b goods; x=1: c bads, d goods
		{10, 40, 30, 20},
		{1, 99, 7, 3},
		{250, 750, 400, 600},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			var x, y []float64
			add := func(n int, xv, yv float64) {
				for i := 0; i < n; i++ {
					x = append(x, xv)
					y = append(y, yv)
				}
			}
			add(tc.a, 0, 1)
			add(tc.b, 0, 0)
			add(tc.c, 1, 1)
			add(tc.d, 1, 0)
			r, err := logit.Fit(context.Background(), [][]float64{x}, y, logit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			a, b, c, d := float64(tc.a), float64(tc.b), float64(tc.c), float64(tc.d)
			want := []float64{math.Log(a / b), math.Log(c * b / (d * a))}
			se := []float64{math.Sqrt(1/a + 1/b), math.Sqrt(1/a + 1/b + 1/c + 1/d)}
			for j := range want {
				if math.Abs(r.Coef[j]-want[j]) > 1e-9 || math.Abs(r.StdErr[j]-se[j]) > 1e-9 {
					t.Errorf("coef %d = %v ± %v, want %v ± %v", j, r.Coef[j], r.StdErr[j], want[j], se[j])
				}
			}
			// log-likelihood of the saturated 2×2 model
			ll := a*math.Log(a/(a+b)) + b*math.Log(b/(a+b)) + c*math.Log(c/(c+d)) + d*math.Log(d/(c+d))
			if math.Abs(r.LogLik-ll) > 1e-9 {
				t.Errorf("loglik %v, want %v", r.LogLik, ll)
			}
			if math.Abs(r.AIC-(-2*ll+4)) > 1e-9 {
				t.Errorf("AIC %v, want %v", r.AIC, -2*ll+4)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		cols [][]float64
		y    []float64
		want error
	}{
		{"complete separation", [][]float64{{1, 2, 3, 4, 5, 6}}, []float64{0, 0, 0, 1, 1, 1}, logit.ErrSeparation},
		{"overlap: MLE exists", [][]float64{{0, 0, 0, 1, 1, 1, 1, 2, 2}}, []float64{0, 0, 1, 0, 1, 1, 0, 1, 1}, nil},
		{"quasi-complete separation", [][]float64{{0, 0, 0, 1, 1, 1, 1}}, []float64{0, 0, 0, 0, 1, 1, 0}, logit.ErrSeparation},
		{"singular", [][]float64{{1, 0, 1, 0, 1, 1}, {1, 0, 1, 0, 1, 1}}, []float64{0, 1, 1, 0, 0, 1}, logit.ErrSingular},
		{"constant column", [][]float64{{2, 2, 2, 2, 2, 2}}, []float64{0, 1, 1, 0, 0, 1}, logit.ErrSingular},
		{"one class", [][]float64{{1, 2, 3, 4}}, []float64{0, 0, 0, 0}, logit.ErrSeparation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := logit.Fit(ctx, tc.cols, tc.y, logit.Options{})
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// L2 shrinks the slope towards zero, monotonically in λ.
func TestL2Shrinks(t *testing.T) {
	x := []float64{0, 0, 0, 0, 1, 1, 1, 1, 1, 0}
	y := []float64{0, 0, 1, 0, 1, 1, 0, 1, 1, 0}
	prev := math.Inf(1)
	for _, l := range []float64{0, 0.5, 2, 10} {
		r, err := logit.Fit(context.Background(), [][]float64{x}, y, logit.Options{L2: l})
		if err != nil {
			t.Fatal(err)
		}
		if !(r.Coef[1] > 0 && r.Coef[1] < prev) {
			t.Errorf("λ=%v: slope %v not in (0, %v)", l, r.Coef[1], prev)
		}
		prev = r.Coef[1]
	}
}

// The subsample warm start used above 200,000 rows reaches the same MLE.
func TestWarmStartSameMLE(t *testing.T) {
	n := 250_000
	r := rand.New(rand.NewPCG(5, 6))
	cols := [][]float64{make([]float64, n), make([]float64, n), make([]float64, n)}
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		eta := -1.5
		for j := range cols {
			cols[j][i] = r.NormFloat64()
			eta += float64(j+1) * 0.2 * cols[j][i]
		}
		if r.Float64() < 1/(1+math.Exp(-eta)) {
			y[i] = 1
		}
	}
	ctx := context.Background()
	warm, err := logit.Fit(ctx, cols, y, logit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cold, err := logit.FitCold(ctx, cols, y, logit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for j := range warm.Coef {
		if math.Abs(warm.Coef[j]-cold.Coef[j]) > 1e-9 || math.Abs(warm.StdErr[j]-cold.StdErr[j]) > 1e-8 {
			t.Errorf("coef %d: warm %v ± %v, cold %v ± %v", j, warm.Coef[j], warm.StdErr[j], cold.Coef[j], cold.StdErr[j])
		}
	}
	if math.Abs(warm.LogLik-cold.LogLik) > 1e-6 {
		t.Errorf("loglik warm %v cold %v", warm.LogLik, cold.LogLik)
	}
}

// A caller's start point changes the path, not the estimates.
func TestStartSameMLE(t *testing.T) {
	x := [][]float64{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 2, 4, 6, 8}, {1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0}}
	y := []float64{0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1}
	ctx := context.Background()
	a, err := logit.Fit(ctx, x, y, logit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, start := range [][]float64{{0, 0, 0}, {2, -1, 1}, a.Coef} {
		b, err := logit.Fit(ctx, x, y, logit.Options{Start: start})
		if err != nil {
			t.Fatal(err)
		}
		for j := range a.Coef {
			if math.Abs(a.Coef[j]-b.Coef[j]) > 1e-9 || math.Abs(a.StdErr[j]-b.StdErr[j]) > 1e-8 {
				t.Errorf("start %v: coef %d %v ± %v, want %v ± %v", start, j, b.Coef[j], b.StdErr[j], a.Coef[j], a.StdErr[j])
			}
		}
	}
}
