package bureau

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"qiandun/data/gen"
	"qiandun/data/ingest"
	"qiandun/data/lake"
	"qiandun/data/perf"
	"qiandun/internal/benchutil"
)

// BenchmarkBureauMonth reports the last month of a generated book of
// benchutil.Scale(1,000,000, 5,000) loans in the PBOC format (Baihang's
// work is the same query); the floor is 1,000,000 loans in under 30 s.
// Generating, ingesting and building the panel are set-up, not timed;
// QIANDUN_BENCH_LAKE=DIR skips them and reports the month of that lake
// (one made by gen, ingest and perf with the default dates; its loans are
// counted for the loans metric).
func BenchmarkBureauMonth(b *testing.B) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	cfg := gen.DefaultConfig()
	cfg.Loans = benchutil.Scale(1_000_000, 5_000)
	lk := os.Getenv("QIANDUN_BENCH_LAKE") // a lake of the default book with its panel, kept between runs
	if lk == "" {
		raw := b.TempDir()
		lk = filepath.Join(b.TempDir(), "lake")
		if _, err := gen.Generate(ctx, cfg, raw, nil); err != nil {
			b.Fatal(err)
		}
		if _, err := ingest.Run(ctx, ingest.Options{Raw: raw, Lake: lk, MaxRejectRate: 1, Key: testKey, Log: log}); err != nil {
			b.Fatal(err)
		}
		if _, err := perf.Run(ctx, lake.New(lk), perf.DefaultConfig(), log); err != nil {
			b.Fatal(err)
		}
	}
	loans := cfg.Loans
	if os.Getenv("QIANDUN_BENCH_LAKE") != "" {
		loans = lakeLoans(b, lk)
	}
	accounts := 0
	benchutil.ResetPeakRSS()
	for b.Loop() {
		m, _, err := Run(ctx, Options{Lake: lk, Out: b.TempDir(), Month: "2023-12", Format: FormatPBOC,
			Config: DefaultConfig(), Identities: Tokens{}, Log: log})
		if err != nil {
			b.Fatal(err)
		}
		accounts = m.Accounts
	}
	b.ReportMetric(float64(loans), "loans")
	benchutil.Report(b, accounts)
}

// lakeLoans counts the loans of the lake at lk.
func lakeLoans(b *testing.B, lk string) int {
	b.Helper()
	l := lake.New(lk)
	db, err := l.OpenDB(context.Background(), lake.DBOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	scan, err := l.Scan("loans")
	if err != nil {
		b.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + scan).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}
