//go:build duckdb_arrow

package score_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"qiandun/data/lake"
	"qiandun/internal/benchutil"
	"qiandun/internal/duckstream"
	"qiandun/scoring/score"
	"qiandun/training/train"
)

// benchInput writes n rows of 14 numeric and 6 categorical
// characteristics (with some NULLs) and a 1/0 outcome drawn from a
// logistic model of all of them, and trains a 20-characteristic card on
// the first 200,000 rows.
func benchInput(b *testing.B, n int) (data, model string) {
	b.Helper()
	dir := b.TempDir()
	db := openDB(b)
	var cols, logit []string
	for k := range 14 {
		cols = append(cols, fmt.Sprintf("CASE WHEN hash(i, %d) %% 50 = 0 THEN NULL ELSE (hash(i, %d) %% 10000) / 100.0 END AS x%02d", k, k+100, k))
		logit = append(logit, fmt.Sprintf("coalesce(x%02d, 50) / 100.0 * %v", k, 0.2+0.05*float64(k)))
	}
	for k := range 6 {
		cols = append(cols, fmt.Sprintf("chr(65 + CAST(hash(i, %d) %% %d AS INTEGER)) AS c%d", k+200, 4+k, k))
		logit = append(logit, fmt.Sprintf("(ascii(c%d) - 65) * %v", k, 0.1+0.05*float64(k)))
	}
	data = filepath.Join(dir, "input.parquet")
	q := fmt.Sprintf(`COPY (
  WITH g AS (SELECT i, %s FROM range(%d) t(i))
  SELECT 'E' || lpad(CAST(i AS VARCHAR), 9, '0') AS id, * EXCLUDE (i),
         CAST((hash(i, 999) %% 1000000) / 1e6 < 1 / (1 + exp(-(-4 + %s))) AS INTEGER) AS bad
  FROM g ORDER BY i) TO %s (FORMAT parquet)`, strings.Join(cols, ",\n  "), n, strings.Join(logit, " + "), lake.Quote(data))
	if _, err := db.Exec(q); err != nil {
		b.Fatal(err)
	}
	trainData := filepath.Join(dir, "train.parquet")
	if _, err := db.Exec(fmt.Sprintf("COPY (SELECT * FROM read_parquet(%s) LIMIT 200000) TO %s (FORMAT parquet)", lake.Quote(data), lake.Quote(trainData))); err != nil {
		b.Fatal(err)
	}
	cfg := train.NewConfig()
	cfg.Data, cfg.Target, cfg.BadValue, cfg.Out = trainData, "bad", "1", filepath.Join(dir, "models")
	cfg.Exclude = []string{"id"}
	for k := range 14 {
		cfg.Features = append(cfg.Features, fmt.Sprintf("x%02d", k))
	}
	for k := range 6 {
		cfg.Features = append(cfg.Features, fmt.Sprintf("c%d", k))
	}
	cfg.Selection.NoSignCheck = true
	res, err := train.Run(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Model.Chars) != 20 {
		b.Fatalf("card has %d characteristics, want 20", len(res.Model.Chars))
	}
	return data, res.Dir
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bareScan is the wall and CPU time DuckDB takes to read the columns the
// scorer reads (the id and the 20 characteristics) from the Parquet file
// into Arrow record batches, the way the scorer reads them (a streaming
// duckstream query), with no scoring and no writing.
func bareScan(b *testing.B, data string) (wall, cpu time.Duration) {
	start, cpu0 := time.Now(), cpuTime()
	r, err := duckstream.Query(context.Background(), duckstream.Options{},
		"SELECT CAST(id AS VARCHAR) AS __id, * EXCLUDE (id, bad) FROM read_parquet("+lake.Quote(data)+")")
	if err != nil {
		b.Fatal(err)
	}
	for r.Next() {
	}
	if err := r.Err(); err != nil {
		b.Fatal(err)
	}
	r.Close()
	return time.Since(start), cpuTime() - cpu0
}

// BenchmarkScore scores a 20-characteristic card end to end: read
// Parquet, score, write scores.parquet and scores.csv, publish. It
// reports rows/s, the ratio of its time to a bare DuckDB scan of the same
// columns (scan_ratio), and, because wall time on a shared machine
// depends on the load, the CPU seconds (user+system, all threads) of a
// run and of the scan (cpu_s, scan_cpu_s) and their ratio
// (scan_cpu_ratio).
func BenchmarkScore(b *testing.B) {
	n := benchutil.Scale(5_000_000, 100_000)
	data, model := benchInput(b, n)
	scan, scanCPU := bareScan(b, data)
	out := b.TempDir()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		if _, _, err := score.Run(context.Background(), score.Options{Data: data, ID: "id", Models: []string{model}, Out: out, AsOf: "2024-01-31"}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := (cpuTime() - cpu0) / time.Duration(b.N)
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per)/float64(scan), "scan_ratio")
	b.ReportMetric(scan.Seconds(), "scan_s")
	b.ReportMetric(cpu.Seconds(), "cpu_s")
	b.ReportMetric(scanCPU.Seconds(), "scan_cpu_s")
	b.ReportMetric(float64(cpu)/float64(scanCPU), "scan_cpu_ratio")
	benchutil.Report(b, n)
}
