//go:build duckdb_arrow

package beamfeatures_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"qiandun/cmd/qiandun-beam/beamfeatures"
	"qiandun/cmd/qiandun-beam/internal/testbook"
	"qiandun/data/lake"
	"qiandun/features"
	"qiandun/internal/benchutil"
)

// BenchmarkFeaturesBeamVsDuckDB builds the B-card snapshot at the month
// end 2023-12-31 of a generated, ingested book (200,000 loans under
// QIANDUN_BENCH_SCALE=full, 3,000 otherwise) with the features stage
// (DuckDB, perf's intermediates read from the lake) and with the Beam
// pipeline on Prism (which derives the payoff from the raw tables and
// holds every shuffle in memory, hence the smaller book than the other
// 1M-loan benchmarks), and reports the snapshot rows per second of each
// and their time ratio.
func BenchmarkFeaturesBeamVsDuckDB(b *testing.B) {
	loans := benchutil.Scale(200_000, 3000)
	ctx := context.Background()
	dir := b.TempDir()
	book, err := testbook.Build(ctx, dir, loans, false)
	if err != nil {
		b.Fatal(err)
	}
	asOf := time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	var duck, beam time.Duration
	var rows int64
	for range b.N {
		start := time.Now()
		snaps, err := features.Run(ctx, lake.New(book.Lake), features.SetBCard, []time.Time{asOf}, lake.DBOptions{MemoryLimit: "2GB"}, nil)
		if err != nil {
			b.Fatal(err)
		}
		duck += time.Since(start)
		start = time.Now()
		got, err := beamfeatures.Run(ctx, beamfeatures.Options{Lake: book.Lake, AsOf: []string{"2023-12-31"}, Out: filepath.Join(dir, "beam")})
		if err != nil {
			b.Fatal(err)
		}
		beam += time.Since(start)
		if got[0].Rows != snaps[0].Rows {
			b.Fatalf("beam %d rows, duckdb %d", got[0].Rows, snaps[0].Rows)
		}
		rows = got[0].Rows
	}
	b.StopTimer()
	b.ReportMetric(float64(loans), "loans")
	b.ReportMetric(float64(rows*int64(b.N))/duck.Seconds(), "duckdb_rows/s")
	b.ReportMetric(float64(rows*int64(b.N))/beam.Seconds(), "beam_rows/s")
	b.ReportMetric(beam.Seconds()/duck.Seconds(), "beam/duckdb_time")
}
