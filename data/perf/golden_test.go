package perf

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"qiandun/data/lake"
)

// smallBook is five loans of 300.00 (3 x 100.00 principal + 10.00 interest)
// in two vintages, worked through by hand below.
//
// Vintage 2024-01 (issued 2024-01-10; due 02-10, 03-10, 04-10):
//
//	A borrower X: pays every installment on its due date; settled 04-10.
//	B borrower X: pays inst 1 only; written off. DPD from 03-10:
//	  Mar 31 21, Apr 30 51, May 31 82, Jun 30 112.
//	C borrower Y: inst 2 on 03-10, inst 1 late on 04-05, inst 3 on
//	  04-10; settled. DPD Feb 29 19, Mar 31 50, Apr 0.
//
// Vintage 2024-02 (issued 2024-02-15; due 03-15, 04-15, 05-15):
//
//	D borrower Z: on time; settled 05-15.
//	E borrower W: never pays; active. DPD Mar 31 16, Apr 30 46,
//	  May 31 77, Jun 30 107.
//
// The latest payment is 05-15, so the data ends 2024-04-30; with as-of
// 2024-06-30 (after it) B, which never reaches 180 DPD, is written off at
// its last row (June); with as-of 2024-03-31 it is still active.
func smallBook() book {
	var b book
	add := func(id, borrower, issue, status string, dues []string, pays map[int]string) {
		b.loans = append(b.loans, bLoan{id: id, borrower: borrower, issue: day(issue), principal: 30000, status: status})
		for i, d := range dues {
			b.insts = append(b.insts, bInst{id, i + 1, day(d), 10000, 1000})
		}
		for no := 1; no <= 3; no++ {
			if at, ok := pays[no]; ok {
				b.pays = append(b.pays, bPay{fmt.Sprintf("%s-%d", id, no), id, no, day(at), 10000, 1000, 0})
			}
		}
	}
	jan := []string{"2024-02-10", "2024-03-10", "2024-04-10"}
	feb := []string{"2024-03-15", "2024-04-15", "2024-05-15"}
	add("A", "X", "2024-01-10", "settled", jan, map[int]string{1: "2024-02-10", 2: "2024-03-10", 3: "2024-04-10"})
	add("B", "X", "2024-01-10", "written_off", jan, map[int]string{1: "2024-02-10"})
	add("C", "Y", "2024-01-10", "settled", jan, map[int]string{1: "2024-04-05", 2: "2024-03-10", 3: "2024-04-10"})
	add("D", "Z", "2024-02-15", "settled", feb, map[int]string{1: "2024-03-15", 2: "2024-04-15", 3: "2024-05-15"})
	add("E", "W", "2024-02-15", "active", feb, nil)
	return b
}

// runBook runs the stage on b and returns the lake and a DuckDB to query
// its outputs with.
func runBook(t *testing.T, b book, cfg Config) (lake.Lake, *Result, *sql.DB) {
	t.Helper()
	lk := writeLake(t, b)
	res, err := Run(context.Background(), lk, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return lk, res, db
}

// query returns the rows of q as strings joined by "|", one per row;
// {table} in q is replaced by the read_parquet of that lake table.
func query(t *testing.T, db *sql.DB, lk lake.Lake, q string) []string {
	t.Helper()
	for _, tab := range Tables() {
		q = strings.ReplaceAll(q, "{"+tab+"}", "read_parquet("+lake.Quote(lk.Glob(tab))+")")
	}
	rows, err := db.Query("SELECT concat_ws('|', *COLUMNS(*)) FROM (" + q + ")")
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func check(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestGoldenVintage(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AsOf = day("2024-06-30")
	lk, _, db := runBook(t, smallBook(), cfg)
	// 2024-01: 3 loans, 900.00. Ever 30+ (DPD >= 30): C at mob 2 (50),
	// B at mob 3 (51). Ever 90+: B at mob 5 (112, written off).
	// 2024-02: 2 loans, 600.00. E is 30+ at mob 2 (46), 90+ at mob 4 (107).
	check(t, "vintage", query(t, db, lk, `SELECT issue_month, mob, loans, principal, ever30_loans, ever30_principal,
		round(ever30_share_loans, 4), ever90_loans, round(ever90_share_principal, 4) FROM {perf/vintage} ORDER BY ALL`), []string{
		"2024-01-01|0|3|900.00|0|0.00|0.0|0|0.0",
		"2024-01-01|1|3|900.00|0|0.00|0.0|0|0.0",
		"2024-01-01|2|3|900.00|1|300.00|0.3333|0|0.0",
		"2024-01-01|3|3|900.00|2|600.00|0.6667|0|0.0",
		"2024-01-01|4|3|900.00|2|600.00|0.6667|0|0.0",
		"2024-01-01|5|3|900.00|2|600.00|0.6667|1|0.3333",
		"2024-02-01|0|2|600.00|0|0.00|0.0|0|0.0",
		"2024-02-01|1|2|600.00|0|0.00|0.0|0|0.0",
		"2024-02-01|2|2|600.00|1|300.00|0.5|0|0.0",
		"2024-02-01|3|2|600.00|1|300.00|0.5|0|0.0",
		"2024-02-01|4|2|600.00|1|300.00|0.5|1|0.5",
	})
}

func TestGoldenRollRates(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AsOf = day("2024-06-30")
	lk, _, db := runBook(t, smallBook(), cfg)
	// Balances are outstanding principal at the previous month end.
	// Feb: A, B stay C; C goes C -> M1 (19). All held 300.00 in Jan.
	// Mar: A (200) and D (300) stay C; B (200) and E (300) go C -> M1;
	//      C (300) goes M1 -> M2 (50).
	// Apr: A (100) settles, D (200) stays C; B (200) and E (300) M1 -> M2;
	//      C (200) M2 -> settled.
	// May: B (200) and E (300) M2 -> M3; D (100) C -> settled.
	// Jun: B (200) M3 -> written_off, E (300) M3 -> M4+.
	check(t, "roll rates", query(t, db, lk, `SELECT month, from_bucket, to_bucket, n, balance, round(share_n, 4), round(share_balance, 4)
		FROM {perf/roll_rates} ORDER BY ALL`), []string{
		"2024-02-29|C|C|2|600.00|0.6667|0.6667",
		"2024-02-29|C|M1|1|300.00|0.3333|0.3333",
		"2024-03-31|C|C|2|500.00|0.5|0.5",
		"2024-03-31|C|M1|2|500.00|0.5|0.5",
		"2024-03-31|M1|M2|1|300.00|1.0|1.0",
		"2024-04-30|C|C|1|200.00|0.5|0.6667",
		"2024-04-30|C|settled|1|100.00|0.5|0.3333",
		"2024-04-30|M1|M2|2|500.00|1.0|1.0",
		"2024-04-30|M2|settled|1|200.00|1.0|1.0",
		"2024-05-31|C|settled|1|100.00|1.0|1.0",
		"2024-05-31|M2|M3|2|500.00|1.0|1.0",
		"2024-06-30|M3|M4+|1|300.00|0.5|0.6",
		"2024-06-30|M3|written_off|1|200.00|0.5|0.4",
	})
	// Active book at Mar 31: A C 100, D C 200, B M1 200, E M1 300, C M2 200.
	check(t, "delinquency", query(t, db, lk, `SELECT bucket, n, balance, round(share_n, 4), round(share_balance, 4)
		FROM {perf/delinquency} WHERE month_end = DATE '2024-03-31' ORDER BY ALL`), []string{
		"C|2|300.00|0.4|0.3",
		"M1|2|500.00|0.4|0.5",
		"M2|1|200.00|0.2|0.2",
	})
	// A-card, window 12: nobody has 12 months, so closed loans are labelled
	// on what was observed: A, D good (settled, never late); B bad
	// (written off); C indeterminate (settled, worst 50); E is immature
	// but already bad (107).
	check(t, "acard", query(t, db, lk, `SELECT loan_id, issue_month, label, bad FROM {labels/acard} ORDER BY ALL`), []string{
		"A|2024-01-01|good|0", "B|2024-01-01|bad|1", "C|2024-01-01|indeterminate", "D|2024-02-01|good|0", "E|2024-02-01|bad|1",
	})
	check(t, "summary", query(t, db, lk, `SELECT issue_month, loans, goods, bads, indeterminates, immature, bad_rate FROM {labels/summary} ORDER BY ALL`), []string{
		"2024-01-01|3|1|1|1|0|0.5", "2024-02-01|2|1|1|0|0|0.5",
	})
}

func TestGoldenDisclosure(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AsOf = day("2024-03-31")
	lk, res, db := runBook(t, smallBook(), cfg)
	// At 2024-03-31 all five loans are active (B is not written off yet:
	// the data runs to April). Outstanding principal A 100 + B 200 +
	// C 200 (paid inst 2) + D 200 + E 300 = 1000. Interest not yet paid:
	// A 10, B 20, C 20, D 20, E 30 = 100. Borrower X holds A+B = 300, W
	// holds 300: largest share 0.3. Past due: B 21, C 50, E 16 days: 3
	// loans, 700.00 of principal; one installment (110.00) each unpaid.
	want := map[string]string{
		"cumulative_lent_amount": "1500.000000", "cumulative_lent_count": "5.000000",
		"outstanding_principal": "1000.000000", "outstanding_count": "5.000000",
		"interest_outstanding": "100.000000", "current_borrowers": "4.000000", "cumulative_borrowers": "4.000000",
		"largest_borrower_share": "0.300000", "top10_borrowers_share": "1.000000",
		"overdue_amount": "700.000000", "overdue_count": "3.000000", "overdue_due_amount": "330.000000",
		"overdue_90_amount": "0.000000", "overdue_90_count": "0.000000",
		"project_overdue_rate": "0.600000", "amount_overdue_rate": "0.700000",
	}
	if len(res.Disclosure) != len(want) {
		t.Fatalf("%d metrics, want %d", len(res.Disclosure), len(want))
	}
	for _, m := range res.Disclosure {
		if m.Value != want[m.Name] {
			t.Errorf("%s = %s, want %s", m.Name, m.Value, want[m.Name])
		}
		if len(m.Definition) < 10 {
			t.Errorf("%s has no definition", m.Name)
		}
	}
	got := query(t, db, lk, `SELECT as_of, value FROM {perf/disclosure} WHERE metric = 'overdue_amount'`)
	check(t, "disclosure table", got, []string{"2024-03-31|700.000000"})
}

func TestExpectedLossScorecardPD(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AsOf = day("2024-06-30")
	dir := t.TempDir()
	pdFile := filepath.Join(dir, "pd.parquet")
	db0, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db0.Exec("COPY (SELECT 'E' AS loan_id, 0.2 AS pd) TO " + lake.Quote(pdFile) + " (FORMAT parquet)"); err != nil {
		t.Fatal(err)
	}
	db0.Close()
	cfg.PDFrom = pdFile
	lk, res, db := runBook(t, smallBook(), cfg)
	// Only E is active at June: EAD = 300.00 principal + 30.00 interest due
	// and unpaid = 330.00; PD 0.2 from the file; LGD 0.9 (the unsecured
	// default: one written-off loan is too little history). EL = 59.40.
	check(t, "el", query(t, db, lk, `SELECT loan_id, bucket, ead, pd, pd_source, lgd, el FROM {perf/expected_loss}`), []string{
		"E|M4+|330.00|0.2|scorecard (--pd-from)|0.9|59.40",
	})
	if len(res.LGD) != 1 || !strings.Contains(res.LGD[0].Source, "configured default") {
		t.Errorf("LGD source %+v", res.LGD)
	}
}

// labelBook has loans built for the label definitions; as-of 2025-12-31.
//
//	G issued 2024-01-10, 24 installments due the 10th from 2024-02-10;
//	  pays installments 1-11, nothing from 2025-01-10 (mob 12) on. DPD at
//	  month ends: mob 12 (Jan 31 2025) 21, mob 13 49, mob 14 80, mob 15
//	  110, ... mob 23 (Dec 31 2025) 355.
//	H issued 2025-06-10, 12 installments, paid on time: mob 6 at as-of.
//	I issued 2025-06-10, 12 installments, never paid: DPD 174 at as-of.
//	J issued 2025-06-10, pays installments 1-3, misses 4 (due 2025-10-10):
//	  DPD 82 at as-of.
func labelBook() book {
	var b book
	add := func(id, issue string, n, paid int) {
		is := day(issue)
		b.loans = append(b.loans, bLoan{id: id, borrower: "B" + id, issue: is, principal: int64(n) * 10000, status: "active"})
		for i := 1; i <= n; i++ {
			due := is.AddDate(0, i, 0)
			b.insts = append(b.insts, bInst{id, i, due, 10000, 1000})
			if i <= paid {
				b.pays = append(b.pays, bPay{fmt.Sprintf("%s-%d", id, i), id, i, due, 10000, 1000, 0})
			}
		}
	}
	add("G", "2024-01-10", 24, 11)
	add("H", "2025-06-10", 12, 12)
	add("I", "2025-06-10", 12, 0)
	add("J", "2025-06-10", 12, 3)
	return b
}

func TestLabels(t *testing.T) {
	type want struct{ g, h, i, j string }
	cases := []struct {
		name string
		set  func(*Config)
		want want
	}{
		// G is at most 21 DPD in mobs 0-12 and turns bad (110) only at mob
		// 15: good for the 12-month window. H is immature. I is immature
		// but already bad (174 >= 90). J is immature at 82: not yet bad.
		{"default", func(*Config) {}, want{"good", "immature", "bad", "immature"}},
		// With a 30-DPD bad threshold (good <= 29), G turns bad in month 13
		// (49): still good for 12 months, bad for 13.
		{"bad in month 13, window 12", func(c *Config) { c.ACard.BadDPD, c.ACard.GoodMaxDPD = 30, 29 }, want{"good", "immature", "bad", "bad"}},
		{"bad in month 13, window 13", func(c *Config) { c.ACard.BadDPD, c.ACard.GoodMaxDPD, c.ACard.WindowMonths = 30, 29, 13 }, want{"bad", "immature", "bad", "bad"}},
		// Window 14 with the default band: worst in mobs 0-14 is 80 ->
		// indeterminate.
		{"window 14", func(c *Config) { c.ACard.WindowMonths = 14 }, want{"indeterminate", "immature", "bad", "immature"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.AsOf = day("2025-12-31")
			c.set(&cfg)
			lk, _, db := runBook(t, labelBook(), cfg)
			got := query(t, db, lk, `SELECT label FROM {labels/acard} ORDER BY loan_id`)
			check(t, "acard", got, []string{c.want.g, c.want.h, c.want.i, c.want.j})
		})
	}

	cfg := DefaultConfig()
	cfg.AsOf = day("2025-12-31")
	lk, _, db := runBook(t, labelBook(), cfg)
	// B-card for G (observed at mobs 3..23, all active): 60+ first at mob
	// 14 (80), so observations at mobs 3-7 are good, 8-22 bad (22 has only
	// one month of future but is already bad), 23 immature.
	check(t, "bcard G", query(t, db, lk, `SELECT label, count(*), min(obs_date), max(obs_date) FROM {labels/bcard}
		WHERE loan_id = 'G' GROUP BY label ORDER BY 3`), []string{
		"good|5|2024-04-30|2024-08-31",
		"bad|15|2024-09-30|2025-11-30",
		"immature|1|2025-12-31|2025-12-31",
	})
	// H at mobs 3-6 (Sep-Dec 2025) cannot be observed for 6 months yet.
	check(t, "bcard H", query(t, db, lk, `SELECT label, count(*), bool_and(bad IS NULL) FROM {labels/bcard} WHERE loan_id = 'H' GROUP BY label`),
		[]string{"immature|4|true"})
}
