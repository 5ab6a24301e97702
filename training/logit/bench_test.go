package logit_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"qiandun/internal/benchutil"
	"qiandun/training/logit"
)

// BenchmarkFit fits 1,000,000 rows × 20 regressors plus intercept.
// Floor: < 1.5 s.
func BenchmarkFit(b *testing.B) {
	n := benchutil.Scale(1_000_000, 50_000)
	const k = 20
	r := rand.New(rand.NewPCG(2, 2))
	cols := make([][]float64, k)
	for j := range cols {
		cols[j] = make([]float64, n)
	}
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		eta := -2.0
		for j := range cols {
			v := r.NormFloat64() * 0.5
			cols[j][i] = v
			eta += 0.3 * v
		}
		if r.Float64() < 1/(1+math.Exp(-eta)) {
			y[i] = 1
		}
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		res, err := logit.Fit(ctx, cols, y, logit.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if math.Abs(res.Coef[1]-0.3) > 0.1 {
			b.Fatalf("slope %v", res.Coef[1])
		}
	}
	b.StopTimer()
	benchutil.Report(b, n)
}
