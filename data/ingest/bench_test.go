package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"qiandun/data/gen"
	"qiandun/data/lake"
	"qiandun/internal/benchutil"
)

// BenchmarkIngest ingests a generated clean book (1,000,000 loans under
// make bench, 20,000 otherwise, QIANDUN_BENCH_LOANS if set) into a fresh lake, and times a bare DuckDB
// COPY (SELECT * FROM read_csv(f)) TO 'f.parquet' of the same files for
// comparison. It reports rows/s, both wall times and their ratio, both
// CPU times and their ratio, and peak RSS.
func BenchmarkIngest(b *testing.B) {
	loans := benchutil.Scale(1_000_000, 20_000)
	if s := os.Getenv("QIANDUN_BENCH_LOANS"); s != "" { // an intermediate scale for profiling
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("QIANDUN_BENCH_LOANS: %v", err)
		}
		loans = n
	}
	raw := b.TempDir()
	cfg := gen.DefaultConfig()
	cfg.Loans = loans
	sum, err := gen.Generate(context.Background(), cfg, raw, nil)
	if err != nil {
		b.Fatal(err)
	}
	rows := 0
	for _, n := range sum.Rows {
		rows += n
	}
	srcs, err := Discover(raw)
	if err != nil {
		b.Fatal(err)
	}

	// Baseline: bare DuckDB CSV -> Parquet of every file.
	base := b.TempDir()
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "1200MB", TempDir: filepath.Join(base, "tmp")})
	if err != nil {
		b.Fatal(err)
	}
	t0, c0 := time.Now(), cpuTime()
	for i, s := range srcs {
		q := fmt.Sprintf("COPY (SELECT * FROM read_csv(%s)) TO %s (FORMAT parquet)",
			lake.Quote(s.Path), lake.Quote(filepath.Join(base, fmt.Sprintf("%d.parquet", i))))
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	bare, bareCPU := time.Since(t0), cpuTime()-c0
	db.Close()

	// Peak RSS should be ingestion's, not the generator's: reset the
	// high-water mark (Linux: writing 5 to clear_refs resets VmHWM).
	// The generator's garbage goes back to the OS first.
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0o644)
	var elapsed, cpu time.Duration
	b.ResetTimer()
	for range b.N {
		lk := filepath.Join(b.TempDir(), "lake")
		o := Options{Raw: raw, Lake: lk, MaxRejectRate: DefaultMaxRejectRate, Key: []byte("bench-key-0123456789abcdef"), Log: discardLog()}
		t1, c1 := time.Now(), cpuTime()
		res, err := Run(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		elapsed, cpu = elapsed+time.Since(t1), cpu+cpuTime()-c1
		if res.Rows() != int64(rows) {
			b.Fatalf("read %d rows, generator wrote %d", res.Rows(), rows)
		}
		b.StopTimer()
		os.RemoveAll(lk)
		b.StartTimer()
	}
	b.StopTimer()
	per := elapsed.Seconds() / float64(b.N)
	b.ReportMetric(per, "ingest-s")
	b.ReportMetric(bare.Seconds(), "bare-duckdb-s")
	b.ReportMetric(per/bare.Seconds(), "ratio")
	// CPU time (user+system) is the fairer comparison on a shared machine.
	b.ReportMetric(cpu.Seconds()/float64(b.N), "ingest-cpu-s")
	b.ReportMetric(bareCPU.Seconds(), "bare-cpu-s")
	b.ReportMetric(cpu.Seconds()/float64(b.N)/bareCPU.Seconds(), "cpu-ratio")
	b.ReportMetric(float64(rows), "raw-rows")
	benchutil.Report(b, rows)
}
