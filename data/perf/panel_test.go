package perf

import (
	"slices"
	"testing"
)

// TestPanelTrickyPatterns checks the SQL panel on one hand-made loan per
// tricky repayment pattern. Every loan is issued 2024-01-10 for 300.00 in
// three installments of 100.00 principal + 10.00 interest due 2024-02-10,
// 2024-03-10 and 2024-04-10; the as-of date is 2024-12-31. Expected values
// are worked out by hand in the comments (2024 is a leap year: Feb has 29
// days).
func TestPanelTrickyPatterns(t *testing.T) {
	due := []string{"2024-02-10", "2024-03-10", "2024-04-10"}
	p := func(no int, at string, principal, interest int64) bPay {
		return bPay{no: no, paid: day(at), principal: principal, interest: interest}
	}
	cases := []struct {
		name    string
		status  string
		pays    []bPay
		dpd     []int   // per month end from 2024-01-31
		out     []int64 // outstanding principal, fen
		last    string  // status of the last row
		overdue []int64 // overdue principal, fen
	}{{
		// inst1: 50.00 on 02-10 then 50.00 + 10.00 on 03-05, full on 03-05.
		// Feb 29: inst1 open since 02-10 -> 19 dpd; 50.00 principal overdue.
		// Apr 10: everything paid -> settled in April although the export
		// still says active.
		name: "partial payments", status: "active",
		pays: []bPay{p(1, "2024-02-10", 5000, 0), p(1, "2024-03-05", 5000, 1000), p(2, "2024-03-10", 10000, 1000), p(3, "2024-04-10", 10000, 1000)},
		dpd:  []int{0, 19, 0, 0}, out: []int64{30000, 25000, 10000, 0}, last: "settled",
		overdue: []int64{0, 5000, 0, 0},
	}, {
		// Paying before the due date counts: inst2 paid 02-10 (due 03-10),
		// inst3 paid 04-01 (due 04-10). Never past due; settled 04-01.
		name: "payments before due", status: "settled",
		pays: []bPay{p(1, "2024-02-10", 10000, 1000), p(2, "2024-02-10", 10000, 1000), p(3, "2024-04-01", 10000, 1000)},
		dpd:  []int{0, 0, 0, 0}, out: []int64{30000, 10000, 10000, 0}, last: "settled",
		overdue: []int64{0, 0, 0, 0},
	}, {
		// inst1 paid late on 04-20 while inst2 (03-10) and inst3 (04-10)
		// are paid on time: the oldest unpaid due date drives DPD.
		// Feb 29: 29-10 = 19. Mar 31: 21 (Feb 10..29 = 19, +31) = 50.
		// Apr 30: all paid 04-20 -> 0, settled.
		name: "older late newer on time", status: "settled",
		pays: []bPay{p(2, "2024-03-10", 10000, 1000), p(3, "2024-04-10", 10000, 1000), p(1, "2024-04-20", 10000, 1000)},
		dpd:  []int{0, 19, 50, 0}, out: []int64{30000, 30000, 20000, 0}, last: "settled",
		overdue: []int64{0, 10000, 10000, 0},
	}, {
		// Early settlement on 03-05: 200.00 principal against inst2 and
		// inst3, interest waived. Status settled, dated 03-05, so inst2
		// (03-10) and inst3 (04-10) are cancelled: no DPD in March.
		name: "early settlement", status: "settled",
		pays: []bPay{p(1, "2024-02-10", 10000, 1000), p(2, "2024-03-05", 10000, 0), p(3, "2024-03-05", 10000, 0)},
		dpd:  []int{0, 0, 0}, out: []int64{30000, 20000, 0}, last: "settled",
		overdue: []int64{0, 0, 0},
	}, {
		// Several payments per installment: inst1 gets 30.00 on 02-05,
		// 30.00 on 02-20 (60.00 < 110.00: still open at Feb 29 -> 19 dpd)
		// and 40.00 + 10.00 on 03-15 (full). inst2, inst3 on time.
		name: "several payments per installment", status: "settled",
		pays: []bPay{p(1, "2024-02-05", 3000, 0), p(1, "2024-02-20", 3000, 0), p(1, "2024-03-15", 4000, 1000), p(2, "2024-03-10", 10000, 1000), p(3, "2024-04-10", 10000, 1000)},
		dpd:  []int{0, 19, 0, 0}, out: []int64{30000, 24000, 10000, 0}, last: "settled",
		overdue: []int64{0, 4000, 0, 0},
	}, {
		// Default after inst1, written off: DPD counts from 03-10:
		// Mar 31 21, Apr 30 51, May 31 82, Jun 30 112, Jul 31 143,
		// Aug 31 174, Sep 30 204 >= 180 -> written off in September and
		// the panel stops there.
		name: "default and write-off", status: "written_off",
		pays: []bPay{p(1, "2024-02-10", 10000, 1000)},
		dpd:  []int{0, 0, 21, 51, 82, 112, 143, 174, 204}, out: []int64{30000, 20000, 20000, 20000, 20000, 20000, 20000, 20000, 20000}, last: "written_off",
		overdue: []int64{0, 0, 10000, 20000, 20000, 20000, 20000, 20000, 20000},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := book{loans: []bLoan{{id: "L1", borrower: "B1", issue: day("2024-01-10"), principal: 30000, status: c.status}}}
			for i, d := range due {
				b.insts = append(b.insts, bInst{"L1", i + 1, day(d), 10000, 1000})
			}
			for i, py := range c.pays {
				py.txn, py.loan = string(rune('a'+i)), "L1"
				b.pays = append(b.pays, py)
			}
			rows := sqlPanel(t, b, day("2024-12-31"))
			var dpd []int
			var out, od []int64
			for _, r := range rows {
				dpd, out, od = append(dpd, r.dpd), append(out, r.outstanding), append(od, r.overdueP)
			}
			if !slices.Equal(dpd, c.dpd) || !slices.Equal(out, c.out) || !slices.Equal(od, c.overdue) {
				t.Fatalf("dpd %v outstanding %v overdue %v\nwant %v %v %v", dpd, out, od, c.dpd, c.out, c.overdue)
			}
			if got := rows[len(rows)-1].status; got != c.last {
				t.Errorf("last status %s, want %s", got, c.last)
			}
			for i, r := range rows {
				if r.mob != i {
					t.Errorf("row %d mob %d", i, r.mob)
				}
				if r.worst != slices.Max(c.dpd[:i+1]) {
					t.Errorf("row %d worst %d", i, r.worst)
				}
			}
			// the reference agrees too
			diffPanels(t, rows, refBook(b, day("2024-12-31")))
		})
	}
}
