package reconcile

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"qiandun/data/gen"
	"qiandun/data/ingest"
	"qiandun/internal/benchutil"
)

// BenchmarkReconcile reconciles the whole history (36 months) of a
// generated book of benchutil.Scale(1,000,000, 5,000) loans with custody
// breaks at 0.001: every statement line's balance chain, the migration,
// and every disbursement, repayment and investment matched. The floor is
// 1,000,000 loans in under 60 s and 4 GiB. Generating and ingesting (the
// four tables reconcile reads, and applications, the loans' parent) are
// set-up, not timed. DuckDB gets 2.5GB: with matching written in parallel
// a 3GB limit let the process peak at 4.07 GiB in one of three runs.
func BenchmarkReconcile(b *testing.B) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	cfg := gen.DefaultConfig()
	cfg.Loans, cfg.CustodyBreaks = benchutil.Scale(1_000_000, 5_000), 0.001
	raw, lk := b.TempDir(), filepath.Join(b.TempDir(), "lake")
	if _, err := gen.Generate(ctx, cfg, raw, nil); err != nil {
		b.Fatal(err)
	}
	for _, t := range []string{"repayment_schedule", "bureau_inquiries", "bureau_reports", "collection_events"} {
		if err := os.Remove(filepath.Join(raw, t+".csv")); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := ingest.Run(ctx, ingest.Options{Raw: raw, Lake: lk, MaxRejectRate: 1,
		Key: []byte("reconcile-bench-key-0123456789abcdef"), Log: log}); err != nil {
		b.Fatal(err)
	}
	lines := 0
	benchutil.ResetPeakRSS()
	for b.Loop() {
		m, _, err := Run(ctx, Options{Lake: lk, Out: b.TempDir(), From: mustDay("2021-01-01"), To: mustDay("2023-12-31"),
			Window: DefaultWindow, Tolerance: DefaultTolerance, MaxOpenAmount: -1, MemoryLimit: "2.5GB", Log: log})
		if err != nil {
			b.Fatal(err)
		}
		lines = int(m.Lines)
	}
	b.ReportMetric(float64(cfg.Loans), "loans")
	benchutil.Report(b, lines)
}
