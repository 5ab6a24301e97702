package metrics_test

import (
	"math/rand/v2"
	"testing"

	"qiandun/internal/benchutil"
	"qiandun/training/metrics"
)

// BenchmarkSummarize: AUC, Gini and KS of 1,000,000 scores.
func BenchmarkSummarize(b *testing.B) {
	n := benchutil.Scale(1_000_000, 50_000)
	r := rand.New(rand.NewPCG(1, 1))
	s := make([]float64, n)
	y := make([]float64, n)
	for i := range s {
		s[i] = r.Float64()
		if r.Float64() < s[i]*0.2 {
			y[i] = 1
		}
	}
	b.ResetTimer()
	for range b.N {
		if _, err := metrics.Summarize(s, y); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	benchutil.Report(b, n)
}
