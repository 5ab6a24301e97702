//go:build duckdb_arrow

package train_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"qiandun/internal/benchutil"
	"qiandun/internal/flatgen"
	"qiandun/training/train"
)

// BenchmarkTrainFlat is `qiandun train --data` with default settings on
// the synthetic flat table of the speed floor (1,000,000 × 20 under
// QIANDUN_BENCH_SCALE=full): reading the CSV, binning, selection, the fit,
// validation and the artifact. Floor: < 3 s on the 2-core machine. It
// reports CPU seconds beside wall time, fairer when the cores are shared.
func BenchmarkTrainFlat(b *testing.B) {
	n := benchutil.Scale(1_000_000, 100_000)
	dir := b.TempDir()
	data := filepath.Join(dir, "flat.csv")
	f, err := os.Create(data)
	if err != nil {
		b.Fatal(err)
	}
	if err := flatgen.Write(f, n, 1); err != nil {
		b.Fatal(err)
	}
	f.Close()
	benchutil.ResetPeakRSS()
	user0, sys0 := cpuTimes()
	b.ResetTimer()
	for i := range b.N {
		cfg := train.NewConfig()
		cfg.Data, cfg.Target, cfg.BadValue = data, "bad", "1"
		cfg.Out = filepath.Join(dir, fmt.Sprint("models", i))
		if _, err := train.Run(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	user, sys := cpuTimes()
	b.ReportMetric((user+sys-user0-sys0)/float64(b.N), "CPU-s/op")
	b.ReportMetric((sys-sys0)/float64(b.N), "sys-s/op")
	benchutil.Report(b, n)
}

// cpuTimes is the process's user and system CPU time so far, apart: on a
// virtual machine whose page faults are slow, system time (faulting in
// fresh memory) moves from day to day while user time holds.
func cpuTimes() (user, sys float64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds()
}
