package gen

import (
	"cmp"
	"math"
	"slices"
)

// writeLoan writes the loan's row of loans, with the purpose it draws and
// its status at the end of the window.
func (g *chunkGen) writeLoan(l *loanSim, status string) {
	r, b, a := g.r, l.b, l.a
	t := &g.out.tables[tLoans]
	t.id('L', l.num, 9)
	t.id('A', a.num, 10)
	t.id('B', b.num, 10)
	t.str(productNames[a.product])
	t.date(l.issue)
	t.fen(l.principal)
	t.micro(l.rateMicro)
	t.int(a.term)
	t.str(repayMethodNames[l.method])
	switch a.product {
	case prodCredit:
		t.str(creditPurposes[r.IntN(len(creditPurposes))])
	case prodCar:
		t.str("购车")
	default:
		t.str(housePurposes[r.IntN(len(housePurposes))])
	}
	t.str(collNames[a.collType])
	if a.collType > 0 {
		t.fen(a.collFen)
	} else {
		t.empty()
	}
	t.str(g.w.pl.provs[b.prov].name)
	t.str(status)
	t.done(false)
}

// writeSchedule writes the loan's rows of repayment_schedule.
func (g *chunkGen) writeSchedule(l *loanSim) {
	t := &g.out.tables[tSchedule]
	t.issueDay = l.issue
	for i, in := range g.sched {
		t.id('L', l.num, 9)
		t.int(i + 1)
		t.date(in.Due)
		t.fen(in.Principal)
		t.fen(in.Interest)
		t.done(true)
	}
}

// writeRepayments writes the loan's rows of repayments, one per payment
// inside the window, in time order.
func (g *chunkGen) writeRepayments(l *loanSim) {
	t := &g.out.tables[tRepayments]
	t.issueDay = l.issue
	for k, p := range g.pays {
		t.buf = append(t.buf, 'T')
		t.buf = appendPadded(t.buf, uint64(l.num), 9)
		t.buf = appendPadded(t.buf, uint64(k+1), 3)
		t.next()
		t.id('L', l.num, 9)
		t.int(p.inst)
		t.time(p.sec)
		t.fen(p.prin)
		t.fen(p.intr)
		t.fen(p.pen)
		t.done(true)
	}
}

// writeEvents writes the loan's rows of collection_events inside the
// window in time order, moving an event that would tie with or precede
// the one before it to up to a minute after. It returns the time of the
// lost contact the collection ended in, or -1 if it did not end in one.
func (g *chunkGen) writeEvents(l *loanSim) (lostAt int64) {
	r, w := g.r, g.w
	slices.SortFunc(g.evs, func(x, y event) int { return cmp.Compare(x.sec, y.sec) })
	t := &g.out.tables[tEvents]
	t.issueDay = l.issue
	last := int64(0)
	lostAt = -1
	for _, e := range g.evs {
		if e.sec <= last {
			e.sec = last + 1 + int64(r.IntN(60))
		}
		if e.sec > w.endSec {
			break
		}
		last = e.sec
		t.id('L', l.num, 9)
		t.time(e.sec)
		t.str(evChannelNames[e.ch])
		t.str(outcomeNames[e.out])
		t.done(true)
		switch e.out {
		case outLostContact:
			lostAt = e.sec
		case outRepaired, outPaid:
			lostAt = -1
		}
	}
	return lostAt
}

// writeTruth appends the loan's row of _truth/loans.csv: loan and
// borrower, true PD, whether it reached 90+ DPD within 12 months on book
// (bad12), and its fraud ring if any.
func (g *chunkGen) writeTruth(l *loanSim, bad12 bool) {
	tb := g.out.truth
	tb = append(tb, 'L')
	tb = appendPadded(tb, uint64(l.num), 9)
	tb = append(tb, ',', 'B')
	tb = appendPadded(tb, uint64(l.b.num), 10)
	tb = append(tb, ',')
	tb = appendMicro(tb, int64(math.Round(l.pd*1e6)))
	tb = append(tb, ',', byte('0'+boolInt(bad12)), ',')
	if l.ring >= 0 {
		tb = append(tb, 'R')
		tb = appendPadded(tb, uint64(l.ring), 8)
	}
	tb = append(tb, '\n')
	g.out.truth = tb
}
