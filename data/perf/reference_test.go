package perf

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"qiandun/data/perf/panelref"
)

// refPanel is the reference panel of one loan (package panelref, the
// slow day-by-day walk) in this test's types.
func refPanel(l bLoan, insts []bInst, pays []bPay, asOf, dataEnd time.Time) []panelRow {
	rl := panelref.Loan{ID: l.id, Issue: l.issue, Principal: l.principal, Status: l.status}
	var ri []panelref.Inst
	for _, in := range insts {
		ri = append(ri, panelref.Inst{No: in.no, Due: in.due, Principal: in.principal, Interest: in.interest})
	}
	var rp []panelref.Pay
	for _, p := range pays {
		rp = append(rp, panelref.Pay{No: p.no, Paid: p.paid, Principal: p.principal, Interest: p.interest, Penalty: p.penalty})
	}
	var out []panelRow
	for _, r := range panelref.Panel(rl, ri, rp, asOf, dataEnd) {
		out = append(out, panelRow{loan: r.Loan, monthEnd: r.MonthEnd, mob: r.MOB, status: r.Status, dpd: r.DPD, worst: r.Worst,
			bucket: r.Bucket, outstanding: r.Outstanding, overdueP: r.OverdueP, overdueI: r.OverdueI,
			dueInMonth: r.DueInMonth, paidInMonth: r.PaidInMonth, settled: r.Settled, writtenOff: r.WrittenOff})
	}
	return out
}

func refBook(b book, asOf time.Time) []panelRow {
	insts := map[string][]bInst{}
	pays := map[string][]bPay{}
	for _, in := range b.insts {
		insts[in.loan] = append(insts[in.loan], in)
	}
	for _, p := range b.pays {
		pays[p.loan] = append(pays[p.loan], p)
	}
	dataEnd := dataEndOf(b)
	var out []panelRow
	for _, l := range b.loans {
		out = append(out, refPanel(l, insts[l.id], pays[l.id], asOf, dataEnd)...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// dataEndOf is the last month end on or before the latest payment or issue
// date of b.
func dataEndOf(b book) time.Time {
	var last time.Time
	for _, p := range b.pays {
		if p.paid.After(last) {
			last = p.paid
		}
	}
	for _, l := range b.loans {
		if l.issue.After(last) {
			last = l.issue
		}
	}
	if last.AddDate(0, 0, 1).Day() == 1 {
		return last
	}
	return time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
}

// randomBook generates n loans with every repayment pattern the panel must
// get right: on-time, early, late, partial and split payments, several
// payments per installment, underpayment that never completes, an older
// installment paid late while newer ones are paid on time, early
// settlement with cancelled installments, default with and without
// write-off, recoveries after write-off, payments after the as-of date,
// and loans issued after it.
func randomBook(r *rand.Rand, n int) book {
	var b book
	start := day("2022-01-01")
	txn := 0
	pay := func(loan string, no int, at time.Time, p, i, pen int64) {
		txn++
		b.pays = append(b.pays, bPay{fmt.Sprintf("T%07d", txn), loan, no, at, p, i, pen})
	}
	for k := range n {
		id := fmt.Sprintf("L%05d", k)
		issue := start.AddDate(0, 0, r.IntN(940))
		terms := []int{1, 3, 6, 12, 24}
		term := terms[r.IntN(len(terms))]
		principal := int64(100_000 + r.IntN(5_000_000))
		dueDay := min(issue.Day(), 28)
		var insts []bInst
		left := principal
		for i := 1; i <= term; i++ {
			pd := principal / int64(term)
			if i == term {
				pd = left
			}
			interest := left * 15 / 1200
			if r.IntN(40) == 0 {
				pd, interest = 0, 0 // a zero installment (holiday)
			}
			left -= pd
			m := time.Date(issue.Year(), issue.Month()+time.Month(i), dueDay, 0, 0, 0, 0, time.UTC)
			insts = append(insts, bInst{id, i, m, pd, interest})
		}
		if left != 0 { // a holiday on the last installment
			insts[term-1].principal += left
		}
		b.insts = append(b.insts, insts...)
		full := func(in bInst, at time.Time) { pay(id, in.no, at, in.principal, in.interest, 0) }
		status := "active"
		mode := r.IntN(7)
		cut := 1 + r.IntN(term)
		switch mode {
		case 0: // clean, sometimes a little early
			for _, in := range insts {
				full(in, in.due.AddDate(0, 0, -r.IntN(6)))
			}
			if r.IntN(5) > 0 {
				status = "settled"
			}
		case 1: // messy per installment
			allPaid := true
			for _, in := range insts {
				switch r.IntN(7) {
				case 0:
					full(in, in.due)
				case 1:
					full(in, in.due.AddDate(0, 0, 1+r.IntN(150)))
				case 2: // split in 2-4 parts around the due date
					parts := 2 + r.IntN(3)
					var pp, pi int64
					for j := range parts {
						p, i := in.principal/int64(parts), in.interest/int64(parts)
						if j == parts-1 {
							p, i = in.principal-pp, in.interest-pi
						}
						pp, pi = pp+p, pi+i
						pay(id, in.no, in.due.AddDate(0, 0, -10+r.IntN(100)), p, i, int64(r.IntN(3))*100)
					}
				case 3: // underpaid by a fen: never fully paid
					if in.principal+in.interest > 0 {
						allPaid = false
					}
					pay(id, in.no, in.due.AddDate(0, 0, r.IntN(5)), in.principal, max(in.interest-1, 0), 0)
				case 4: // skipped
					if in.principal+in.interest > 0 {
						allPaid = false
					}
				case 5: // paid well before due
					at := in.due.AddDate(0, 0, -1-r.IntN(40))
					if at.Before(issue) {
						at = issue
					}
					full(in, at)
				case 6: // overpaid interest, late
					pay(id, in.no, in.due.AddDate(0, 0, r.IntN(40)), in.principal, in.interest+500, 300)
				}
			}
			if allPaid && r.IntN(2) == 0 {
				status = "settled"
			} else if !allPaid && r.IntN(3) == 0 {
				status = "written_off"
			}
		case 2: // default after cut, maybe written off, maybe recoveries
			for _, in := range insts[:cut-1] {
				full(in, in.due)
			}
			if r.IntN(3) == 0 {
				in := insts[cut-1]
				pay(id, in.no, in.due.AddDate(0, 0, 20), in.principal/3, 0, 0)
			}
			if r.IntN(3) > 0 {
				status = "written_off"
				if r.IntN(2) == 0 { // recovery long after
					in := insts[cut-1]
					pay(id, in.no, in.due.AddDate(0, 0, 200+r.IntN(200)), in.principal/2, 0, 0)
				}
			}
		case 3: // early settlement: remaining principal paid at once, interest waived
			for _, in := range insts[:cut-1] {
				full(in, in.due)
			}
			at := issue.AddDate(0, cut-1, 3+r.IntN(20))
			for _, in := range insts[cut-1:] {
				pay(id, in.no, at, in.principal, 0, 0)
			}
			status = "settled"
		case 4: // older installment late, newer ones on time
			late := cut - 1
			for j, in := range insts {
				if j == late {
					full(in, in.due.AddDate(0, 0, 35+r.IntN(80)))
				} else {
					full(in, in.due.AddDate(0, 0, -r.IntN(3)))
				}
			}
			if r.IntN(2) == 0 {
				status = "settled"
			}
		case 5: // several small payments per installment, all after due
			for _, in := range insts {
				amt := in.principal
				at := in.due
				for amt > 0 {
					p := min(amt, int64(1+r.IntN(int(in.principal/2+1))))
					at = at.AddDate(0, 0, r.IntN(12))
					pay(id, in.no, at, p, 0, 0)
					amt -= p
				}
				pay(id, in.no, at, 0, in.interest, 0)
			}
		case 6: // payment against an unknown installment number, then clean
			pay(id, term+5, issue.AddDate(0, 0, 10), 1000, 0, 0)
			for _, in := range insts {
				full(in, in.due)
			}
		}
		b.loans = append(b.loans, bLoan{id: id, borrower: fmt.Sprintf("B%04d", r.IntN(n/2+1)), issue: issue, principal: principal, status: status})
	}
	return b
}

func diffPanels(t *testing.T, got, want []panelRow) {
	t.Helper()
	gm := map[string]panelRow{}
	for _, r := range got {
		gm[r.key()] = r
	}
	bad := 0
	for _, w := range want {
		g, ok := gm[w.key()]
		if !ok {
			t.Errorf("missing row %s: want %+v", w.key(), w)
			bad++
		} else if g != w {
			t.Errorf("row %s:\n got %+v\nwant %+v", w.key(), g, w)
			bad++
		}
		delete(gm, w.key())
		if bad > 10 {
			t.Fatal("too many differences")
		}
	}
	for k, g := range gm {
		t.Errorf("extra row %s: %+v", k, g)
		if bad++; bad > 10 {
			t.Fatal("too many differences")
		}
	}
}

// TestPanelMatchesReference compares the SQL panel with the day-by-day
// reference on thousands of generated loans.
func TestPanelMatchesReference(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 400
	}
	for _, seed := range []uint64{1, 2} {
		b := randomBook(rand.New(rand.NewPCG(seed, 99)), n)
		// an as-of inside the data, and the end of the data (where
		// written-off loans that never reached 180 DPD are closed)
		for _, asOf := range []time.Time{day("2024-06-30"), dataEndOf(b)} {
			t.Run(fmt.Sprint("seed", seed, "/", asOf.Format(time.DateOnly)), func(t *testing.T) {
				want := refBook(b, asOf)
				got := sqlPanel(t, b, asOf)
				if len(want) < n*5 {
					t.Fatalf("reference panel has only %d rows for %d loans", len(want), n)
				}
				diffPanels(t, got, want)
			})
		}
	}
}

// TestPanelChunked checks that building the panel in hash partitions of
// the loans gives exactly the rows of the reference.
func TestPanelChunked(t *testing.T) {
	b := randomBook(rand.New(rand.NewPCG(3, 99)), 300)
	asOf := day("2024-06-30")
	lk := writeLake(t, b)
	db := openBookDB(t, lk)
	ctx := context.Background()
	if err := setParams(ctx, db, DefaultConfig(), asOf, dataEndOf(b)); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(lk.Root, "chunked")
	if _, err := writePanel(ctx, db, dir, 500); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.parquet"))
	if len(files) < 4 {
		t.Fatalf("%d chunk files, want several", len(files))
	}
	diffPanels(t, readPanel(t, db, dir), refBook(b, asOf))
}
