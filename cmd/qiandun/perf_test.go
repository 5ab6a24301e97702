package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"qiandun/data/lake"
)

// TestPerfCommandAgainstGeneratorTruth runs gen -> ingest -> perf and
// checks the A-card labels against the generator's own record of which
// loans reached 90+ DPD within 12 months (_truth/loans.csv,
// ever_90dpd_12m), an independent computation from the simulated
// repayment behaviour: every truth bad must be labelled bad and no truth
// good may be.
func TestPerfCommandAgainstGeneratorTruth(t *testing.T) {
	dir := t.TempDir()
	raw, lk := filepath.Join(dir, "raw"), filepath.Join(dir, "lake")
	run := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := realMain(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		return stdout.String()
	}
	run("gen", "--out", raw, "--loans", "3000", "--seed", "11", "--start", "2021-01", "--months", "30")
	run("ingest", "--raw", raw, "--lake", lk)
	out := run("perf", "--lake", lk)
	for _, want := range []string{"perf as of 2023-06-30", "vintage maturation", "amount_overdue_rate", "perf/panel"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT t.ever_90dpd_12m, a.label, count(*)
		FROM read_csv(` + lake.Quote(filepath.Join(raw, "_truth", "loans.csv")) + `) t
		JOIN read_parquet(` + lake.Quote(filepath.Join(lk, "labels", "acard", "*.parquet")) + `) a USING (loan_id)
		GROUP BY ALL ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var bads, total int
	for rows.Next() {
		var truth, n int
		var label string
		if err := rows.Scan(&truth, &label, &n); err != nil {
			t.Fatal(err)
		}
		total += n
		if truth == 1 {
			bads += n
		}
		if (truth == 1) != (label == "bad") {
			t.Errorf("%d loans with ever_90dpd_12m=%d labelled %s", n, truth, label)
		}
	}
	if total != 3000 || bads < 30 {
		t.Errorf("%d loans compared, %d truth bads", total, bads)
	}

	// Recoveries after write-off: a secured loan's collateral is sold, so
	// its recovery rate (paid after the write-off month / exposure then)
	// is far above an unsecured loan's; and the unsecured LGD in
	// perf/expected_loss comes from that history.
	rec, err := db.Query(`WITH wo AS (
		SELECT p.loan_id, l.collateral_type, p.month_end AS wo_date, p.outstanding_principal + p.overdue_interest AS ead
		FROM read_parquet(` + lake.Quote(filepath.Join(lk, "perf", "panel", "*.parquet")) + `) p
		JOIN read_parquet(` + lake.Quote(filepath.Join(lk, "loans", "*.parquet")) + `) l USING (loan_id)
		WHERE p.written_off)
		SELECT w.collateral_type, count(*),
		       CAST(coalesce(sum((SELECT sum(r.principal_paid + r.interest_paid + r.penalty_paid)
		            FROM read_parquet(` + lake.Quote(filepath.Join(lk, "repayments", "*.parquet")) + `) r
		            WHERE r.loan_id = w.loan_id AND CAST(r.paid_at AS DATE) > w.wo_date)), 0) / sum(w.ead) AS DOUBLE)
		FROM wo w GROUP BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	rate := map[string]float64{}
	for rec.Next() {
		var coll string
		var n int
		var r float64
		if err := rec.Scan(&coll, &n, &r); err != nil {
			t.Fatal(err)
		}
		if n >= 5 {
			rate[coll] = r
		}
	}
	if r, ok := rate["none"]; !ok || r < 0.02 || r > 0.4 {
		t.Errorf("unsecured recovery rate %v (%v), want 2%%-40%%", r, rate)
	}
	for _, coll := range []string{"car", "house"} {
		if r, ok := rate[coll]; ok && r < rate["none"]+0.2 {
			t.Errorf("%s recovery rate %.3f, unsecured %.3f: the collateral should recover far more", coll, r, rate["none"])
		}
	}
	if len(rate) < 2 {
		t.Errorf("recovery rates %v: want unsecured and at least one secured type", rate)
	}
	var lgd float64
	var src string
	if err := db.QueryRow(`SELECT any_value(lgd), any_value(lgd_source) FROM read_parquet(`+lake.Quote(filepath.Join(lk, "perf", "expected_loss", "*.parquet"))+`) WHERE collateral_type = 'none'`).Scan(&lgd, &src); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(src, "historical") || lgd < 0.6 || lgd > 0.99 {
		t.Errorf("unsecured LGD %v from %q, want historical, 0.6-0.99", lgd, src)
	}
}

func TestPerfCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"perf"}, "--lake is required"},
		{[]string{"perf", "--lake", t.TempDir()}, "no Parquet files"},
		{[]string{"perf", "--lake", t.TempDir(), "--as-of", "2024/01/31"}, "want YYYY-MM-DD"},
		{[]string{"perf", "--lake", t.TempDir(), "--as-of", "2024-01-15"}, "not a month end"},
	} {
		var stdout, stderr bytes.Buffer
		if code := realMain(tc.args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}
