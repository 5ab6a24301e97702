// Package benchutil holds what the project's benchmarks share: the scale
// they run at and the peak resident memory they report.
package benchutil

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Scale returns n when QIANDUN_BENCH_SCALE is "full" (as `make bench`
// sets it) and small otherwise, so `go test -bench` on a laptop is quick
// while `make bench` runs at the realistic scale the floors name.
func Scale(full, small int) int {
	if os.Getenv("QIANDUN_BENCH_SCALE") == "full" {
		return full
	}
	return small
}

// PeakRSSMiB returns the process's peak resident set size (VmHWM) in MiB,
// or 0 where /proc is not available.
func PeakRSSMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fields := strings.Fields(rest)
			if len(fields) > 0 {
				kb, _ := strconv.ParseFloat(fields[0], 64)
				return kb / 1024
			}
		}
	}
	return 0
}

// Report adds rows/s and peak-RSS metrics to b for rows processed per
// iteration. Call it after the timed loop.
func Report(b *testing.B, rowsPerOp int) {
	b.Helper()
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(rowsPerOp)*float64(b.N)/s, "rows/s")
	}
	b.ReportMetric(PeakRSSMiB(), "peak-RSS-MiB")
}

// ResetPeakRSS resets the process's peak resident set size to its current
// size (Linux: writing 5 to /proc/self/clear_refs), so that building a
// benchmark's input before the timed loop does not count towards the peak
// the benchmark reports. Elsewhere it does nothing.
func ResetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0o644)
}
