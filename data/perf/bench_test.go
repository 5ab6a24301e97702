package perf

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"qiandun/data/lake"
	"qiandun/internal/benchutil"
)

//go:embed testdata/bench_book.sql
var benchBookSQL string

// writeBenchLake synthesizes a book of n loans (testdata/bench_book.sql)
// and writes its raw lake tables under root.
func writeBenchLake(b *testing.B, root string, n int) lake.Lake {
	b.Helper()
	lk := lake.New(root)
	ctx := context.Background()
	db, err := lk.OpenDB(ctx, lake.DBOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, strings.ReplaceAll(benchBookSQL, "{{N}}", strconv.Itoa(n))); err != nil {
		b.Fatal(err)
	}
	for _, t := range inputs {
		if err := os.MkdirAll(lk.TableDir(t), 0o755); err != nil {
			b.Fatal(err)
		}
		out := filepath.Join(lk.TableDir(t), "part-0.parquet")
		if _, err := db.ExecContext(ctx, fmt.Sprintf("COPY %s TO %s (FORMAT parquet, COMPRESSION zstd)", t, lake.Quote(out))); err != nil {
			b.Fatal(err)
		}
	}
	return lk
}

// BenchmarkPanel builds perf/panel for benchutil.Scale(1_000_000, 20_000)
// loans over 36 months (about 23 panel rows per loan) with DuckDB's
// default 3GB memory limit. Floor: under 60 s and 4 GiB peak RSS at full
// scale (make bench).
func BenchmarkPanel(b *testing.B) {
	n := benchutil.Scale(1_000_000, 20_000)
	root := b.TempDir()
	t0 := time.Now()
	lk := writeBenchLake(b, root, n)
	b.Logf("synthesized %d loans in %.1fs", n, time.Since(t0).Seconds())
	benchutil.ResetPeakRSS() // the floor is the panel's memory, not the synthesis's
	ctx := context.Background()
	var rows int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		db, err := lk.OpenDB(ctx, lake.DBOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := createInputViews(ctx, db, lk, &lake.Manifest{}); err != nil {
			b.Fatal(err)
		}
		rows, err = WritePanel(ctx, db, day("2024-12-31"), filepath.Join(root, "panel", strconv.Itoa(i)))
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
	b.StopTimer()
	b.ReportMetric(float64(rows), "panel-rows")
	benchutil.Report(b, int(rows))
}
