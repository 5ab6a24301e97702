package gen

import (
	"math/rand/v2"
	"slices"

	"qiandun/internal/civil"
)

// injectLoan gives the loan one reconciliation break with probability
// rate, of one of the five kinds a loan's flows can have (equally
// likely), on a flow dated at least a week before the window's end (so
// that no posting window reaches past it). A loan with an offline
// repayment (a statement line without reference) gets none, so that each
// break has exactly one reading. The draws come from the break stream.
func (cg *custodyGen) injectLoan(lf custodyLoan, bo int32) {
	if cg.rate <= 0 {
		return
	}
	rb := cg.rb
	u, kind, pick, d := rb.Float64(), rb.IntN(5), rb.Float64(), 1+rb.Int64N(9)
	neg := rb.IntN(2) == 0
	if u >= cg.rate {
		return
	}
	last := int64(cg.w.endDay-7) * secondsPerDay
	var cands []int
	for i, l := range cg.loanBuf {
		if l.owner == bo && l.typ == cRepayment && !l.out && l.ref == refNone {
			return // an offline repayment
		}
		if l.ref != refNone && l.sec < last {
			cands = append(cands, i)
		}
	}
	if kind == bkPlatformMissing {
		from, to := lf.issue+1, cg.w.endDay-8
		if to < from {
			return
		}
		day := from + int(pick*float64(to-from+1))
		cg.add(cline{sec: int64(day)*secondsPerDay + 10*3600 + int64(d)*600, owner: bo, typ: cRepayment, grp: -1,
			amount: (100 + d*500) * 100, loan: lf.num})
		cg.breaks[bkPlatformMissing]++
		return
	}
	if len(cands) == 0 {
		return
	}
	ti := cands[int(pick*float64(len(cands)))]
	target := cg.loanBuf[ti]
	switch kind {
	case bkBankMissing:
		for i := range cg.loanBuf {
			if cg.loanBuf[i].grp == target.grp {
				cg.loanBuf[i].amount = -1 // dropped
			}
		}
	case bkDuplicate:
		dup := target
		dup.dup = true
		cg.loanBuf = append(cg.loanBuf, dup)
	case bkAmountMismatch:
		if target.typ == cInvestment && neg {
			d = -d
		}
		cg.loanBuf[ti].amount += d
	case bkTiming:
		days := int64(1 + d%2)
		for i := range cg.loanBuf {
			if cg.loanBuf[i].grp == target.grp {
				cg.loanBuf[i].sec += days * secondsPerDay
			}
		}
	}
	cg.breaks[kind]++
}

// finish completes the chunk's statement: each owner's lines in time
// order with the lenders' recharges and withdrawals, the migration and
// the running balances (walk), then writes them in time order.
func (cg *custodyGen) finish(t *tableBuf) {
	ls := slices.DeleteFunc(cg.lines, func(l cline) bool { return l.amount < 0 })
	sortLines(ls)
	out := make([]cline, 0, len(ls)+len(ls)/4)
	for i := 0; i < len(ls); {
		j := i
		for j < len(ls) && ls[j].owner == ls[i].owner {
			j++
		}
		out = cg.walk(out, ls[i:j])
		i = j
	}
	cg.write(t, out)
}

// write appends lines to t in time order (an owner's lines of the same
// second in chain order), numbering them: the bank's serial is its code,
// the date, the chunk and the line's place, so that (txn_time,
// bank_txn_id) orders each sub-account's lines as its balances chain.
func (cg *custodyGen) write(t *tableBuf, out []cline) {
	sortBy(out, func(l *cline) uint64 { return uint64(l.sec - minSec) })
	t.buf = slices.Grow(t.buf, len(out)*140)
	for i, l := range out {
		bank := int(l.bank)
		t.buf = append(t.buf, bankCodes[bank]...)
		t.buf = appendPadded(t.buf, uint64(dateNum(int(l.sec/secondsPerDay))), 8)
		t.buf = appendPadded(t.buf, uint64(cg.chunk), 5)
		t.buf = appendPadded(t.buf, uint64(i), 7)
		t.next()
		t.str(bankNames[bank])
		kind, num := cg.ownerKind(l.owner)
		t.buf = append(t.buf, bankAcct[bank]...)
		t.buf = append(t.buf, byte('1'+kind))
		t.buf = appendPadded(t.buf, uint64(num), 12)
		t.next()
		t.str(ownerTypeNames[kind])
		switch kind {
		case ownBorrower:
			t.id('B', num, 10)
		case ownLender:
			t.id('P', num, 10)
		case ownPlatform:
			t.str(PlatformOwnerID)
		default:
			t.str(GuarantorOwnerID)
		}
		t.time(l.sec)
		if l.out {
			t.str("out")
		} else {
			t.str("in")
		}
		t.fen(l.amount)
		t.str(txnTypeNames[l.typ])
		if l.loan > 0 {
			t.id('L', l.loan, 9)
		} else {
			t.empty()
		}
		switch l.ref {
		case refTxn:
			t.buf = append(t.buf, 'T')
			t.buf = appendPadded(t.buf, uint64(l.loan), 9)
			t.buf = appendPadded(t.buf, uint64(l.refK), 3)
			t.next()
		case refInv:
			t.id('I', l.loan*100+int64(l.refK), 11)
		case refLoan:
			t.id('L', l.loan, 9)
		default:
			t.empty()
		}
		t.fen(l.bal + l.shift)
		t.done(true)
	}
}

// dateNum is a day as the number YYYYMMDD.
func dateNum(day int) int {
	y, m, d := civil.Date(day)
	return y*10000 + m*100 + d
}

func (cg *custodyGen) ownerKind(o int32) (int, int64) {
	switch o {
	case -1:
		return ownPlatform, 1
	case -2:
		return ownGuarantor, 1
	}
	ow := cg.owners[o]
	return int(ow.kind), ow.num
}

// walk emits one owner's lines (ls, sorted) to out in chain order with
// their balances: a lender (and the guarantor) recharges before an
// outflow its balance cannot cover; a lender sometimes withdraws after
// an inflow; the platform withdraws its fees at each month end; at the
// migration every sub-account opened at the old bank is closed there
// (migration_out of its balance) and opened at the new one
// (migration_in). Then the per-sub-account breaks: a migrated balance
// that differs, a balance_after chain that jumps.
func (cg *custodyGen) walk(out []cline, ls []cline) []cline {
	w, r := cg.w, cg.r
	o := ls[0].owner
	kind, _ := cg.ownerKind(o)
	start := len(out)
	var bal, prev int64
	migrated := w.migSec > w.endSec
	emit := func(l cline) {
		if l.out {
			bal -= l.amount
		} else {
			bal += l.amount
		}
		l.bal, l.owner = bal, o
		if l.sec >= w.migSec {
			l.bank = 1
		}
		prev = l.sec
		out = append(out, l)
	}
	migrate := func() {
		migrated = true
		if len(out) == start {
			return // opened at the new bank
		}
		closing := bal
		emit(cline{sec: w.migSec, typ: cMigOut, out: true, amount: closing})
		out[len(out)-1].bank = 0
		in := closing + cg.migrationBreak(closing)
		emit(cline{sec: w.migSec, typ: cMigIn, amount: in})
	}
	// monthly: the platform withdraws the month's fees at 18:00 of its last day.
	monthly := func(day int) {
		sec := int64(day)*secondsPerDay + 18*3600
		if !migrated && sec >= w.migSec {
			migrate()
		}
		if bal > 0 {
			emit(cline{sec: sec, typ: cWithdrawal, out: true, amount: bal})
		}
	}
	nextMonth := addMonths(w.startDay, 1) - 1 // the first month end
	for k, l := range ls {
		for kind == ownPlatform && nextMonth <= w.endDay && int64(nextMonth)*secondsPerDay+18*3600 < l.sec {
			monthly(nextMonth)
			nextMonth = monthEnd(nextMonth + 1)
		}
		if !migrated && l.sec >= w.migSec {
			migrate()
		}
		if (kind == ownLender || kind == ownGuarantor) && l.out && l.amount > bal {
			unit := int64(100_000)
			if kind == ownGuarantor {
				unit = 100_000_000
			}
			amt := (l.amount-bal+unit-1)/unit*unit + int64(r.IntN(5))*unit
			lo := prev // after the owner's last line, and at the same bank as l
			if l.sec >= w.migSec {
				lo = max(lo, w.migSec)
			}
			emit(cline{sec: max(l.sec-1-r.Int64N(7200), lo), typ: cRecharge, amount: amt})
		}
		emit(l)
		if kind == ownLender && !l.out && r.Float64() < 0.1 {
			ws := l.sec + 1 + r.Int64N(2*secondsPerDay)
			next := w.endSec + 1
			if k+1 < len(ls) {
				next = ls[k+1].sec
			}
			amt := int64(float64(bal)*(0.3+0.7*r.Float64())) / 100 * 100
			if ws < next && (ws < w.migSec) == (l.sec < w.migSec) && amt > 0 {
				emit(cline{sec: ws, typ: cWithdrawal, out: true, amount: amt})
			}
		}
	}
	for kind == ownPlatform && nextMonth <= w.endDay {
		monthly(nextMonth)
		nextMonth = monthEnd(nextMonth + 1)
	}
	if !migrated && w.migSec <= w.endSec {
		migrate()
	}
	cg.chainBreak(out[start:])
	return out
}

// migrationBreak returns what the new bank's opening balance differs
// from the old bank's closing one by: nonzero for a share rate/5 of the
// sub-accounts (migration_mismatch), never below zero in total.
func (cg *custodyGen) migrationBreak(closing int64) int64 {
	if cg.rate <= 0 {
		return 0
	}
	u, d, neg := cg.rb.Float64(), 1+cg.rb.Int64N(50_000), cg.rb.IntN(2) == 0
	if u >= cg.rate/5 || cg.w.migDay > cg.w.endDay-7 {
		return 0
	}
	cg.breaks[bkMigrationMismatch]++
	if neg && closing >= d {
		return -d
	}
	return d
}

// chainBreak, for a share rate/5 of the owners with lines at the new
// bank, shifts the reported balance_after of one line (dated a week or
// more before the window's end) and every later one by a nonzero amount:
// the statement's balances jump once (balance_chain).
func (cg *custodyGen) chainBreak(ls []cline) {
	if cg.rate <= 0 {
		return
	}
	rb := cg.rb
	u, pick, x := rb.Float64(), rb.Float64(), 1+rb.Int64N(100_000)
	if rb.IntN(2) == 0 {
		x = -x
	}
	if u >= cg.rate/5 {
		return
	}
	last := int64(cg.w.endDay-7) * secondsPerDay
	var cands []int
	for i, l := range ls {
		if l.bank == 1 && l.sec < last {
			cands = append(cands, i)
		}
	}
	if len(cands) == 0 {
		return
	}
	for i := cands[int(pick*float64(len(cands)))]; i < len(ls); i++ {
		ls[i].shift += x
	}
	cg.breaks[bkBalanceChain]++
}

// globalCustody is the generator of the platform's and the guarantor's
// statement lines, collected from every chunk.
func globalCustody(w *world, global []cline) *custodyGen {
	cg := newCustodyGen(w, globalChunk)
	cg.r = rand.New(rand.NewPCG(w.cfg.Seed^0x5851f42d4c957f2d, 1<<40))
	cg.rb = rand.New(rand.NewPCG(w.cfg.Seed^0x14057b7ef767814f, 1<<40))
	cg.lines = global
	return cg
}

// globalChunk is the chunk number in the serials of the global lines.
const globalChunk = 99999
