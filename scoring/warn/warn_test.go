//go:build duckdb_arrow

package warn_test

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"qiandun/data/lake"
	"qiandun/data/perf"
	"qiandun/scoring/internal/demo"
	"qiandun/scoring/publish"
	"qiandun/scoring/score"
	"qiandun/scoring/warn"
)

func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "1GB", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type ewsRow struct {
	rank, score, priority, dpd  int
	loan, primary, reasons, act string
	queue                       string
	pd                          float64
}

func readList(t *testing.T, db *sql.DB, dir string) []ewsRow {
	t.Helper()
	if _, err := publish.Verify(dir); err != nil {
		t.Fatal(err)
	}
	rs, err := db.Query("SELECT rank, score, priority, dpd, loan_id, primary_reason, reasons, action, queue, pd FROM read_parquet(" + lake.Quote(filepath.Join(dir, "ews.parquet")) + ")")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []ewsRow
	for rs.Next() {
		var r ewsRow
		if err := rs.Scan(&r.rank, &r.score, &r.priority, &r.dpd, &r.loan, &r.primary, &r.reasons, &r.act, &r.queue, &r.pd); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestOnDemoBook runs the early-warning stage on a generated, ingested
// book of 3,000 loans with trained cards.
func TestOnDemoBook(t *testing.T) {
	ctx := context.Background()
	book, err := demo.Build(ctx, t.TempDir(), 3000)
	if err != nil {
		t.Fatal(err)
	}
	const asOf = "2023-12-31"
	base := warn.Options{Lake: book.Lake, Model: book.BCard, AsOf: asOf, Config: warn.DefaultConfig()}
	db := openDB(t)

	t.Run("list", func(t *testing.T) {
		o := base
		o.Out = t.TempDir()
		// Every rule on, so that each signal is checked below.
		o.Config = allRules()
		man, dir, err := warn.Run(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		list := readList(t, db, dir)
		if int64(len(list)) != man.Rows || man.Rows == 0 || man.Rows >= man.ActiveLoans {
			t.Fatalf("%d rows listed, manifest %d of %d active", len(list), man.Rows, man.ActiveLoans)
		}
		// Ranking: 1..n by priority, PD descending, loan_id; priority,
		// action and queue from the best-priority rule (the earlier on a tie).
		cfg := o.Config
		sorted := slices.Clone(list)
		slices.SortFunc(sorted, func(a, b ewsRow) int {
			return cmp.Or(cmp.Compare(a.priority, b.priority), -cmp.Compare(a.pd, b.pd), strings.Compare(a.loan, b.loan))
		})
		ties := 0
		for i, r := range sorted {
			if r.rank != i+1 || list[i].loan != r.loan {
				t.Fatalf("rank %d: %+v, want rank %d in file order", r.rank, r, i+1)
			}
			if i > 0 && sorted[i-1].pd == r.pd && sorted[i-1].priority == r.priority {
				ties++
			}
			best, primary := math.MaxInt, ""
			for _, name := range warn.RuleNames {
				if slices.Contains(strings.Split(r.reasons, ";"), name) && cfg.Rules[name].Priority < best {
					best, primary = cfg.Rules[name].Priority, name
				}
			}
			if r.priority != best || r.primary != primary || r.act != cfg.Rules[primary].Action || r.queue != cfg.Rules[primary].Queue {
				t.Fatalf("loan %s: reasons %s → priority %d primary %s action %s queue %s", r.loan, r.reasons, r.priority, r.primary, r.act, r.queue)
			}
		}
		if ties == 0 {
			t.Log("no PD ties in the list; loan_id tie-break not exercised")
		}
		// Signals against independent formulations over the lake, on the
		// loans perf's panel has active at the as-of month end.
		snap := "(SELECT f.* FROM read_parquet(" + lake.Quote(filepath.Join(book.Lake, "features", "bcard", "as_of="+asOf, "*.parquet")) + ") f " +
			"JOIN read_parquet(" + lake.Quote(filepath.Join(book.Lake, "perf", "panel", "*.parquet")) + ") p ON p.loan_id = f.loan_id AND p.month_end = DATE '" + asOf + "' AND p.status = 'active')"
		loans := lake.Quote(filepath.Join(book.Lake, "loans", "*.parquet"))
		reps := lake.Quote(filepath.Join(book.Lake, "repayments", "*.parquet"))
		sched := lake.Quote(filepath.Join(book.Lake, "repayment_schedule", "*.parquet"))
		want := map[string]string{
			"lost_contact": "SELECT loan_id FROM " + snap + " WHERE coll_lost_contact_open = 1",
			"m4_plus":      "SELECT loan_id FROM " + snap + " WHERE dpd_current > 90",
			"m2_m3":        "SELECT loan_id FROM " + snap + " WHERE dpd_current > 30 AND dpd_current <= 90",
			"ltv_breach": "SELECT f.loan_id FROM " + snap + " f JOIN read_parquet(" + loans + ") l USING (loan_id) " +
				"WHERE l.collateral_value > 0 AND l.collateral_type != 'none' AND f.outstanding_principal > l.collateral_value",
			// Installment 1 due before as-of and still short by a cent or more.
			"first_payment_missed": "SELECT f.loan_id FROM " + snap + " f JOIN read_parquet(" + sched + ") s ON s.loan_id = f.loan_id AND s.installment_no = 1 " +
				"WHERE s.due_date < DATE '" + asOf + "' AND s.principal_due + s.interest_due - (SELECT coalesce(sum(principal_paid + interest_paid), 0) FROM read_parquet(" + reps + ") r " +
				"WHERE r.loan_id = f.loan_id AND r.installment_no = 1 AND CAST(r.paid_at AS DATE) < DATE '" + asOf + "') >= 0.01",
			// New inquiries above the 99th percentile of current loans.
			"multi_lending": "SELECT loan_id FROM " + snap + " WHERE b_inq_30d >= 3 OR b_inq_90d >= 4",
			"entering_m1":   "SELECT loan_id FROM " + snap + " WHERE dpd_current BETWEEN 1 AND 30 AND DATE '" + asOf + "' - INTERVAL (dpd_current) DAY > DATE '2023-11-30'",
		}
		got := map[string]map[string]bool{}
		for _, r := range list {
			for _, reason := range strings.Split(r.reasons, ";") {
				if got[reason] == nil {
					got[reason] = map[string]bool{}
				}
				got[reason][r.loan] = true
			}
		}
		for rule, q := range want {
			rs, err := db.Query(q)
			if err != nil {
				t.Fatalf("%s: %v", rule, err)
			}
			n := 0
			for rs.Next() {
				var id string
				rs.Scan(&id)
				if !got[rule][id] {
					t.Errorf("%s: loan %s should be listed with this reason", rule, id)
				}
				n++
			}
			rs.Close()
			if n != len(got[rule]) {
				t.Errorf("%s: %d loans listed, independent count %d", rule, len(got[rule]), n)
			}
			t.Logf("%s: %d loans", rule, n)
		}
		// The list's B-score is the score stage's B-score.
		_, sdir, err := score.Run(ctx, score.Options{Lake: book.Lake, AsOf: asOf, Models: []string{book.BCard}, Out: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		var diff int
		if err := db.QueryRow("SELECT count(*) FROM read_parquet(" + lake.Quote(filepath.Join(dir, "ews.parquet")) + ") e JOIN read_parquet(" +
			lake.Quote(filepath.Join(sdir, "scores.parquet")) + ") s ON s.entity_id = e.loan_id WHERE s.score != e.score OR s.pd != e.pd").Scan(&diff); err != nil {
			t.Fatal(err)
		}
		if diff != 0 {
			t.Fatalf("%d listed loans with a score different from the score stage's", diff)
		}
		// Reproducible: a second run writes identical files.
		o2 := o
		o2.Out = t.TempDir()
		_, dir2, err := warn.Run(ctx, o2)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"ews.csv", "ews.parquet", "manifest.json"} {
			a, _ := os.ReadFile(filepath.Join(dir, f))
			b, _ := os.ReadFile(filepath.Join(dir2, f))
			if !bytes.Equal(a, b) {
				t.Fatalf("%s differs between two runs", f)
			}
		}
	})

	// On book: a loan paid off on the as-of day itself, or exported as
	// written off while 180+ DPD, is not listed, though the B-card
	// snapshot (events strictly before as-of) still has it.
	t.Run("on book", func(t *testing.T) {
		o := base
		o.Config, o.Out = allRules(), t.TempDir()
		man, dir, err := warn.Run(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		list := readList(t, db, dir)
		// perf's panel (an independent implementation) has every listed
		// loan active, neither settled nor written off, at the month end.
		var off int
		if err := db.QueryRow("SELECT count(*) FROM read_parquet(" + lake.Quote(filepath.Join(dir, "ews.parquet")) + ") e LEFT JOIN read_parquet(" +
			lake.Quote(filepath.Join(book.Lake, "perf", "panel", "*.parquet")) + ") p ON p.loan_id = e.loan_id AND p.month_end = DATE '" + asOf + "' " +
			"WHERE p.status IS DISTINCT FROM 'active' OR p.settled OR p.written_off").Scan(&off); err != nil {
			t.Fatal(err)
		}
		if off != 0 {
			t.Fatalf("%d listed loans are not active at %s in perf/panel", off, asOf)
		}
		// A copy of the lake in which three listed loans are paid off in
		// full during the as-of day, and the most delinquent listed loan is
		// exported as written off and (in the snapshot) 180 DPD.
		cp := filepath.Join(t.TempDir(), "lake")
		if err := os.CopyFS(cp, os.DirFS(book.Lake)); err != nil {
			t.Fatal(err)
		}
		var settle []string
		writeOff := slices.MaxFunc(list, func(a, b ewsRow) int { return cmp.Compare(a.dpd, b.dpd) })
		for _, r := range list {
			if r.loan != writeOff.loan && len(settle) < 3 {
				settle = append(settle, r.loan)
			}
		}
		if len(settle) < 3 || writeOff.dpd == 0 {
			t.Fatalf("demo book: want 3 listed loans and one past due, have %v and %+v", settle, writeOff)
		}
		ids := "'" + strings.Join(settle, "', '") + "'"
		sched := lake.Quote(filepath.Join(cp, "repayment_schedule", "*.parquet"))
		reps := lake.Quote(filepath.Join(cp, "repayments", "*.parquet"))
		if _, err := db.Exec(fmt.Sprintf(`COPY (
  SELECT 'SETTLE-' || s.loan_id || '-' || s.installment_no AS txn_id, s.loan_id, s.installment_no,
         TIMESTAMP '%[1]s 10:00:00' AS paid_at,
         CAST(s.principal_due - coalesce(p.pp, 0) AS DECIMAL(18,2)) AS principal_paid,
         CAST(s.interest_due - coalesce(p.ip, 0) AS DECIMAL(18,2)) AS interest_paid,
         CAST(0 AS DECIMAL(18,2)) AS penalty_paid
  FROM read_parquet(%[2]s) s
  LEFT JOIN (SELECT loan_id, installment_no, sum(principal_paid) AS pp, sum(interest_paid) AS ip FROM read_parquet(%[3]s) GROUP BY ALL) p USING (loan_id, installment_no)
  WHERE s.loan_id IN (%[4]s) AND s.principal_due + s.interest_due > coalesce(p.pp, 0) + coalesce(p.ip, 0)
) TO %[5]s (FORMAT parquet)`, asOf, sched, reps, ids, lake.Quote(filepath.Join(cp, "repayments", "zz-settle.parquet")))); err != nil {
			t.Fatal(err)
		}
		rewrite := func(table, replace string) {
			dir := filepath.Join(cp, table)
			tmp := filepath.Join(t.TempDir(), "part.parquet")
			if _, err := db.Exec(fmt.Sprintf("COPY (SELECT * REPLACE (%s) FROM read_parquet(%s)) TO %s (FORMAT parquet)",
				replace, lake.Quote(filepath.Join(dir, "*.parquet")), lake.Quote(tmp))); err != nil {
				t.Fatal(err)
			}
			old, _ := filepath.Glob(filepath.Join(dir, "*.parquet"))
			for _, f := range old {
				os.Remove(f)
			}
			if err := os.Rename(tmp, filepath.Join(dir, "part-0.parquet")); err != nil {
				t.Fatal(err)
			}
		}
		rewrite("loans", "CASE WHEN loan_id = '"+writeOff.loan+"' THEN 'written_off' ELSE status END AS status")
		rewrite(filepath.Join("features", "bcard", "as_of="+asOf), "CASE WHEN loan_id = '"+writeOff.loan+"' THEN greatest(dpd_current, 180) ELSE dpd_current END AS dpd_current")
		// perf runs after every change to the raw tables: its intermediate
		// models (installment payoff, loan closure) see the new payments.
		pc := perf.DefaultConfig()
		if pc.AsOf, err = time.Parse(time.DateOnly, asOf); err != nil {
			t.Fatal(err)
		}
		if _, err := perf.Run(ctx, lake.New(cp), pc, nil); err != nil {
			t.Fatal(err)
		}
		o2 := o
		o2.Lake, o2.Out = cp, t.TempDir()
		man2, dir2, err := warn.Run(ctx, o2)
		if err != nil {
			t.Fatal(err)
		}
		gone := append(slices.Clone(settle), writeOff.loan)
		if man2.ActiveLoans != man.ActiveLoans-int64(len(gone)) {
			t.Errorf("active loans %d, want %d - %d", man2.ActiveLoans, man.ActiveLoans, len(gone))
		}
		reasons := map[string]string{}
		for _, r := range readList(t, db, dir2) {
			if slices.Contains(gone, r.loan) {
				t.Errorf("loan %s listed after it was settled / written off: %+v", r.loan, r)
			}
			reasons[r.loan] = r.reasons
		}
		for _, r := range list {
			if !slices.Contains(gone, r.loan) && reasons[r.loan] != r.reasons {
				t.Errorf("loan %s: reasons %q, want %q as before", r.loan, reasons[r.loan], r.reasons)
			}
		}
		if len(reasons) != len(list)-len(gone) {
			t.Errorf("%d loans listed, want %d", len(reasons), len(list)-len(gone))
		}
	})

	t.Run("config", func(t *testing.T) {
		cfgPath := filepath.Join(t.TempDir(), "warn.yaml")
		os.WriteFile(cfgPath, []byte("thresholds: {min_pd: 0.5}\nrules:\n  lost_contact: {enabled: false}\n  multi_lending: {priority: 5}\n"), 0o644)
		cfg, err := warn.LoadConfig(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Thresholds.MinPD != 0.5 || cfg.Thresholds.MaxLTV != 1.0 || cfg.Rules["lost_contact"].Enabled ||
			cfg.Rules["multi_lending"].Priority != 5 || cfg.Rules["multi_lending"].Action != "sms_reminder" {
			t.Fatalf("partial config over defaults: %+v %+v %+v", cfg.Thresholds, *cfg.Rules["lost_contact"], *cfg.Rules["multi_lending"])
		}
		o := base
		o.Out, o.Config = t.TempDir(), cfg
		_, dir, err := warn.Run(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range readList(t, db, dir) {
			if strings.Contains(r.reasons, "lost_contact") {
				t.Fatalf("disabled rule listed: %+v", r)
			}
			if strings.Contains(r.reasons, "high_risk_score") && r.pd < 0.5 {
				t.Fatalf("high_risk_score below min_pd 0.5: %+v", r)
			}
		}
		for _, bad := range []string{"rules:\n  nonsense: {enabled: true}\n", "rules:\n  m2_m3: {action: pray}\n"} {
			os.WriteFile(cfgPath, []byte(bad), 0o644)
			if _, err := warn.LoadConfig(cfgPath); err == nil {
				t.Fatalf("config %q accepted", bad)
			}
		}
	})

	// The back-test: on month ends with six months of outcomes, the top
	// of the list catches several times the bads a random list of the
	// same size would.
	t.Run("backtest", func(t *testing.T) {
		bt, err := warn.RunBacktest(ctx, base, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(bt.Months) < 6 || bt.Bads < 100 {
			t.Fatalf("back-test over %d months, %d bads", len(bt.Months), bt.Bads)
		}
		for _, r := range bt.Total {
			t.Logf("top %4.0f%%: %5d loans, %4d bads caught, %5.1f%% of bads (random %4.1f%%)", 100*r.Share, r.Loans, r.Caught, 100*r.Captured, 100*r.Random)
			if math.Abs(r.Random-r.Share) > 0.005 {
				t.Errorf("random capture %v for a %v list", r.Random, r.Share)
			}
			if r.Captured < min(3*r.Random, 0.75) {
				t.Errorf("top %v%% catches %.1f%% of bads, random %.1f%%: not a wide margin", 100*r.Share, 100*r.Captured, 100*r.Random)
			}
		}
		// Each rule's pooled record: m2_m3 against an independent count
		// over the snapshots, on the loans perf's panel has active; the
		// other rules against the identities between the counts.
		var flagged, labelled, bads2 int64
		for _, m := range bt.Months {
			var f, l, b int64
			if err := db.QueryRow(fmt.Sprintf(`SELECT count(*), count(lb.bad), coalesce(sum(lb.bad), 0)
FROM read_parquet(%s) f
JOIN read_parquet(%s) p ON p.loan_id = f.loan_id AND p.month_end = DATE '%s' AND p.status = 'active'
LEFT JOIN read_parquet(%s) lb ON lb.loan_id = f.loan_id AND lb.obs_date = DATE '%[3]s'
WHERE f.dpd_current BETWEEN 31 AND 90`, lake.Quote(filepath.Join(book.Lake, "features", "bcard", "as_of="+m.AsOf, "*.parquet")),
				lake.Quote(filepath.Join(book.Lake, "perf", "panel", "*.parquet")), m.AsOf, lake.Quote(filepath.Join(book.Lake, "labels", "bcard", "*.parquet")))).Scan(&f, &l, &b); err != nil {
				t.Fatal(err)
			}
			flagged, labelled, bads2 = flagged+f, labelled+l, bads2+b
		}
		if len(bt.RuleStats) != len(warn.DefaultConfig().Enabled()) {
			t.Fatalf("%d rule records, want one per enabled rule", len(bt.RuleStats))
		}
		for _, r := range bt.RuleStats {
			t.Logf("%-20s flagged %5d (%5.2f%%) bad rate %5.1f%% lift %4.1fx; only this rule %d", r.Name, r.Flagged, 100*r.Coverage, 100*r.BadRate, r.Lift, r.Only)
			if !(r.Bads <= r.Labelled && r.Labelled <= r.Flagged && r.Only <= r.Primary && r.Primary <= r.Flagged && r.OnlyBads <= r.OnlyLab && r.OnlyLab <= r.Only) {
				t.Errorf("%s: inconsistent counts %+v", r.Name, r)
			}
			if r.Labelled > 0 && math.Abs(r.Lift-float64(r.Bads)/float64(r.Labelled)/(float64(bt.Bads)/float64(bt.Labelled))) > 1e-9 {
				t.Errorf("%s: lift %v", r.Name, r.Lift)
			}
			if r.Name == "m2_m3" && (r.Flagged != flagged || r.Labelled != labelled || r.Bads != bads2) {
				t.Errorf("m2_m3: flagged/labelled/bads %d/%d/%d, independent %d/%d/%d", r.Flagged, r.Labelled, r.Bads, flagged, labelled, bads2)
			}
		}
		// Caught counts against an independent count for one month.
		m := bt.Months[0]
		for _, s := range m.Sizes {
			if s.Caught > m.Bads || s.Loans != int64(math.Ceil(s.Share*float64(m.Active))) {
				t.Fatalf("month %s size %v: %+v (active %d, bads %d)", m.AsOf, s.Share, s, m.Active, m.Bads)
			}
		}
		var bads int64
		if err := db.QueryRow(fmt.Sprintf("SELECT count(*) FROM read_parquet(%s) f JOIN read_parquet(%s) l ON l.loan_id = f.loan_id AND l.obs_date = DATE '%s' WHERE l.bad = 1",
			lake.Quote(filepath.Join(book.Lake, "features", "bcard", "as_of="+m.AsOf, "*.parquet")), lake.Quote(filepath.Join(book.Lake, "labels", "bcard", "*.parquet")), m.AsOf)).Scan(&bads); err != nil {
			t.Fatal(err)
		}
		if bads != m.Bads {
			t.Fatalf("month %s: %d bads, independent count %d", m.AsOf, m.Bads, bads)
		}

		// By population: loans current (DPD 0) and in M1 at the month
		// end, their loan-months and bads against an independent count
		// over the snapshots and labels; the top of the PD ranking among
		// current loans beats a random list of them.
		if len(bt.Populations) != 2 || bt.Populations[0].Name != "current" || bt.Populations[1].Name != "m1" {
			t.Fatalf("populations %+v", bt.Populations)
		}
		for _, p := range bt.Populations {
			filter := map[string]string{"current": "f.dpd_current = 0", "m1": "f.dpd_current BETWEEN 1 AND 30"}[p.Name]
			var active, bads int64
			for _, m := range bt.Months {
				var a, b int64
				if err := db.QueryRow(fmt.Sprintf(`SELECT count(lb.bad), coalesce(sum(lb.bad), 0)
FROM read_parquet(%s) f
JOIN read_parquet(%s) p ON p.loan_id = f.loan_id AND p.month_end = DATE '%s' AND p.status = 'active'
LEFT JOIN read_parquet(%[4]s) lb ON lb.loan_id = f.loan_id AND lb.obs_date = DATE '%[3]s'
WHERE %[5]s`, lake.Quote(filepath.Join(book.Lake, "features", "bcard", "as_of="+m.AsOf, "*.parquet")),
					lake.Quote(filepath.Join(book.Lake, "perf", "panel", "*.parquet")), m.AsOf, lake.Quote(filepath.Join(book.Lake, "labels", "bcard", "*.parquet")), filter)).Scan(&a, &b); err != nil {
					t.Fatal(err)
				}
				active, bads = active+a, bads+b
			}
			if p.Active != active || p.Bads != bads {
				t.Errorf("%s: %d loan-months, %d bads; independent count %d, %d", p.Name, p.Active, p.Bads, active, bads)
			}
			for _, r := range p.Sizes {
				t.Logf("%s top %4.0f%% by PD: %5d loans, %4d bads caught, %5.1f%% of bads, lift %.1fx", p.Name, 100*r.Share, r.Loans, r.Caught, 100*r.Captured, r.Captured/r.Random)
				if r.Caught > p.Bads || math.Abs(float64(r.Loans)-r.Share*float64(p.Active)) > float64(len(bt.Months)) {
					t.Errorf("%s top %v: %+v (active %d, bads %d)", p.Name, r.Share, r, p.Active, p.Bads)
				}
			}
			t.Logf("%s rules list: %d loans (%.1f%%), %.1f%% of bads, lift %.1fx", p.Name, p.List.Loans, 100*p.List.Share, 100*p.List.Captured, ratio(p.List.Captured, p.List.Random))
			for _, r := range p.Rules {
				t.Logf("%s %-20s flagged %5d bad rate %5.1f%% lift %4.1fx captures %5.1f%%", p.Name, r.Name, r.Flagged, 100*r.BadRate, r.Lift, 100*r.Captured)
				if r.Bads > p.Bads || r.Labelled > r.Flagged || r.Flagged > p.Active {
					t.Errorf("%s %s: inconsistent %+v", p.Name, r.Name, r)
				}
			}
		}
		if cur := bt.Populations[0]; cur.Bads == 0 || cur.Sizes[2].Captured < 3*cur.Sizes[2].Random { // the goal: 3x a random list
			t.Errorf("current loans: top 5%% by PD catches %.1f%% of their bads, random %.1f%%", 100*cur.Sizes[2].Captured, 100*cur.Sizes[2].Random)
		}
	})
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// allRules is the default configuration with every rule enabled.
func allRules() warn.Config {
	c := warn.DefaultConfig()
	for _, r := range c.Rules {
		r.Enabled = true
	}
	return c
}
