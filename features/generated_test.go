package features

import (
	"context"
	"encoding/csv"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"qiandun/data/gen"
	"qiandun/data/ingest"
	"qiandun/data/lake"
	"qiandun/data/perf"
	"qiandun/internal/durable"
)

// TestGeneratedBook runs gen -> ingest -> features (and perf) on a small
// generated book and checks the features against the generator's ground
// truth and against perf's independent DPD.
func TestGeneratedBook(t *testing.T) {
	ctx := context.Background()
	raw, root := t.TempDir(), t.TempDir()
	cfg := gen.DefaultConfig()
	cfg.Loans, cfg.Seed = 6000, 3
	if _, err := gen.Generate(ctx, cfg, raw, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(ctx, ingest.Options{Raw: raw, Lake: root, MaxRejectRate: 0.01,
		Key: []byte("test-key-0123456789abcdef"), DB: lake.DBOptions{MemoryLimit: "1GB", Threads: 2}, Log: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	t.Run("fraud rings", func(t *testing.T) { testRings(t, raw, root) })
	t.Run("dpd matches perf", func(t *testing.T) { testDPDMatchesPerf(t, root) })
	t.Run("positional join as key join", func(t *testing.T) { testPositionalAsKeyJoin(t, root) })
}

// testPositionalAsKeyJoin: the A-card snapshot written as the POSITIONAL
// JOIN of the spine's head and the group tables, each sorted by app_idx,
// is the same bytes as the groups joined on app_idx and sorted at the
// end, for two as-of dates built one after the other on one connection
// (the second must not read the first's tables); and the positional
// path is the one Build takes.
func testPositionalAsKeyJoin(t *testing.T, root string) {
	ctx := context.Background()
	l := lake.New(root)
	cat, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	sums := map[bool][]string{}
	for _, keyJoin := range []bool{false, true} {
		db, err := l.OpenDB(ctx, lake.DBOptions{MemoryLimit: "1GB", Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b := NewBuilder(l, cat, conn, nil)
		b.Out, b.keyJoin = lake.New(t.TempDir()), keyJoin
		for _, day := range []string{"2024-01-01", "2023-07-01"} {
			d, _ := time.Parse(time.DateOnly, day)
			s, err := b.Build(ctx, SetACard, d)
			if err != nil {
				t.Fatal(err)
			}
			if b.positional == keyJoin {
				t.Errorf("keyJoin %v, %s: positional %v", keyJoin, day, b.positional)
			}
			r, _ := filepath.Rel(root, s.Path)
			sum, err := durable.SHA256(filepath.Join(b.Out.TableDir(filepath.ToSlash(r)), "part-0.parquet"))
			if err != nil {
				t.Fatal(err)
			}
			sums[keyJoin] = append(sums[keyJoin], sum)
		}
		conn.Close()
		db.Close()
	}
	for i, day := range []string{"2024-01-01", "2023-07-01"} {
		if sums[false][i] != sums[true][i] {
			t.Errorf("as of %s: positional join %s, key join %s", day, sums[false][i], sums[true][i])
		}
	}
}

// testRings checks the link-graph feature against the generator's ground
// truth (_truth/loans.csv, fraud_ring_id per loan): ring members must sit
// in clearly larger connected groups than other borrowers, and the
// ring_member flag must pick out mostly ring members.
func testRings(t *testing.T, raw, root string) {
	// The window is 36 months from 2021-01: every application is before 2024-01-01.
	got := buildSnapshot(t, root, SetACard, "2024-01-01")
	loanApp := loanApplications(t, root)

	f, err := os.Open(filepath.Join(raw, "_truth", "loans.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var ring, other []float64
	for _, r := range recs[1:] { // loan_id,borrower_id,true_pd,ever_90dpd_12m,fraud_ring_id
		row := got[loanApp[r[0]]]
		if row == nil {
			t.Fatalf("loan %s: application %q has no A-card row", r[0], loanApp[r[0]])
		}
		size, _ := num(row["link_group_size"])
		if r[4] != "" {
			ring = append(ring, size)
		} else {
			other = append(other, size)
		}
	}
	if len(ring) < 20 {
		t.Fatalf("only %d ring loans in the generated book", len(ring))
	}
	mr, mo := mean(ring), mean(other)
	t.Logf("link_group_size: ring members n=%d mean %.2f median %.0f; others n=%d mean %.2f median %.0f",
		len(ring), mr, median(ring), len(other), mo, median(other))
	if mr < 2*mo || median(ring) <= median(other) {
		t.Errorf("ring members' groups (mean %.2f, median %.0f) not clearly larger than others' (mean %.2f, median %.0f)",
			mr, median(ring), mo, median(other))
	}
	share := func(xs []float64, min float64) float64 {
		n := 0
		for _, x := range xs {
			if x >= min {
				n++
			}
		}
		return float64(n) / float64(len(xs))
	}
	t.Logf("linked (group >= 2): %.1f%% of ring loans, %.2f%% of others", 100*share(ring, 2), 100*share(other, 2))
	t.Logf("ring_member flag (group >= 3): %.1f%% of ring loans, %.2f%% of others", 100*share(ring, 3), 100*share(other, 3))
	// The first member of a ring applies before anyone links to it, so not
	// every ring loan can be linked at its own apply time (the generator
	// draws each member's device from 2 and phone from 3 per ring).
	if share(ring, 2) < 0.5 || share(other, 2) > 0.05 {
		t.Errorf("linked share %.2f of ring loans and %.4f of others", share(ring, 2), share(other, 2))
	}
	if share(ring, 3) < 0.3 || share(other, 3) > 0.01 {
		t.Errorf("ring_member flags %.2f of ring loans and %.4f of others", share(ring, 3), share(other, 3))
	}
}

func loanApplications(t *testing.T, root string) map[string]string {
	t.Helper()
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "1GB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	scan, err := lake.New(root).Scan("loans")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := db.Query("SELECT loan_id, application_id FROM " + scan)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	out := map[string]string{}
	for rs.Next() {
		var l, a string
		if err := rs.Scan(&l, &a); err != nil {
			t.Fatal(err)
		}
		out[l] = a
	}
	return out
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// testDPDMatchesPerf compares the B-card dpd_current, months_on_book,
// outstanding_principal and population at a
// month end d with perf/panel, computed independently by perf. The two
// definitions differ only through events on d itself: perf counts a
// payment made on d and a loan issued on d, the features (events strictly
// before d) do not. Every other loan must agree exactly.
func testDPDMatchesPerf(t *testing.T, root string) {
	const d = "2022-06-30"
	asOf, _ := time.Parse(time.DateOnly, d)
	l := lake.New(root)
	pc := perf.DefaultConfig()
	pc.AsOf, pc.MemoryLimit, pc.Threads = asOf, "1GB", 2
	if _, err := perf.Run(context.Background(), l, pc, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	buildSnapshot(t, root, SetBCard, d)
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "1GB", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	panel, _ := l.Scan("perf/panel")
	feats := "read_parquet(" + lake.Quote(filepath.Join(Dir(l, SetBCard, asOf), "*.parquet")) + ")"
	reps, _ := l.Scan("repayments")
	loans, _ := l.Scan("loans")
	var n, compared, dpdDiff, onlyPerf, onlyFeat int64
	err = db.QueryRow(`
WITH p AS (SELECT loan_id, dpd, mob, outstanding_principal AS op FROM `+panel+` WHERE month_end = DATE '`+d+`' AND status = 'active'),
f AS (SELECT loan_id, dpd_current, months_on_book, outstanding_principal FROM `+feats+`),
on_d AS (SELECT DISTINCT loan_id FROM `+reps+` WHERE CAST(paid_at AS DATE) = DATE '`+d+`'
         UNION SELECT loan_id FROM `+loans+` WHERE issue_date = DATE '`+d+`'),
j AS (SELECT coalesce(p.loan_id, f.loan_id) AS loan_id, p.dpd, f.dpd_current, p.mob, f.months_on_book, p.op, f.outstanding_principal
      FROM p FULL JOIN f USING (loan_id) ANTI JOIN on_d USING (loan_id))
SELECT (SELECT count(*) FROM f),
       count(*) FILTER (WHERE dpd IS NOT NULL AND dpd_current IS NOT NULL),
       count(*) FILTER (WHERE dpd <> dpd_current OR mob <> months_on_book OR op <> outstanding_principal),
       count(*) FILTER (WHERE dpd_current IS NULL),
       count(*) FILTER (WHERE dpd IS NULL)
FROM j`).Scan(&n, &compared, &dpdDiff, &onlyPerf, &onlyFeat)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("as of %s: %d B-card rows, %d compared with perf/panel, %d differences in DPD, months on book or outstanding principal, %d only in perf, %d only in features",
		d, n, compared, dpdDiff, onlyPerf, onlyFeat)
	if compared < n*9/10 || dpdDiff != 0 || onlyPerf != 0 || onlyFeat != 0 {
		t.Errorf("B-card population/DPD disagree with perf/panel beyond events on the as-of date")
	}
}
