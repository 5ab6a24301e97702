package binning_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"qiandun/internal/benchutil"
	"qiandun/training/binning"
)

// BenchmarkFitAll bins 1,000,000 rows × 50 characteristics (40 continuous,
// 10 small-integer; 2% missing) with the default optimal monotonic search,
// WoE and IV included, in parallel over GOMAXPROCS. Floor: < 10 s.
func BenchmarkFitAll(b *testing.B) {
	n := benchutil.Scale(1_000_000, 50_000)
	const k = 50
	r := rand.New(rand.NewPCG(1, 1))
	y := make([]float64, n)
	cols := make([]*binning.Column, k)
	latent := make([]float64, n)
	for i := range latent {
		latent[i] = r.NormFloat64()
		if r.Float64() < 1/(1+math.Exp(-(-2+latent[i]))) {
			y[i] = 1
		}
	}
	for j := range cols {
		x := make([]float64, n)
		for i := range x {
			v := 0.3*latent[i] + r.NormFloat64()
			if j >= 40 {
				v = math.Round(v * 3)
			} else {
				v = math.Round(v*1e4) / 100
			}
			if r.Float64() < 0.02 {
				v = math.NaN()
			}
			x[i] = v
		}
		cols[j] = &binning.Column{Name: fmt.Sprintf("x%02d", j), Num: x}
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		bins, errs := binning.FitAll(ctx, cols, y, binning.Options{}, nil, runtime.GOMAXPROCS(0))
		for j, err := range errs {
			if err != nil || len(bins[j].Bins) < 2 {
				b.Fatalf("%s: %v", cols[j].Name, err)
			}
		}
	}
	b.StopTimer()
	benchutil.Report(b, n)
}
