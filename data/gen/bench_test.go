package gen

import (
	"context"
	"testing"

	"qiandun/internal/benchutil"
)

// BenchmarkGen generates a book of benchutil.Scale(1,000,000, 20,000)
// loans; the floor is 1,000,000 loans in under 90 s on two cores.
func BenchmarkGen(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Loans = benchutil.Scale(1_000_000, 20_000)
	rows := 0
	for b.Loop() {
		dir := b.TempDir()
		s, err := Generate(context.Background(), cfg, dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		rows = 0
		for _, n := range s.Rows {
			rows += n
		}
	}
	b.ReportMetric(float64(cfg.Loans), "loans")
	benchutil.Report(b, rows)
}
