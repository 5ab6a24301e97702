package gen

import (
	"math"
	"math/rand/v2"
	"slices"

	"qiandun/internal/civil"
)

// The P2P side of the book: investments (each loan funded by a few
// lenders before issue) and the custodian bank's statement
// (custody_transactions). Every flow of a loan passes through custody
// sub-accounts:
//
//	lender recharge          lender in        (when the balance cannot fund an investment)
//	investment (freeze)      lender out       reference investment_id, at invest_time
//	disbursement             borrower in      reference loan_id, on the issue date
//	platform fee             borrower out, platform in
//	borrower withdrawal      borrower out     (the loan less the fee, to the borrower's card)
//	repayment                borrower in      reference txn_id (2% offline: no reference)
//	distribution             borrower out, lender in pro rata to the investments
//	                         (after a write-off: guarantor in, the guarantor holds the claim)
//	compensation             guarantor out, lender in: the principal outstanding at write-off
//	lender withdrawal        lender out
//	platform withdrawal      platform out     (the month's fees, at each month end)
//	guarantor recharge       guarantor in
//	migration                migration_out at the old bank closing every sub-account's
//	                         balance, migration_in at the new bank opening it, at 00:00 of
//	                         the migration day
//
// Borrowers and lenders are local to a chunk (a lender funds loans of
// one chunk), so their statement lines are generated with the chunk; the
// platform's and the guarantor's lines (one sub-account each) are
// collected from every chunk and generated last (custody_global.go).
// The custody stream of a chunk (PCG seeded apart from the book's) makes
// every draw: the other tables are the same bytes with or without it.
// Reconciliation breaks (--custody-breaks) are drawn from a third stream,
// so a book with breaks differs from the clean one only where they are.

// Owner kinds, in schema.OwnerTypes order.
const (
	ownBorrower = iota
	ownLender
	ownPlatform
	ownGuarantor
)

// Custody transaction types, in schema.TxnTypes order.
const (
	cRecharge = iota
	cWithdrawal
	cDisbursement
	cRepayment
	cInvestment
	cFee
	cCompensation
	cMigIn
	cMigOut
)

var (
	ownerTypeNames = [4]string{"borrower", "lender", "platform", "guarantor"}
	txnTypeNames   = [9]string{"recharge", "withdrawal", "disbursement", "repayment", "investment", "fee",
		"compensation", "migration_in", "migration_out"}
	bankNames = [2]string{"贵州银行", "新网银行"}
	bankCodes = [2]string{"GZ", "XW"}
	// sub-account number prefixes at each bank
	bankAcct = [2]string{"8101", "6236"}
)

// References of a statement line to the platform's records.
const (
	refNone = iota
	refTxn  // repayments.txn_id: T<loan><k>
	refInv  // investments.investment_id: I<loan><k>
	refLoan // loans.loan_id (a disbursement)
)

// Break kinds, in the order _truth/custody.json and reconcile list them.
const (
	bkBankMissing = iota
	bkPlatformMissing
	bkDuplicate
	bkAmountMismatch
	bkTiming
	bkBalanceChain
	bkMigrationMismatch
	nBreakKinds
)

// BreakKinds are the reconciliation break kinds, in order.
var BreakKinds = [nBreakKinds]string{"bank_missing", "platform_missing", "duplicate", "amount_mismatch",
	"timing", "balance_chain", "migration_mismatch"}

// Owner ids of the platform's and the guarantor's sub-accounts.
const (
	PlatformOwnerID  = "Q000000001"
	GuarantorOwnerID = "G000000001"
)

// cline is one custody statement line being built.
type cline struct {
	sec    int64
	seq    int32 // creation order: ties in sec
	owner  int32 // index into custodyGen.owners; -1 platform, -2 guarantor
	typ    uint8
	out    bool
	dup    bool // a duplicated bank line (sorts after its original)
	ref    uint8
	refK   int32 // installment-free number within the loan (txn or investment)
	grp    int32 // the flow the line belongs to (a repayment and its distribution), within its loan
	amount int64
	loan   int64 // 0 = none
	bal    int64
	shift  int64 // what a broken chain adds to the reported balance_after
	bank   uint8
	chunk  int32
}

type owner struct {
	kind uint8
	num  int64
}

// lender is one P2P lender of a chunk, with an identity made like a
// borrower's.
type lender struct {
	num         int64
	idNumber    string
	name, phone []byte
	size        float64 // relative investment size
	usedForLoan int64   // the last loan it was picked for
}

// custodyGen generates a chunk's investments and custody lines.
type custodyGen struct {
	w       *world
	chunk   int
	r       *rand.Rand // flows
	rb      *rand.Rand // breaks
	rate    float64
	lenders []lender
	owners  []owner
	byOwner map[owner]int32
	lines   []cline // borrowers' and lenders' lines
	global  []cline // the platform's and the guarantor's
	loanBuf []cline
	seq     int32
	breaks  [nBreakKinds]int
}

func newCustodyGen(w *world, chunk int) *custodyGen {
	return &custodyGen{w: w, chunk: chunk, rate: w.cfg.CustodyBreaks, lines: make([]cline, 0, 64<<10),
		r:       rand.New(rand.NewPCG(w.cfg.Seed^0x5851f42d4c957f2d, uint64(chunk)*2+1)),
		rb:      rand.New(rand.NewPCG(w.cfg.Seed^0x14057b7ef767814f, uint64(chunk)*2+1)),
		byOwner: map[owner]int32{}}
}

func (cg *custodyGen) ownerOf(kind uint8, num int64) int32 {
	o := owner{kind, num}
	if i, ok := cg.byOwner[o]; ok {
		return i
	}
	i := int32(len(cg.owners))
	cg.owners = append(cg.owners, o)
	cg.byOwner[o] = i
	return i
}

func (cg *custodyGen) add(l cline) {
	cg.seq++
	l.seq = cg.seq
	l.chunk = int32(cg.chunk)
	cg.loanBuf = append(cg.loanBuf, l)
}

// newLender makes a lender of this chunk: an adult of 22..65 with an ID
// number, a name and a phone.
func (cg *custodyGen) newLender(day int) int {
	r, w := cg.r, cg.w
	num := int64(cg.chunk)*idStride + int64(len(cg.lenders)) + 1
	prov := w.pl.pickProvince(r)
	cities := w.pl.provs[prov].cities
	male := r.Float64() < 0.55
	age := 22 + r.IntN(44)
	fy, fm, fd := civil.Date(day)
	lo := addMonthsFrom(fy, fm, fd, -12*(age+1)) + 1
	hi := addMonthsFrom(fy, fm, fd, -12*age)
	birth := lo + r.IntN(hi-lo+1)
	l := lender{num: num, size: math.Exp(0.8 * r.NormFloat64())}
	l.idNumber = makeID(r, cities[r.IntN(len(cities))].code, birth, male, false)
	l.name = appendName(nil, r, male)
	l.phone = appendPhone(nil, r)
	cg.lenders = append(cg.lenders, l)
	return len(cg.lenders) - 1
}

// pickLender returns a lender for the loan: mostly one of the chunk's,
// sometimes a new one, never one already funding this loan.
func (cg *custodyGen) pickLender(loanNum int64, day int) int {
	for {
		var i int
		if len(cg.lenders) < 20 || cg.r.Float64() < 0.08 {
			i = cg.newLender(day)
		} else {
			i = cg.r.IntN(len(cg.lenders))
		}
		if cg.lenders[i].usedForLoan != loanNum {
			cg.lenders[i].usedForLoan = loanNum
			return i
		}
	}
}

// custodyLoan is what the custody side needs of a loan.
type custodyLoan struct {
	num       int64
	borrower  int64
	applySec  int64
	issue     int
	principal int64
	product   int
	pays      []payment // in time order, within the window; txn k+1 is pays[k]
	woDay     int       // write-off day inside the window, 0 if none
}

// loan writes the loan's investments and builds its custody lines.
func (cg *custodyGen) loan(t *tableBuf, lf custodyLoan) {
	r := cg.r
	cg.loanBuf = cg.loanBuf[:0]
	bo := cg.ownerOf(ownBorrower, lf.borrower)
	// Funding: n lenders in multiples of 100 yuan.
	units := lf.principal / 10000
	n := int(min(2+lf.principal/100/150_000, 6))
	n = int(min(int64(n), units))
	shares := make([]int64, n)
	ws := make([]float64, n)
	lenders := make([]int, n)
	tot := 0.0
	for i := range n {
		lenders[i] = cg.pickLender(lf.num, lf.issue)
		ws[i] = cg.lenders[lenders[i]].size * (0.5 + r.Float64())
		tot += ws[i]
	}
	left := units - int64(n)
	given := int64(0)
	for i := range n {
		shares[i] = 1 + int64(float64(left)*ws[i]/tot)
		given += shares[i]
	}
	shares[0] += units - given
	dayEnd := int64(lf.issue)*secondsPerDay + secondsPerDay - 1
	disb := min(max(int64(lf.issue)*secondsPerDay+daySec(r, 9, 21), lf.applySec+600), dayEnd)
	disb = max(disb, lf.applySec)
	for i := range n {
		shares[i] *= 10000
		sec := lf.applySec + r.Int64N(max(disb-lf.applySec, 1))
		l := &cg.lenders[lenders[i]]
		t.id('I', lf.num*100+int64(i+1), 11)
		t.id('P', l.num, 10)
		t.id('L', lf.num, 9)
		t.time(sec)
		t.fen(shares[i])
		t.str(l.idNumber)
		t.bytes(l.name)
		t.bytes(l.phone)
		t.done(true)
		cg.add(cline{sec: sec, owner: cg.ownerOf(ownLender, l.num), typ: cInvestment, out: true, ref: refInv,
			refK: int32(i + 1), grp: int32(i + 1), amount: shares[i], loan: lf.num})
	}
	// Disbursement, the platform's fee, the borrower's withdrawal.
	g0 := int32(n + 1)
	fee := (lf.principal*[3]int64{200, 150, 100}[lf.product] + 5000) / 10000
	cg.add(cline{sec: disb, owner: bo, typ: cDisbursement, ref: refLoan, grp: g0, amount: lf.principal, loan: lf.num})
	cg.add(cline{sec: disb, owner: bo, typ: cFee, out: true, grp: g0, amount: fee, loan: lf.num})
	cg.add(cline{sec: disb, owner: -1, typ: cFee, grp: g0, amount: fee, loan: lf.num})
	wd := min(disb+60+r.Int64N(3600), dayEnd)
	cg.add(cline{sec: wd, owner: bo, typ: cWithdrawal, out: true, grp: g0, amount: lf.principal - fee})
	cg.repayments(lf, bo, lenders, shares, g0)
	cg.injectLoan(lf, bo)
	for _, l := range cg.loanBuf {
		if l.owner < 0 {
			cg.global = append(cg.global, l)
		} else {
			cg.lines = append(cg.lines, l)
		}
	}
}

// repayments adds each repayment into the borrower's sub-account and its
// distribution, and the guarantor's compensation of a written-off loan.
func (cg *custodyGen) repayments(lf custodyLoan, bo int32, lenders []int, shares []int64, g0 int32) {
	r := cg.r
	woSec := int64(math.MaxInt64)
	if lf.woDay > 0 {
		woSec = int64(lf.woDay)*secondsPerDay + 10*3600
	}
	lo := make([]int32, len(lenders))
	for i, li := range lenders {
		lo[i] = cg.ownerOf(ownLender, cg.lenders[li].num)
	}
	split := func(sec int64, amount int64, typ uint8, grp int32, from int32) {
		var given int64
		for i := len(shares) - 1; i >= 0; i-- {
			part := amount * shares[i] / lf.principal
			if i == 0 {
				part = amount - given
			}
			given += part
			if part == 0 {
				continue
			}
			if from == -2 {
				cg.add(cline{sec: sec, owner: -2, typ: typ, out: true, grp: grp, amount: part, loan: lf.num})
			}
			cg.add(cline{sec: sec, owner: lo[i], typ: typ, grp: grp, amount: part, loan: lf.num})
		}
	}
	var paidPrin int64
	compensated := false
	for k, p := range lf.pays {
		if p.sec >= woSec && !compensated {
			compensated = true
			cg.compensate(lf, woSec, lf.principal-paidPrin, split)
		}
		grp := g0 + 1 + int32(k)
		amount := p.prin + p.intr + p.pen
		end := p.sec/secondsPerDay*secondsPerDay + secondsPerDay - 1
		sec := min(p.sec+r.Int64N(120), end)
		ref := uint8(refTxn)
		if r.Float64() < 0.02 {
			ref = refNone // paid offline, by bank transfer: the statement has no reference
		}
		cg.add(cline{sec: sec, owner: bo, typ: cRepayment, ref: ref, refK: int32(k + 1), grp: grp, amount: amount, loan: lf.num})
		dsec := min(sec+1, end)
		cg.add(cline{sec: dsec, owner: bo, typ: cRepayment, out: true, grp: grp, amount: amount, loan: lf.num})
		if compensated {
			cg.add(cline{sec: dsec, owner: -2, typ: cRepayment, grp: grp, amount: amount, loan: lf.num})
		} else {
			split(dsec, amount, cRepayment, grp, bo)
		}
		if p.sec < woSec {
			paidPrin += p.prin
		}
	}
	if !compensated && lf.woDay > 0 {
		cg.compensate(lf, woSec, lf.principal-paidPrin, split)
	}
}

func (cg *custodyGen) compensate(lf custodyLoan, sec, owed int64, split func(int64, int64, uint8, int32, int32)) {
	if owed > 0 {
		split(sec, owed, cCompensation, 0, -2)
	}
}

// sortLines orders lines by owner (the platform's and the guarantor's
// first), then time, then the order they were made in (a duplicated
// line after its original). It sorts 16-byte keys, not the lines.
func sortLines(ls []cline) {
	sortBy(ls, func(l *cline) uint64 { return uint64(l.owner+2)<<34 | uint64(l.sec-minSec) })
}

// minSec is a second before any statement line (2000-01-01): keys hold
// seconds since it.
const minSec = 10957 * secondsPerDay

// sortBy sorts ls by key(l), ties in the order ls has now, and permutes
// ls in place.
func sortBy(ls []cline, key func(*cline) uint64) {
	type kv struct {
		k uint64
		i int32
	}
	ks := make([]kv, len(ls))
	for i := range ls {
		ks[i] = kv{key(&ls[i]), int32(i)}
	}
	slices.SortFunc(ks, func(a, b kv) int {
		if a.k != b.k {
			if a.k < b.k {
				return -1
			}
			return 1
		}
		return int(a.i - b.i)
	})
	tmp := make([]cline, len(ls))
	for i, x := range ks {
		tmp[i] = ls[x.i]
	}
	copy(ls, tmp)
}
