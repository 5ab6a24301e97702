//go:build duckdb_arrow

package beamfeatures

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// The B-card definitions in Go, one loan at a time, as the SQL of
// features/ states them (prep_bcard_spine.sql, prep_installments.sql and
// the bcard_*.sql groups over perf's installment_payoff and loan_closure,
// data/perf/sql). Dates are days since 1970-01-01, times microseconds
// since 1970-01-01 00:00 (a DATE d compared with a TIMESTAMP is d 00:00),
// money is in fen; never is a time that is not there (SQL NULL), later
// than every time, so "t < d" is false for it as it is for NULL.

const (
	dayMicros = int64(24 * time.Hour / time.Microsecond)
	never     = int64(math.MaxInt64)
)

// Loan, Inst, Pay and Event are the lake rows of one loan the features
// read.
type Loan struct {
	ID, Borrower, App string
	Issue             int32
	Principal         int64
	Status            string
}

type Inst struct {
	No                  int64
	Due                 int32
	Principal, Interest int64
}

type Pay struct {
	No                  int64
	Txn                 string
	At                  int64
	Principal, Interest int64
}

type Event struct {
	At      int64
	Outcome string // "" for NULL
}

// Inquiry is a bureau inquiry of the loan's borrower that is not post-loan
// (the only ones the features count).
type Inquiry struct {
	Date int32
}

// FeatRow is one snapshot row: the spine columns and every B-card
// feature. HasX is false where the feature is NULL.
type FeatRow struct {
	Loan, Borrower, App string
	AsOf, Issue         int32

	DPD, Max3, Max6, Max12, NLate int32
	MonthsSinceDelq               int32
	HasMonthsSinceDelq            bool
	PaidToDue3, PaidToDue6        float64
	HasPaidToDue3, HasPaidToDue6  bool
	PrincipalShare                float64
	HasPrincipalShare             bool
	Outstanding, Ahead            int64
	NPrepay, MOB                  int32

	Contacts3, Contacts6, Broken3, Broken6, Lost3, Lost6, LostOpen int32

	InqSinceIssue, Inq30, Inq90 int32

	Score    float64
	HasScore bool
}

// payoff is installment_payoff's row of one schedule row, from every
// payment of the lake.
type payoff struct {
	Inst
	first, firstPrincipal, paidOff int64
}

// payoffs computes perf/installment_payoff for a loan's schedule: an
// installment is paid off by the payment, in (paid_at, txn_id) order,
// whose running sum of principal + interest reaches the amount due; one
// with nothing due is paid off on its due date 00:00.
func payoffs(insts []Inst, pays []Pay) []payoff {
	byNo := map[int64][]Pay{}
	for _, p := range pays {
		byNo[p.No] = append(byNo[p.No], p)
	}
	out := make([]payoff, len(insts))
	for k, in := range insts {
		po := payoff{Inst: in, first: never, firstPrincipal: never, paidOff: never}
		ps := byNo[in.No]
		slices.SortFunc(ps, func(a, b Pay) int { return cmp.Or(cmp.Compare(a.At, b.At), cmp.Compare(a.Txn, b.Txn)) })
		due := in.Principal + in.Interest
		var cum int64
		for _, p := range ps {
			po.first = min(po.first, p.At)
			if p.Principal > 0 {
				po.firstPrincipal = min(po.firstPrincipal, p.At)
			}
			cum += p.Principal + p.Interest
			if due > 0 && cum >= due && po.paidOff == never {
				po.paidOff = p.At
			}
		}
		if due <= 0 {
			po.paidOff = int64(in.Due) * dayMicros
		}
		out[k] = po
	}
	return out
}

// floorDay is the date of a time.
func floorDay(t int64) int32 {
	d := t / dayMicros
	if t%dayMicros < 0 {
		d--
	}
	return int32(d)
}

// civil splits a date into year, month and day.
func civil(d int32) (int, time.Month, int) {
	return time.Unix(int64(d)*86400, 0).UTC().Date()
}

func fromCivil(y int, m time.Month, day int) int32 {
	return int32(time.Date(y, m, day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// minusMonths is DuckDB's date - INTERVAL n MONTH: the same day n months
// earlier, the month's last day when it has fewer days.
func minusMonths(d int32, n int) int32 {
	y, m, day := civil(d)
	first := time.Date(y, m-time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return fromCivil(first.Year(), first.Month(), min(day, last))
}

// monthDiff is DuckDB's date_diff('month', a, b): month boundaries from a
// to b.
func monthDiff(a, b int32) int32 {
	ya, ma, _ := civil(a)
	yb, mb, _ := civil(b)
	return int32((yb-ya)*12 + int(mb) - int(ma))
}

// fenRatio is CAST(a AS DOUBLE) / CAST(b AS DOUBLE) of two DECIMAL(_, 2)
// amounts in fen, as DuckDB computes it (each cast divides by 100).
func fenRatio(a, b int64) float64 { return (float64(a) / 100) / (float64(b) / 100) }

// Snapshots returns the loan's rows at each as-of date where it is in the
// B-card spine, without the bureau and origination groups (they join by
// borrower and by application: see WithBureau and the score join).
func Snapshots(l Loan, insts []Inst, pays []Pay, events []Event, asOf []int32) []FeatRow {
	po := payoffs(insts, pays)
	lastPaid := never
	if len(pays) > 0 {
		lastPaid = math.MinInt64
		for _, p := range pays {
			lastPaid = max(lastPaid, p.At)
		}
	}
	scheduled := map[int64]bool{}
	for _, in := range insts {
		scheduled[in.No] = true
	}
	var out []FeatRow
	for _, d := range asOf {
		dpd, ok := spine(l, po, lastPaid, d)
		if !ok {
			continue
		}
		r := FeatRow{Loan: l.ID, Borrower: l.Borrower, App: l.App, AsOf: d, Issue: l.Issue, DPD: dpd}
		repayment(&r, l, po, pays, scheduled, d)
		collection(&r, events, pays, d)
		out = append(out, r)
	}
	return out
}

// spine is prep_bcard_spine.sql for one loan at d: whether the loan is in
// the spine and its DPD at d.
func spine(l Loan, po []payoff, lastPaid int64, d int32) (int32, bool) {
	if l.Issue >= d {
		return 0, false
	}
	dm := int64(d) * dayMicros
	open, dpd := 0, int32(0)
	for _, i := range po {
		if i.Principal+i.Interest > 0 && i.paidOff >= dm {
			open++
			if i.Due < d {
				dpd = max(dpd, d-i.Due)
			}
		}
	}
	if open == 0 {
		return 0, false
	}
	// NOT (status = 'settled' AND last_paid_at < d): a NULL last payment
	// makes the condition NULL, which drops the loan too.
	if l.Status == "settled" && (lastPaid == never || lastPaid < dm) {
		return 0, false
	}
	if l.Status == "written_off" && dpd >= 180 {
		return 0, false
	}
	return dpd, true
}

// repayment is bcard_repayment.sql for one loan at d over its
// installments as known before d (prep_installments.sql).
func repayment(r *FeatRow, l Loan, po []payoff, pays []Pay, scheduled map[int64]bool, d int32) {
	dm := int64(d) * dayMicros
	w3, w6, w12 := minusMonths(d, 3), minusMonths(d, 6), minusMonths(d, 12)
	var lastDelq int32
	var due3, due6, principalDue int64
	for _, i := range po {
		due := i.Principal + i.Interest
		last := d
		if due <= 0 || i.paidOff < dm {
			last = floorDay(i.paidOff)
		}
		if last > i.Due {
			for _, w := range []struct {
				from int32
				v    *int32
			}{{w3, &r.Max3}, {w6, &r.Max6}, {w12, &r.Max12}} {
				if last >= w.from {
					*w.v = max(*w.v, last-i.Due)
				}
			}
			if i.Due < d {
				r.NLate++
				if !r.HasMonthsSinceDelq || last > lastDelq {
					lastDelq = last
				}
				r.HasMonthsSinceDelq = true
			}
		}
		if i.Due < d {
			principalDue += i.Principal
			if i.Due >= w3 {
				due3 += due
			}
			if i.Due >= w6 {
				due6 += due
			}
		}
		// first_principal_paid_at before d implies first_paid_at before d
		if i.firstPrincipal < dm && floorDay(i.first) < i.Due-30 {
			r.NPrepay++
		}
	}
	if r.HasMonthsSinceDelq {
		r.MonthsSinceDelq = monthDiff(lastDelq, d)
	}
	w3m, w6m := int64(w3)*dayMicros, int64(w6)*dayMicros
	var principalPaid, paid3, paid6 int64
	for _, p := range pays {
		if p.At >= dm {
			continue
		}
		if scheduled[p.No] {
			principalPaid += p.Principal
		}
		if p.At >= w6m {
			paid6 += p.Principal + p.Interest
			if p.At >= w3m {
				paid3 += p.Principal + p.Interest
			}
		}
	}
	r.HasPaidToDue3, r.HasPaidToDue6 = due3 > 0, due6 > 0
	if r.HasPaidToDue3 {
		r.PaidToDue3 = fenRatio(paid3, due3)
	}
	if r.HasPaidToDue6 {
		r.PaidToDue6 = fenRatio(paid6, due6)
	}
	if r.HasPrincipalShare = l.Principal > 0; r.HasPrincipalShare {
		r.PrincipalShare = fenRatio(principalPaid, l.Principal)
	}
	r.Outstanding = l.Principal - principalPaid
	r.Ahead = max(principalPaid-principalDue, 0)
	r.MOB = monthDiff(l.Issue, d)
}

// collection is bcard_collection.sql for one loan at d.
func collection(r *FeatRow, events []Event, pays []Pay, d int32) {
	dm := int64(d) * dayMicros
	w3, w6 := int64(minusMonths(d, 3))*dayMicros, int64(minusMonths(d, 6))*dayMicros
	const week = 7 * dayMicros
	last, lastAt := "", int64(math.MinInt64)
	for _, e := range events {
		if e.At >= dm {
			continue
		}
		in3, in6 := e.At >= w3, e.At >= w6
		lost := e.Outcome == "lost_contact"
		r.Contacts3 += b2i(in3)
		r.Contacts6 += b2i(in6)
		r.Lost3 += b2i(in3 && lost)
		r.Lost6 += b2i(in6 && lost)
		if (lost || e.Outcome == "contact_repaired") && e.At >= lastAt {
			// arg_max(outcome, event_time): on equal times DuckDB keeps
			// either; the generator never books two at one time.
			last, lastAt = e.Outcome, e.At
		}
		if e.Outcome == "promise_to_pay" && e.At+week <= dm {
			kept := false
			for _, p := range pays {
				if p.At >= e.At && p.At < e.At+week {
					kept = true
					break
				}
			}
			r.Broken3 += b2i(in3 && !kept)
			r.Broken6 += b2i(in6 && !kept)
		}
	}
	r.LostOpen = b2i(last == "lost_contact")
}

// WithBureau is bcard_bureau.sql: the loan's borrower's inquiries (not
// post-loan) in [issue_date, as_of), and in the last 30 and 90 days.
func WithBureau(r *FeatRow, inqs []Inquiry) {
	for _, q := range inqs {
		if q.Date >= r.AsOf || q.Date < r.Issue {
			continue
		}
		r.InqSinceIssue++
		r.Inq30 += b2i(q.Date >= r.AsOf-30)
		r.Inq90 += b2i(q.Date >= r.AsOf-90)
	}
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
