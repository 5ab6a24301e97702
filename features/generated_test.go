package features

import (
	"context"
	"encoding/csv"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"qiandun/data/gen"
	"qiandun/data/ingest"
	"qiandun/data/lake"
)

// TestFraudRingsOnGeneratedBook runs gen -> ingest -> features on a small
// generated book and checks the link-graph feature against the
// generator's ground truth (_truth/loans.csv, fraud_ring_id per loan):
// ring members must sit in clearly larger connected groups than other
// borrowers, and the ring_member flag must pick out mostly ring members.
func TestFraudRingsOnGeneratedBook(t *testing.T) {
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
