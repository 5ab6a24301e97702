// Package panelref is the reference definition of perf/panel in Go: the
// slow, obviously correct day-by-day walk of one loan that the perf
// tests hold the SQL panel (data/perf/sql/panel.sql) to, and that
// qiandun-beam's perf pipeline runs per loan. Money is in fen; dates are
// midnight UTC standing for Beijing local dates.
package panelref

import "time"

// Loan is a loan of the lake's loans table.
type Loan struct {
	ID        string
	Issue     time.Time
	Principal int64
	Status    string // active | settled | written_off
}

// Inst is one installment of the loan's repayment schedule.
type Inst struct {
	No                  int
	Due                 time.Time
	Principal, Interest int64
}

// Pay is one repayment of the loan (Paid: the date of paid_at).
type Pay struct {
	No                           int
	Paid                         time.Time
	Principal, Interest, Penalty int64
}

// Row is one row of perf/panel.
type Row struct {
	Loan                            string
	MonthEnd                        time.Time
	MOB                             int
	Status                          string
	DPD, Worst                      int
	Bucket                          string
	Outstanding, OverdueP, OverdueI int64
	DueInMonth, PaidInMonth         int64
	Settled, WrittenOff             bool
}

// DataEnd is the month end on or before last, the latest payment,
// issue or collection date of the book: perf's default as-of date.
func DataEnd(last time.Time) time.Time {
	if last.AddDate(0, 0, 1).Day() == 1 {
		return last
	}
	return time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
}

// Panel is the slow, obviously correct panel of one loan: it walks the
// calendar one day at a time from the issue date to asOf, books each
// payment on its day against its installment, and at every month end
// reads off DESIGN.md's DPD ("days since the earliest due date <= d whose
// installment is not fully paid by d") and the balances. It implements
// the same documented conventions as sql/panel.sql (settlement and
// write-off dating, cancelled installments) without sharing any code.
func Panel(l Loan, insts []Inst, pays []Pay, asOf, dataEnd time.Time) []Row {
	if l.Issue.After(asOf) {
		return nil
	}
	var statusSettle *time.Time
	if l.Status == "settled" {
		s := l.Issue
		for _, p := range pays {
			if p.Paid.After(s) {
				s = p.Paid
			}
		}
		statusSettle = &s
	}
	// installments cancelled by an early settlement are dropped
	var live []Inst
	for _, in := range insts {
		if statusSettle != nil && in.Due.After(*statusSettle) {
			continue
		}
		live = append(live, in)
	}
	idx := map[int]int{}
	for k, in := range live {
		idx[in.No] = k
	}
	paidP := make([]int64, len(live))
	paidI := make([]int64, len(live))
	var principalPaid int64
	var rows []Row
	worst := 0
	var dueInMonth, paidInMonth int64
	var settleDate *time.Time
	if statusSettle != nil && !statusSettle.After(asOf) {
		s := *statusSettle
		settleDate = &s
	}
	for d := l.Issue; !d.After(asOf); d = d.AddDate(0, 0, 1) {
		for _, p := range pays {
			if !p.Paid.Equal(d) {
				continue
			}
			principalPaid += p.Principal
			paidInMonth += p.Principal + p.Interest + p.Penalty
			if k, ok := idx[p.No]; ok {
				paidP[k] += p.Principal
				paidI[k] += p.Interest
			}
		}
		for _, in := range live {
			if in.Due.Equal(d) {
				dueInMonth += in.Principal + in.Interest
			}
		}
		full := func(k int) bool {
			in := live[k]
			if in.Principal+in.Interest <= 0 {
				return !in.Due.After(d)
			}
			return paidP[k]+paidI[k] >= in.Principal+in.Interest
		}
		if statusSettle == nil && len(live) > 0 && (settleDate == nil || settleDate.After(d)) {
			all := true
			for k := range live {
				if !full(k) {
					all = false
				}
			}
			if all {
				s := d
				settleDate = &s
			}
		}
		if d.AddDate(0, 0, 1).Day() != 1 {
			continue // not a month end
		}
		dpd := 0
		var odP, odI int64
		for k, in := range live {
			if in.Due.After(d) || full(k) {
				continue
			}
			if n := int(d.Sub(in.Due).Hours() / 24); n > dpd {
				dpd = n
			}
			odP += max(in.Principal-paidP[k], 0)
			odI += max(in.Interest-paidI[k], 0)
		}
		worst = max(worst, dpd)
		settled := settleDate != nil && !settleDate.After(d)
		status := "active"
		if settled {
			status = "settled"
		}
		rows = append(rows, Row{
			Loan: l.ID, MonthEnd: d,
			MOB:    (d.Year()*12 + int(d.Month())) - (l.Issue.Year()*12 + int(l.Issue.Month())),
			Status: status, DPD: dpd, Worst: worst, Bucket: Bucket(dpd),
			Outstanding: max(l.Principal-principalPaid, 0), OverdueP: odP, OverdueI: odI,
			DueInMonth: dueInMonth, PaidInMonth: paidInMonth, Settled: settled,
		})
		dueInMonth, paidInMonth = 0, 0
		if settled {
			break
		}
	}
	if l.Status == "written_off" {
		rows = writeOff(rows, asOf, dataEnd)
	}
	return rows
}

// writeOff ends a written-off loan's panel at its write-off month: the
// first month end at 180 DPD or more, else the end of the data when asOf
// reaches it.
func writeOff(rows []Row, asOf, dataEnd time.Time) []Row {
	wo := -1
	for k, r := range rows {
		if r.DPD >= 180 {
			wo = k
			break
		}
	}
	if wo < 0 && len(rows) > 0 && !dataEnd.After(asOf) {
		wo = len(rows) - 1 // never reached 180: written off at the end of the data
	}
	if wo >= 0 {
		rows = rows[:wo+1]
		rows[wo].Status, rows[wo].WrittenOff = "written_off", true
	}
	return rows
}

// Bucket is the delinquency bucket of a DPD: C 0, M1 1-30, M2 31-60,
// M3 61-90, M4+ above.
func Bucket(dpd int) string {
	switch {
	case dpd == 0:
		return "C"
	case dpd <= 30:
		return "M1"
	case dpd <= 60:
		return "M2"
	case dpd <= 90:
		return "M3"
	}
	return "M4+"
}
