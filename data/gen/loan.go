package gen

import (
	"cmp"
	"math"
	"slices"
)

// loanSim is one loan while it is simulated: its terms, then what happens
// to it, which the rows written for it follow from.
type loanSim struct {
	num  int64 // loan number
	b    *borrower
	a    *application
	pd   float64 // true probability of 90+ DPD within 12 months on book
	ring int     // fraud ring, or -1

	issue     int   // issue day
	principal int64 // in fen
	rateMicro int64 // annual rate in millionths
	method    int   // EqualInstallment, EqualPrincipal or InterestFirst

	onset      int   // installment from which the borrower stops paying; 0 for none
	settle     int   // installment at which the loan is settled early; 0 for none
	settleSec  int64 // time of the early settlement
	spike      int   // due day of the onset installment: the multi-lending spike before it
	writtenOff bool  // written off inside the window
}

// loan turns an approved application into a loan and simulates it month by
// month to the end of the window: schedule, payments, delinquency,
// collections, early settlement, write-off. pd is the loan's true
// probability of reaching 90+ DPD within 12 months on book; ring is the
// fraud ring or -1.
func (g *chunkGen) loan(b *borrower, a *application, pd float64, ring int) {
	w := g.w
	g.loanNext++
	l := loanSim{num: g.loanNext, b: b, a: a, pd: pd, ring: ring}
	g.terms(&l)
	g.sched = appendSchedule(g.sched, l.method, l.principal, l.rateMicro, a.term, l.issue)
	l.onset = g.defaultOnset(a, pd, ring)
	g.earlySettlement(&l)
	g.repay(&l)
	status := g.windowStatus(&l)

	g.writeLoan(&l, status)
	g.writeSchedule(&l)
	g.writeRepayments(&l)
	if lostAt := g.writeEvents(&l); lostAt >= 0 { // collection ended in lost contact: see repair.go
		g.lost = append(g.lost, lostCase{loanNum: l.num, b: *b, appDay: a.day, lostSec: lostAt})
	}
	g.bureauAfterIssue(&l)

	bad12 := l.onset > 0 && l.onset <= 8 && g.sched[l.onset-1].Due+90 <= w.endDay
	if w.onLoan != nil {
		w.onLoan(a.zObs, pd, bad12, addMonths(l.issue, 12) <= w.endDay)
	}
	g.writeTruth(&l, bad12)
	g.out.loans++
	woDay := 0
	if l.writtenOff {
		woDay = g.sched[l.onset-1].Due + 180
	}
	g.cust.loan(&g.out.tables[tInvestments], custodyLoan{num: l.num, borrower: b.num, applySec: a.sec, issue: l.issue,
		principal: l.principal, product: a.product, pays: g.pays, woDay: woDay})
}

// terms draws the loan's issue day (up to two days after the
// application), its principal (a cash-loan applicant near the approval
// threshold may be granted 60–90% of the amount asked, in whole hundreds
// of yuan), its rate and its repayment method.
func (g *chunkGen) terms(l *loanSim) {
	r, w, a := g.r, g.w, l.a
	l.issue = a.day + []int{0, 0, 0, 1, 1, 2}[r.IntN(6)]
	l.principal = a.amountFen
	if a.product == prodCredit && a.zObs > w.threshold-1 && r.Float64() < 0.5 {
		l.principal = int64(float64(l.principal)*(0.6+0.3*r.Float64())/10000) * 10000
		l.principal = max(l.principal, 100000)
	}
	l.rateMicro = w.rateMicro(a)
	l.method = g.repayMethod(a.product)
}

// rateMicro prices an application for the risk the lender sees: the
// annual rate rises with the observable risk logit, within a band per
// product, and is rounded to a hundredth of a percent. It returns the
// rate in millionths and draws nothing.
func (w *world) rateMicro(a *application) int64 {
	var rate float64
	switch a.product {
	case prodCredit:
		rate = math.Min(math.Max(0.2+0.07*(a.zObs-w.intercept-1), 0.1), 0.36)
	case prodCar:
		rate = math.Min(math.Max(0.13+0.04*(a.zObs-w.intercept-0.5), 0.08), 0.24)
	default:
		rate = math.Min(math.Max(0.095+0.02*(a.zObs-w.intercept), 0.08), 0.15)
	}
	return int64(math.Round(rate*10000)) * 100
}

// repayMethod draws the repayment method of a loan of the product: mostly
// equal installments; some cash loans repay equal principal; half of the
// mortgages pay interest first, and a fifth equal principal.
func (g *chunkGen) repayMethod(product int) int {
	r := g.r
	method := EqualInstallment
	switch product {
	case prodCredit:
		if r.Float64() < 0.15 {
			method = EqualPrincipal
		}
	case prodHouse:
		if r.Float64() < 0.5 {
			method = InterestFirst
		} else if r.Float64() < 0.4 {
			method = EqualPrincipal
		}
	}
	return method
}

// defaultOnset draws the installment from which the borrower stops paying,
// or 0 for a borrower who pays to the end. With probability pd the onset
// falls in the first eight installments (the first to third for a fraud
// ring's member), so that 90 DPD falls inside 12 months on book; a long
// loan may also default later.
func (g *chunkGen) defaultOnset(a *application, pd float64, ring int) int {
	r := g.r
	onset := 0
	if r.Float64() < pd {
		if ring >= 0 {
			onset = 1
			if r.Float64() < 0.15 {
				onset = 2 + r.IntN(2)
			}
		} else {
			// Weighted to early installments; never after 8 so that 90 DPD
			// falls inside 12 months on book.
			onset = 1 + min(int(r.ExpFloat64()*3), min(a.term, 8)-1)
		}
		onset = min(onset, a.term)
	} else if a.term > 12 && r.Float64() < pd*0.35*float64(a.term-10)/26 {
		onset = 11 + r.IntN(a.term-10)
	}
	return onset
}

// earlySettlement draws whether and when the borrower settles the loan
// early, between two installments' due days inside the window, and then
// truncates the schedule there. Borrowers heading for default inside 12
// months never settle; a later default is cancelled by an earlier
// settlement.
func (g *chunkGen) earlySettlement(l *loanSim) {
	r, w, a := g.r, g.w, l.a
	ps := [3]float64{0.02, 0.012, 0.025}[a.product] * math.Max(0.2, 1.3-4*l.pd)
	for i := 2; i < a.term && (l.onset == 0 || l.onset > 8); i++ {
		if r.Float64() < ps {
			lo := g.sched[i-2].Due + 2
			day := g.sched[i-1].Due - 1 - r.IntN(20)
			day = max(day, lo)
			if day <= w.endDay {
				l.settle, l.settleSec = i, int64(day)*secondsPerDay+daySec(r, 8, 22)
			}
			break
		}
	}
	if l.settle > 0 {
		l.onset = 0
		g.sched = settleAt(g.sched, l.settle, l.principal, l.rateMicro)
	}
}

// repay simulates the installments one by one into g.pays and g.evs: the
// onset installment defaults (and the ones after it stay unpaid), the
// settlement installment pays off the loan, and every other installment
// is paid late then cured, or on time.
func (g *chunkGen) repay(l *loanSim) {
	r, w := g.r, g.w
	g.pays = g.pays[:0]
	g.evs = g.evs[:0]
	lateP := math.Min(0.02+0.5*l.pd, 0.4)
	for i := 1; i <= len(g.sched); i++ {
		in := g.sched[i-1]
		switch {
		case l.onset > 0 && i == l.onset:
			l.spike = in.Due
			coll := int64(0)
			if l.a.collType > 0 {
				coll = l.a.collFen
			}
			l.writtenOff = g.defaulted(in, i, l.ring >= 0, coll)
		case l.onset > 0 && i > l.onset:
			// Unpaid.
		case i == l.settle:
			g.settled(in, i, l.settleSec)
		case r.Float64() < w.lateFactor(in.Due)*lateP || (l.onset > 0 && i >= l.onset-3 && r.Float64() < 0.4):
			// Borrowers heading for default slip in the months before they
			// stop paying, which is what a behaviour score and the
			// early-warning list pick up.
			g.paidLate(in, i)
		default:
			g.paidOnTime(in, i)
		}
	}
}

// settled books the early settlement at settleSec of installment inst,
// the schedule's last: whatever is still overdue is paid off with it, and
// the collection events after it are dropped.
func (g *chunkGen) settled(in Installment, inst int, settleSec int64) {
	for k := range g.pays {
		if g.pays[k].sec >= settleSec {
			g.pays[k].sec = settleSec - int64(60*(k+1))
		}
	}
	n := 0
	for _, e := range g.evs {
		if e.sec < settleSec {
			g.evs[n] = e
			n++
		}
	}
	g.evs = g.evs[:n]
	g.pays = append(g.pays, payment{settleSec, inst, in.Principal, in.Interest, 0})
}

// paidLate books installment inst paid 1 to 85 days late (mostly within
// a month) with a penalty of 0.05% of the installment a day, sometimes in
// two payments, and the collection events until it is paid.
func (g *chunkGen) paidLate(in Installment, inst int) {
	r := g.r
	due := in.Due
	total := in.Principal + in.Interest
	var d int
	switch u := r.Float64(); {
	case u < 0.55:
		d = 1 + r.IntN(5)
	case u < 0.87:
		d = 6 + r.IntN(25)
	case u < 0.97:
		d = 31 + r.IntN(30)
	default:
		d = 61 + r.IntN(25)
	}
	paySec := int64(due+d)*secondsPerDay + daySec(r, 8, 23)
	pen := (total*5*int64(d) + 5000) / 10000
	if d > 3 && r.Float64() < 0.25 {
		f := 0.3 + 0.4*r.Float64()
		p1, i1 := int64(float64(in.Principal)*f), int64(float64(in.Interest)*f)
		sec1 := int64(due+r.IntN(d))*secondsPerDay + daySec(r, 8, 23)
		g.pays = append(g.pays, payment{sec1, inst, p1, i1, 0})
		g.pays = append(g.pays, payment{max(paySec, sec1+60), inst, in.Principal - p1, in.Interest - i1, pen})
	} else {
		g.pays = append(g.pays, payment{paySec, inst, in.Principal, in.Interest, pen})
	}
	g.collect(int64(due)*secondsPerDay, paySec, false, false)
}

// paidOnTime books installment inst paid up to a week early, or by
// auto-debit on the due day, sometimes in two halves.
func (g *chunkGen) paidOnTime(in Installment, inst int) {
	r := g.r
	due := in.Due
	dueSec := int64(due) * secondsPerDay
	early := 0
	if r.Float64() < 0.5 {
		early = 1 + r.IntN(7)
	}
	var sec int64
	if early == 0 && r.Float64() < 0.6 {
		sec = dueSec + 6*3600 + int64(r.IntN(1800)) // auto-debit on the due day
	} else {
		sec = int64(due-early)*secondsPerDay + daySec(r, 7, 24)
	}
	if r.Float64() < 0.08 {
		p1, i1 := in.Principal/2, in.Interest/2
		sec0 := sec - int64(1+r.IntN(5))*secondsPerDay
		g.pays = append(g.pays, payment{sec0, inst, p1, i1, 0})
		g.pays = append(g.pays, payment{sec, inst, in.Principal - p1, in.Interest - i1, 0})
	} else {
		g.pays = append(g.pays, payment{sec, inst, in.Principal, in.Interest, 0})
	}
}

// windowStatus sorts the loan's payments by time, drops those after the
// window, and returns the loan's status at the end of the window:
// written_off, settled (all the principal repaid) or active.
func (g *chunkGen) windowStatus(l *loanSim) string {
	slices.SortFunc(g.pays, func(x, y payment) int { return cmp.Compare(x.sec, y.sec) })
	var paidPrin int64
	n := 0
	for _, p := range g.pays {
		if p.sec <= g.w.endSec {
			g.pays[n] = p
			n++
			paidPrin += p.prin
		}
	}
	g.pays = g.pays[:n]
	switch {
	case l.writtenOff:
		return "written_off"
	case paidPrin == l.principal:
		return "settled"
	}
	return "active"
}

// bureauAfterIssue adds the loan's inquiries to g.inq: our post-loan
// checks every six months while the loan runs, and the multi-lending
// spike before a default.
func (g *chunkGen) bureauAfterIssue(l *loanSim) {
	r, w := g.r, g.w
	end := g.sched[len(g.sched)-1].Due
	for d := l.issue + 180; d < end && d <= w.endDay; d += 180 {
		g.inq = append(g.inq, inquiry{d, instCF, rsPostLoan})
	}
	if l.spike > 0 {
		// The spike falls after the loan was issued: an inquiry dated
		// before the application would let the A-card see the default.
		for range 1 + poisson(r, 2.5) {
			d := l.spike - 1 - r.IntN(75)
			if d <= l.issue {
				d = l.issue + 1 + r.IntN(max(1, l.spike-l.issue-1))
			}
			g.inq = append(g.inq, inquiry{d, g.instType(l.b.h + 1), rsApproval})
		}
	}
}

// defaulted simulates an installment from which the borrower stops
// paying: maybe a partial payment first, collections through M1..M4+, a
// few partial recoveries, write-off at 180 DPD, and recoveries after it
// (the sale of the collateral, collfen in fen, for a secured loan; for
// some borrowers, late payments to collections). It reports whether the
// write-off falls inside the window.
func (g *chunkGen) defaulted(in Installment, inst int, fraud bool, collFen int64) bool {
	r, w := g.r, g.w
	due := in.Due
	dueSec := int64(due) * secondsPerDay
	owed := in.Principal + in.Interest
	if !fraud && r.Float64() < 0.25 && owed > 100 {
		f := 0.2 + 0.4*r.Float64()
		p := int64(float64(in.Principal) * f)
		i := int64(float64(in.Interest) * f)
		g.pays = append(g.pays, payment{dueSec - int64(r.IntN(3))*secondsPerDay + daySec(r, 8, 22), inst, p, i, 0})
		owed -= p + i
		in.Principal -= p
	}
	woDay := due + 180
	if !fraud && r.Float64() < 0.25 {
		left := in.Principal
		for range 1 + r.IntN(2) {
			p := int64(float64(left) * (0.05 + 0.3*r.Float64()))
			if p <= 0 {
				break
			}
			day := due + 20 + r.IntN(150)
			g.pays = append(g.pays, payment{int64(day)*secondsPerDay + daySec(r, 8, 22), inst, p, 0, 0})
			left -= p
		}
	}
	g.collect(dueSec, int64(woDay)*secondsPerDay, true, fraud)
	g.recover(inst, woDay, fraud, collFen)
	return woDay <= w.endDay
}

// recover adds the payments booked after a write-off on day woDay: for a
// secured loan the collateral is sold 30–120 days later for 40–80% of its
// value, up to the principal still owed; half of the borrowers (never a
// fraud ring's) pay 1–4 more sums of 5–20% of what is left within a year.
// Each sum is one repayment row, booked to the oldest installment with
// principal unpaid (as loan systems book recoveries; it may exceed that
// installment's due). Payments after the window are dropped later with
// the others.
func (g *chunkGen) recover(inst int, woDay int, fraud bool, collFen int64) {
	r := g.r
	owed := make([]int64, 0, len(g.sched)-inst+1)
	for k := inst - 1; k < len(g.sched); k++ {
		owed = append(owed, g.sched[k].Principal)
	}
	for _, p := range g.pays {
		if p.inst >= inst {
			owed[p.inst-inst] -= p.prin
		}
	}
	left := int64(0)
	for _, o := range owed {
		left += o
	}
	pay := func(day int, amount int64) {
		amount = min(amount, left)
		if amount <= 0 {
			return
		}
		first := slices.IndexFunc(owed, func(o int64) bool { return o > 0 })
		g.pays = append(g.pays, payment{int64(day)*secondsPerDay + daySec(r, 8, 22), inst + first, amount, 0, 0})
		left -= amount
		for k := first; amount > 0; k++ {
			p := min(owed[k], amount)
			owed[k] -= p
			amount -= p
		}
	}
	if collFen > 0 && left > 0 {
		pay(woDay+30+r.IntN(91), min(left, int64(float64(collFen)*(0.4+0.4*r.Float64()))))
	}
	if !fraud && left > 0 && r.Float64() < 0.5 {
		for range 1 + r.IntN(4) {
			pay(woDay+20+r.IntN(340), int64(float64(left)*(0.05+0.15*r.Float64())))
		}
	}
}

// collect adds the collection events of a delinquency that starts at
// dueSec and ends (paid, or written off when bad) at endSec: SMS in the
// first days, calls from M1 with promises (some broken), no answer, wrong
// numbers, lost contact and its repair, field visits from M2, legal from
// M4, and a paid event when the borrower cures.
func (g *chunkGen) collect(dueSec, endSec int64, bad, fraud bool) {
	r := g.r
	days := int((endSec - dueSec) / secondsPerDay)
	if days < 2 {
		return
	}
	add := func(day int, ch, out uint8) {
		g.evs = append(g.evs, event{dueSec + int64(day)*secondsPerDay + daySec(r, 9, 20), ch, out})
	}
	smsOut := func() uint8 {
		if r.Float64() < 0.2 {
			return outPromise
		}
		return outNoAnswer
	}
	add(1, evSMS, smsOut())
	if days > 3 {
		add(3, evSMS, smsOut())
	}
	lost := false
	lastCh := uint8(evSMS)
	for d := 5 + r.IntN(2); d < days; {
		lastCh = evCall
		var out uint8
		switch u := r.Float64(); {
		case fraud && d < 15:
			out = []uint8{outWrongNumber, outLostContact, outNoAnswer}[r.IntN(3)]
			lost = lost || out == outLostContact
		case lost:
			if bad && r.Float64() < 0.1 {
				out, lost = outRepaired, false
			} else {
				out = outNoAnswer
			}
		case u < 0.5:
			out = outNoAnswer
		case u < 0.8:
			out = outPromise
		case u < 0.85:
			out = outWrongNumber
		case bad && d > 15 && u < 0.95:
			out, lost = outLostContact, true
		default:
			out = outPromise
		}
		add(d, evCall, out)
		if d < 60 {
			d += 3 + r.IntN(4)
		} else {
			d += 6 + r.IntN(8)
		}
	}
	for d := 35 + r.IntN(5); d < days && d < 150; d += 15 + r.IntN(15) {
		lastCh = evField
		out := []uint8{outPromise, outNoAnswer, outLostContact}[r.IntN(3)]
		if !bad && out == outLostContact {
			out = outPromise
		}
		add(d, evField, out)
	}
	if bad {
		for d := 95 + r.IntN(10); d < days; d += 40 + r.IntN(20) {
			add(d, evLegal, []uint8{outNoAnswer, outPromise}[r.IntN(2)])
		}
		return
	}
	g.evs = append(g.evs, event{endSec + 60 + int64(r.IntN(600)), lastCh, outPaid})
}
