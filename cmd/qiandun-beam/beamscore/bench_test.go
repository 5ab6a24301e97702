//go:build duckdb_arrow

package beamscore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"qiandun/cmd/qiandun-beam/beamscore"
	"qiandun/cmd/qiandun-beam/internal/testbook"
	"qiandun/data/lake"
	"qiandun/scoring/score"
)

// BenchmarkScoreBeamVsDuckDB scores the same 1M-row B-card snapshot (the
// 3,000-loan test book's as-of snapshot repeated under new loan ids,
// written by DuckDB in its default row groups of 122,880 rows) with
// `qiandun score` (package score: DuckDB reads, the tile kernel scores on
// every core) and with the Beam pipeline on Prism, and reports the rows
// per second of each (duckdb_rows/s, beam_rows/s) and their ratio. Only
// under QIANDUN_BENCH_SCALE=full (make bench): building the book trains
// both cards.
func BenchmarkScoreBeamVsDuckDB(b *testing.B) {
	if os.Getenv("QIANDUN_BENCH_SCALE") != "full" {
		b.Skip("QIANDUN_BENCH_SCALE=full only (make bench)")
	}
	const rows = 1_000_000
	ctx := context.Background()
	dir := b.TempDir()
	book, err := testbook.Build(ctx, dir, 3000, true)
	if err != nil {
		b.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	snap := "features/bcard/as_of=2023-12-31"
	if err := os.MkdirAll(filepath.Join(big, snap), 0o755); err != nil {
		b.Fatal(err)
	}
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{MemoryLimit: "2GB", TempDir: filepath.Join(dir, "_tmp")})
	if err != nil {
		b.Fatal(err)
	}
	src := "read_parquet(" + lake.Quote(filepath.Join(book.Lake, snap, "*.parquet")) + ")"
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM " + src).Scan(&n); err != nil || n == 0 {
		b.Fatalf("snapshot: %d rows, %v", n, err)
	}
	q := fmt.Sprintf("COPY (SELECT * REPLACE (loan_id || '-' || lpad(CAST(r AS VARCHAR), 4, '0') AS loan_id) FROM %s, range(%d) t(r) LIMIT %d) TO %s (FORMAT parquet)",
		src, (rows+n-1)/n, rows, lake.Quote(filepath.Join(big, snap, "part-0.parquet")))
	if _, err := db.Exec(q); err != nil {
		b.Fatal(err)
	}
	db.Close()
	b.ResetTimer()
	var duck, beam time.Duration
	for range b.N {
		start := time.Now()
		if _, _, err := score.Run(ctx, score.Options{Lake: big, AsOf: "2023-12-31", Models: []string{book.BCard}, Out: filepath.Join(dir, "duck")}); err != nil {
			b.Fatal(err)
		}
		duck += time.Since(start)
		start = time.Now()
		m, _, err := beamscore.Run(ctx, beamscore.Options{Lake: big, Model: book.BCard, AsOf: "2023-12-31", Out: filepath.Join(dir, "beam")})
		if err != nil {
			b.Fatal(err)
		}
		beam += time.Since(start)
		if m.Rows != rows {
			b.Fatalf("beam scored %d rows, want %d", m.Rows, rows)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(rows*b.N)/duck.Seconds(), "duckdb_rows/s")
	b.ReportMetric(float64(rows*b.N)/beam.Seconds(), "beam_rows/s")
	b.ReportMetric(beam.Seconds()/duck.Seconds(), "beam/duckdb_time")
}
