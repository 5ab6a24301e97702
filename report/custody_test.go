package report

import (
	"context"
	"encoding/csv"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"qiandun/data/gen"
	"qiandun/data/ingest"
	"qiandun/reporting/reconcile"
)

// TestCustodySection reconciles a small generated book with injected
// custody breaks and checks the portfolio page's custody section against
// the run's summary.csv, read here independently: the open breaks by kind
// and in total, the open amount as the exact decimal of the file, the
// migration's check and the links to the three files. Without the run the
// section is absent.
func TestCustodySection(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	raw, lk, out := filepath.Join(dir, "raw"), filepath.Join(dir, "lake"), filepath.Join(dir, "out", "reconcile")
	cfg := gen.DefaultConfig()
	cfg.Loans, cfg.Seed, cfg.CustodyBreaks = 1500, 5, 0.05
	if _, err := gen.Generate(ctx, cfg, raw, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(ctx, ingest.Options{Raw: raw, Lake: lk, MaxRejectRate: 0.01,
		Key: []byte("custody-report-key-0123456789abcdef"), Log: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	_, run, err := reconcile.Run(ctx, reconcile.Options{Lake: lk, Out: out, From: day("2021-01-01"), To: day("2023-12-31"),
		Window: reconcile.DefaultWindow, Tolerance: reconcile.DefaultTolerance, MaxOpenAmount: -1, MemoryLimit: "1GB"})
	if err != nil {
		t.Fatal(err)
	}
	latest, err := reconcile.LatestRun(out)
	if err != nil || latest != run {
		t.Fatalf("LatestRun = %q, %v; want %q", latest, err, run)
	}
	page := func(in PortfolioInputs) string {
		p, err := PortfolioPage(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.Render("test", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	without := page(PortfolioInputs{Lake: lk})
	if strings.Contains(without, "Custody reconciliation") {
		t.Fatal("custody section without a reconciliation run")
	}
	html := page(PortfolioInputs{Lake: lk, Reconcile: run, ReconcileLink: "../out/reconcile/2023-12-31"})
	i := strings.Index(html, `id="custody"`)
	if i < 0 {
		t.Fatal("portfolio page has no custody section")
	}
	sec := html[i:]
	if j := strings.Index(sec[1:], "<section"); j > 0 {
		sec = sec[:j+1]
	}
	// summary.csv's last row, independently.
	f, err := os.Open(filepath.Join(run, "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(recs) < 2 {
		t.Fatalf("summary.csv: %v (%d rows)", err, len(recs))
	}
	head, last := recs[0], recs[len(recs)-1]
	col := func(n string) string {
		for k, h := range head {
			if h == n {
				return last[k]
			}
		}
		t.Fatalf("summary.csv has no %s", n)
		return ""
	}
	nonzero := 0
	for _, k := range reconcile.Kinds {
		want := col("open_" + k)
		if want != "0" {
			nonzero++
		}
		re := regexp.MustCompile(`<tr><td>` + k + `</td><td class="n">([0-9]+)</td>`)
		m := re.FindStringSubmatch(sec)
		if m == nil || m[1] != want {
			t.Errorf("%s: section says %v open, summary.csv %s", k, m, want)
		}
	}
	if nonzero < 4 {
		t.Fatalf("only %d kinds open in the run: the test would see little", nonzero)
	}
	// The total row: the count and the amount as summary.csv's exact
	// decimal (thousands separated).
	m := regexp.MustCompile(`<tr><td>合计 total</td><td class="n">([0-9]+)</td><td class="n">([0-9,.\-]+)</td>`).FindStringSubmatch(sec)
	if m == nil || m[1] != col("open_count") || strings.ReplaceAll(m[2], ",", "") != col("open_amount") {
		t.Errorf("total row %v, summary.csv open_count %s open_amount %s", m, col("open_count"), col("open_amount"))
	}
	if strings.Contains(html, `class="notes"`) && strings.Contains(html, "custody reconciliation:") {
		t.Errorf("the page notes a disagreement between breaks.csv and summary.csv: %s", between([]byte(html), "custody reconciliation:", 300))
	}
	// The migration: the generator injects migrated balances that differ.
	if !strings.Contains(sec, "存管迁移 Custody migration") || !strings.Contains(sec, "不符 mismatch") {
		t.Errorf("migration check missing or not reporting the injected mismatch")
	}
	for _, f := range []string{"breaks.csv", "summary.csv", "migration.csv"} {
		if !strings.Contains(sec, `href="../out/reconcile/2023-12-31/`+f+`"`) {
			t.Errorf("no link to %s", f)
		}
	}
}
