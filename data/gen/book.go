package gen

import (
	"math"
	"math/rand/v2"
	"slices"

	"qiandun/internal/civil"
)

// Labels of the categorical attributes as they appear in the exports.
var (
	productNames   = [3]string{"信用贷", "车贷", "房抵贷"}
	channelNames   = [4]string{"APP", "H5", "线下", "合作方"}
	educationNames = [5]string{"初中及以下", "高中", "大专", "本科", "研究生"}
	maritalNames   = [4]string{"未婚", "已婚", "离异", "丧偶"}
	collNames      = [3]string{"none", "car", "house"}
	instNames      = [4]string{"bank", "consumer_finance", "p2p", "microloan"}
	reasonNames    = [3]string{"loan_approval", "post_loan", "guarantee"}
	evChannelNames = [4]string{"sms", "call", "field", "legal"}
	outcomeNames   = [6]string{"promise_to_pay", "no_answer", "wrong_number", "lost_contact", "contact_repaired", "paid"}
	creditPurposes = []string{"日常消费", "日常消费", "日常消费", "装修", "教育", "医疗", "经营周转", "经营周转", "旅游", "婚庆", "购买家电", "其他"}
	housePurposes  = []string{"经营周转", "经营周转", "经营周转", "装修", "个人消费"}
)

const (
	prodCredit = iota
	prodCar
	prodHouse
)

const (
	chAPP = iota
	chH5
	chOffline
	chPartner
)

const (
	instBank = iota
	instCF
	instP2P
	instMicro
)

const (
	rsApproval = iota
	rsPostLoan
	rsGuarantee
)

const (
	evSMS = iota
	evCall
	evField
	evLegal
)

const (
	outPromise = iota
	outNoAnswer
	outWrongNumber
	outLostContact
	outRepaired
	outPaid
)

// borrower is one person; attributes fixed across their applications.
type borrower struct {
	num        int64
	h          float64 // hidden credit trait (higher = riskier); drives bureau and demographics
	ml         float64 // multi-lending propensity
	birthProv  int
	prov, city int // residence
	male       bool
	birthDay   int
	idNumber   string
	name       []byte
	phone      []byte
	declGender int // 0 male, 1 female, -1 missing
	edu        int
	marital    int
	incomeFen  int64 // 0 = not declared
	empTenths  int   // employment years x10 at first application, -1 = not declared
	channel    int
	device     []byte
	ip         []byte
	ring       int // fraud ring number, -1 if none
}

type inquiry struct {
	day       int
	inst, rsn uint8
}

type report struct {
	day                  int
	open, overdue, worst int // worst: the overdue band 0..7 of the last 24 months
	outstandingFen       int64
}

// statusCode is the report's worst_status_24m as the bureau codes it
// (schema.BureauStatusCodes): the overdue band 1..7 as its digit, N for a
// borrower never overdue with open accounts, * (no payment due) for one
// with neither open accounts nor overdue history. It draws nothing from
// the generator's random stream.
func (rep report) statusCode() string {
	switch {
	case rep.worst > 0:
		return string(rune('0' + min(rep.worst, 7)))
	case rep.open == 0:
		return "*"
	}
	return "N"
}

// application is one credit application and what the risk model sees of it.
type application struct {
	num                           int64
	sec                           int64
	day                           int
	product                       int
	amountFen                     int64
	term                          int
	collType                      int
	collFen                       int64
	age                           int
	rep                           report
	n7, n30, n90, n180, nonbank90 int
	zObs                          float64 // logit of the observable part of the risk
}

type payment struct {
	sec             int64
	inst            int
	prin, intr, pen int64
}

type event struct {
	sec     int64
	ch, out uint8
}

// chunkGen generates one chunk of the book: a fixed quota of loans with
// their borrowers, applications (approved and rejected) and history. Every
// random draw comes from the chunk's own PCG source, so chunks can be
// generated in parallel and merged in order with identical results.
type chunkGen struct {
	w     *world
	r     *rand.Rand
	out   *chunkOut
	chunk int

	loanNext, loanEnd int64
	appNext           int64
	borrowerNext      int64
	ringNext          int

	inq           []inquiry
	reps          []report
	sched         []Installment
	pays          []payment
	evs           []event
	recentDevices [][]byte
	recentIPs     [][]byte
	// cust makes the chunk's investments and custody lines, on streams of
	// its own.
	cust *custodyGen
	lost []lostCase // loans whose collection ended in lost contact (repair.go)
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// poisson draws a Poisson variate (Knuth's method; the means here are small).
func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		v := int(math.Round(lambda + math.Sqrt(lambda)*r.NormFloat64()))
		return max(v, 0)
	}
	l := math.Exp(-lambda)
	k, p := 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// daySec returns a time of day in seconds between fromH and toH hours.
func daySec(r *rand.Rand, fromH, toH int) int64 {
	return int64(fromH*3600 + r.IntN((toH-fromH)*3600))
}

func (g *chunkGen) run() {
	for g.loanNext < g.loanEnd {
		if g.r.Float64() < 0.0015 {
			g.fraudRing()
		} else {
			g.borrower()
		}
	}
}

// pickApplyDay draws an application day in the issuance window, more
// applications in later months as the book grows.
func (g *chunkGen) pickApplyDay() int {
	w := g.w
	u := g.r.Float64()
	m := 0
	for m < len(w.monthCum)-1 && u >= w.monthCum[m] {
		m++
	}
	first := w.monthStart[m]
	return first + g.r.IntN(monthEnd(first)-first+1)
}

func (g *chunkGen) newBorrower(h float64, firstDay int) *borrower {
	r, w := g.r, g.w
	g.borrowerNext++
	b := &borrower{num: int64(g.chunk)*idStride + g.borrowerNext, h: h, ring: -1}
	b.ml = 0.45 * r.NormFloat64()
	b.birthProv = w.pl.pickProvince(r)
	if r.Float64() < 0.3 {
		hub := w.pl.hubs[r.IntN(len(w.pl.hubs))]
		b.prov, b.city = hub[0], hub[1]
	} else {
		b.prov, b.city = b.birthProv, r.IntN(len(w.pl.provs[b.birthProv].cities))
	}
	b.male = r.Float64() < 0.58
	// Age at first application: 18..60, mostly late twenties to thirties.
	age := 18 + int(math.Exp(2.35+0.5*r.NormFloat64()))
	for age > 60 {
		age = 18 + int(math.Exp(2.35+0.5*r.NormFloat64()))
	}
	fy, fm, fd := civil.Date(firstDay)
	// Birth day such that the person is exactly age on firstDay.
	lo := addMonthsFrom(fy, fm, fd, -12*(age+1)) + 1
	hi := addMonthsFrom(fy, fm, fd, -12*age)
	b.birthDay = lo + r.IntN(hi-lo+1)
	birthCity := w.pl.provs[b.birthProv].cities[r.IntN(len(w.pl.provs[b.birthProv].cities))]
	b.idNumber = makeID(r, birthCity.code, b.birthDay, b.male, r.Float64() < 0.005)
	b.name = appendName(nil, r, b.male)
	b.phone = appendPhone(nil, r)
	switch u := r.Float64(); {
	case u < 0.01:
		b.declGender = -1
	case u < 0.013:
		b.declGender = boolInt(b.male) // disagrees with the ID
	default:
		b.declGender = 1 - boolInt(b.male)
	}
	e := -0.5*h + r.NormFloat64()
	switch {
	case e < -1.1:
		b.edu = 0
	case e < -0.3:
		b.edu = 1
	case e < 0.6:
		b.edu = 2
	case e < 1.7:
		b.edu = 3
	default:
		b.edu = 4
	}
	switch u := r.Float64(); {
	case age < 25 && u < 0.8, age >= 25 && u < 0.25:
		b.marital = 0
	case u < 0.9:
		b.marital = 1
	case u < 0.98:
		b.marital = 2
	default:
		b.marital = 3
	}
	tier := w.pl.provs[b.prov].cities[b.city].tier
	li := math.Log(6000) + 0.22*float64(b.edu-2) + 0.12*float64(2-tier) +
		0.2*math.Min(float64(age-20), 15)/15 - 0.15*h + 0.45*r.NormFloat64()
	inc := math.Exp(li)
	inc = math.Min(math.Max(inc, 1500), 200000)
	b.incomeFen = int64(math.Round(inc/100)) * 100 * 100
	if r.Float64() < 0.02 {
		b.incomeFen = 0
	}
	emp := r.ExpFloat64() * (2.5 + 0.12*float64(age-20)) * math.Exp(-0.2*h)
	emp = math.Min(emp, float64(age-17))
	b.empTenths = int(math.Round(emp*2)) * 5
	if r.Float64() < 0.03 {
		b.empTenths = -1
	}
	pc := [4]float64{0.45, 0.2, 0.1, 0.25}
	pc[chPartner] *= math.Exp(0.3 * h)
	pc[chH5] *= math.Exp(0.15 * h)
	b.channel = pickWeighted(r, pc[:])
	b.device = g.device(0.01)
	b.ip = g.ipAddr(0.02)
	return b
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func pickWeighted(r *rand.Rand, w []float64) int {
	t := 0.0
	for _, x := range w {
		t += x
	}
	u := r.Float64() * t
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// device returns a device id, reusing a recent borrower's with probability
// share (family members, shared phones).
func (g *chunkGen) device(share float64) []byte {
	if len(g.recentDevices) > 0 && g.r.Float64() < share {
		return g.recentDevices[g.r.IntN(len(g.recentDevices))]
	}
	d := appendHex([]byte{'d'}, g.r.Uint64(), 15)
	g.remember(&g.recentDevices, d)
	return d
}

// ipAddr returns an IP, reusing a recent one with probability share (public wifi).
func (g *chunkGen) ipAddr(share float64) []byte {
	if len(g.recentIPs) > 0 && g.r.Float64() < share {
		return g.recentIPs[g.r.IntN(len(g.recentIPs))]
	}
	ip := appendIP(nil, g.r.Uint32())
	g.remember(&g.recentIPs, ip)
	return ip
}

func (g *chunkGen) remember(list *[][]byte, v []byte) {
	const keep = 64
	if len(*list) < keep {
		*list = append(*list, v)
		return
	}
	(*list)[g.r.IntN(keep)] = v
}

// backgroundInquiries adds the borrower's credit-seeking elsewhere: a base
// rate that rises with risk and multi-lending propensity, a burst in the
// month before each application, and a lower rate after.
func (g *chunkGen) backgroundInquiries(b *borrower, appDays []int) {
	r, w := g.r, g.w
	rate := math.Exp(-4.1 + 0.45*b.h + b.ml)
	first := appDays[0]
	g.addInquiries(b, first-200, first-30, rate, false)
	for i, d := range appDays {
		burst := math.Exp(-0.7 + 0.55*b.h + b.ml)
		n := poisson(r, burst)
		for range n {
			g.inq = append(g.inq, inquiry{d - 1 - r.IntN(30), g.instType(b.h), rsApproval})
		}
		if i == 0 {
			g.addInquiries(b, d-30, d, rate, false)
		}
		// Our own inquiry at application.
		g.inq = append(g.inq, inquiry{d, instCF, rsApproval})
	}
	g.addInquiries(b, first+1, w.endDay+1, rate*0.3, true)
}

// addInquiries adds Poisson(rate x days) inquiries uniformly in [from, to).
func (g *chunkGen) addInquiries(b *borrower, from, to int, rate float64, after bool) {
	if to <= from {
		return
	}
	n := poisson(g.r, rate*float64(to-from))
	for range n {
		rs := uint8(rsApproval)
		if u := g.r.Float64(); u < 0.04 {
			rs = rsGuarantee
		} else if u < 0.12 && after {
			rs = rsPostLoan
		}
		g.inq = append(g.inq, inquiry{from + g.r.IntN(to-from), g.instType(b.h), rs})
	}
}

// instType draws the inquiring institution: riskier borrowers go more to
// microloan companies and the remaining P2P platforms.
func (g *chunkGen) instType(h float64) uint8 {
	s := math.Exp(0.5 * h)
	return uint8(pickWeighted(g.r, []float64{0.45 / s, 0.3, 0.08 * s, 0.17 * s}))
}

func (g *chunkGen) bureauReport(b *borrower, day int) report {
	r := g.r
	rep := report{day: day}
	rep.open = poisson(r, 1+3*sigmoid(b.h+b.ml))
	rep.overdue = min(poisson(r, math.Exp(-2.4+0.9*b.h)), 9)
	rep.overdue = min(rep.overdue, rep.open+1)
	switch {
	case rep.overdue > 0:
		rep.worst = min(7, rep.overdue+poisson(r, math.Exp(-0.7+0.5*b.h)))
	case r.Float64() < sigmoid(-2.5+b.h):
		rep.worst = 1
	}
	if rep.open > 0 {
		inc := 6000.0
		if b.incomeFen > 0 {
			inc = float64(b.incomeFen) / 100
		}
		per := math.Exp(math.Log(3*inc) + 0.8*r.NormFloat64())
		rep.outstandingFen = int64(math.Round(per*float64(rep.open))) * 100
	}
	return rep
}

// countInquiries fills the application's multi-lending counts from the
// inquiries strictly before the application day.
func (a *application) countInquiries(inq []inquiry) {
	for _, q := range inq {
		lag := a.day - q.day
		if lag <= 0 || lag > 180 {
			continue
		}
		a.n180++
		if lag <= 90 {
			a.n90++
			if q.inst == instP2P || q.inst == instMicro {
				a.nonbank90++
			}
		}
		if lag <= 30 {
			a.n30++
		}
		if lag <= 7 {
			a.n7++
		}
	}
}

// riskLogit is the observable part of the true default logit: monotone in
// each attribute, with a few non-linear shapes (age, term).
func (g *chunkGen) riskLogit(b *borrower, a *application) float64 {
	return g.w.intercept + g.w.scale*g.riskScore(b, a)
}

// riskScore is the sum of the attribute effects of riskLogit, before scaling.
func (g *chunkGen) riskScore(b *borrower, a *application) float64 {
	z := 0.0
	switch {
	case a.age < 22:
		z += 0.55
	case a.age < 25:
		z += 0.35
	case a.age < 30:
		z += 0.12
	case a.age >= 50:
		z += 0.2
	}
	z += [5]float64{0.45, 0.25, 0, -0.3, -0.55}[b.edu]
	inc := 5000.0
	if b.incomeFen > 0 {
		inc = float64(b.incomeFen) / 100
	} else {
		z += 0.2
	}
	z -= 0.5 * math.Max(-1.5, math.Min(1.8, math.Log(inc/6000)))
	switch {
	case b.empTenths < 0:
		z += 0.15
	case b.empTenths < 10:
		z += 0.35
	case b.empTenths < 30:
		z += 0.12
	case b.empTenths >= 100:
		z -= 0.2
	}
	z += [5]float64{0, -0.1, 0, 0.08, 0.18}[g.w.pl.provs[b.prov].cities[b.city].tier]
	z += [4]float64{0, 0.18, -0.25, 0.35}[b.channel]
	z += 0.3 * math.Log1p(float64(a.amountFen)/100/inc/3)
	switch a.term {
	case 3:
		z -= 0.2
	case 6:
		z -= 0.1
	case 24:
		z += 0.1
	case 36:
		z += 0.2
	}
	switch a.product {
	case prodCar:
		z -= 0.35
	case prodHouse:
		z -= 0.7
	}
	if a.collFen > 0 && float64(a.amountFen)/float64(a.collFen) > 0.9 {
		z += 0.3
	}
	z += 0.35*math.Log1p(float64(a.n7)) + 0.25*math.Log1p(float64(a.n30)) +
		0.2*math.Log1p(float64(a.n90)) + 0.1*math.Log1p(float64(a.n180)) + 0.25*math.Log1p(float64(a.nonbank90))
	z += 0.4*float64(min(a.rep.overdue, 4)) + 0.15*float64(a.rep.worst) + 0.04*float64(min(a.rep.open, 15))
	z += 0.1 * math.Log1p(float64(a.rep.outstandingFen)/100/inc/12)
	z += [4]float64{0, -0.15, 0.15, 0.05}[b.marital]
	if b.male {
		z += 0.1
	}
	return z
}

// ageOn returns whole years between birth and day.
func ageOn(birth, day int) int {
	by, bm, bd := civil.Date(birth)
	y, m, d := civil.Date(day)
	a := y - by
	if m < bm || (m == bm && d < bd) {
		a--
	}
	return a
}

// newApplication draws what the borrower asks for on day.
func (g *chunkGen) newApplication(b *borrower, day int, fraud bool) application {
	r := g.r
	g.appNext++
	a := application{num: int64(g.chunk)*idStride + g.appNext, day: day}
	a.sec = int64(day)*secondsPerDay + daySec(r, 7, 24)
	a.age = ageOn(b.birthDay, day)
	inc := 6000.0
	if b.incomeFen > 0 {
		inc = float64(b.incomeFen) / 100
	}
	if fraud {
		a.product = prodCredit
	} else {
		a.product = pickWeighted(r, []float64{0.82, 0.11, 0.07})
	}
	switch a.product {
	case prodCredit:
		amt := math.Exp(math.Log(2.5*inc) + 0.7*r.NormFloat64())
		amt = math.Min(math.Max(amt, 1000), 200000)
		a.amountFen = int64(math.Round(amt/100)) * 100 * 100
		a.term = [5]int{3, 6, 12, 24, 36}[pickWeighted(r, []float64{0.1, 0.25, 0.4, 0.17, 0.08})]
	case prodCar:
		amt := math.Exp(math.Log(100000) + 0.45*r.NormFloat64())
		amt = math.Min(math.Max(amt, 30000), 300000)
		a.amountFen = int64(math.Round(amt/1000)) * 1000 * 100
		a.term = [3]int{12, 24, 36}[pickWeighted(r, []float64{0.3, 0.4, 0.3})]
		a.collType = 1
	default:
		amt := math.Exp(math.Log(350000) + 0.5*r.NormFloat64())
		amt = math.Min(math.Max(amt, 100000), 1500000)
		a.amountFen = int64(math.Round(amt/10000)) * 10000 * 100
		a.term = [3]int{12, 24, 36}[pickWeighted(r, []float64{0.4, 0.35, 0.25})]
		a.collType = 2
	}
	if a.collType > 0 {
		var ltv float64
		if r.Float64() < 0.05 {
			ltv = 1 + 0.3*r.Float64()
		} else if a.collType == 1 {
			ltv = 0.3 + 0.6*r.Float64()
		} else {
			ltv = 0.3 + 0.5*r.Float64()
		}
		a.collFen = int64(math.Round(float64(a.amountFen)/100/ltv/100)) * 100 * 100
	}
	return a
}

// borrower generates one ordinary borrower with one to three applications.
func (g *chunkGen) borrower() {
	r, w := g.r, g.w
	h := r.NormFloat64()
	nApps := 1 + pickWeighted(r, []float64{0.84, 0.12, 0.04})
	days := make([]int, 0, 3)
	d := g.pickApplyDay()
	for i := 0; i < nApps && d <= w.lastIssueDay; i++ {
		days = append(days, d)
		d += 60 + r.IntN(300)
	}
	b := g.newBorrower(h, days[0])
	g.inq = g.inq[:0]
	g.reps = g.reps[:0]
	g.backgroundInquiries(b, days)
	g.sortInquiries()
	nInq := len(g.inq) // inquiries up to here are known before any loan starts
	for i, day := range days {
		if g.loanNext >= g.loanEnd {
			break
		}
		a := g.newApplication(b, day, false)
		if i > 0 && r.Float64() < 0.2 {
			b.device = g.device(0) // a new phone
		}
		// The lender pulls the credit report while pre-screening, one to
		// three days before the application is filed, so the A-card (which
		// sees only what is dated before the apply date) knows it.
		a.rep = g.bureauReport(b, day-1-r.IntN(3))
		if len(g.reps) == 0 || g.reps[len(g.reps)-1].day != a.rep.day {
			g.reps = append(g.reps, a.rep)
		}
		a.countInquiries(g.inq[:nInq])
		a.zObs = g.riskLogit(b, &a)
		approved := a.zObs+0.6*r.NormFloat64() < w.threshold && a.age >= 20 && a.age <= 55 && a.rep.overdue < 5
		g.writeApplication(b, &a, approved)
		if approved {
			pd := sigmoid(a.zObs + w.macro(day) + w.sigma*r.NormFloat64())
			g.loan(b, &a, pd, -1)
		}
	}
	if r.Float64() < 0.1 {
		last := days[len(days)-1]
		if later := last + 30 + r.IntN(400); later <= w.endDay {
			g.reps = append(g.reps, g.bureauReport(b, later))
		}
	}
	g.flushBureau(b)
}

// fraudRing generates a group of borrowers that share devices, phones and
// an IP, apply within days of each other, and mostly never pay.
func (g *chunkGen) fraudRing() {
	r, w := g.r, g.w
	g.ringNext++
	ring := g.chunk*idStrideRing + g.ringNext
	members := 3 + r.IntN(6)
	devices := [][]byte{appendHex([]byte{'d'}, r.Uint64(), 15), appendHex([]byte{'d'}, r.Uint64(), 15)}
	phones := [][]byte{appendPhone(nil, r), appendPhone(nil, r), appendPhone(nil, r)}
	ip := appendIP(nil, r.Uint32())
	d0 := g.pickApplyDay()
	for range members {
		if g.loanNext >= g.loanEnd {
			return
		}
		day := min(d0+r.IntN(5), w.lastIssueDay)
		b := g.newBorrower(0.3+0.6*r.NormFloat64(), day)
		b.ring = ring
		b.device = devices[r.IntN(2)]
		b.phone = phones[r.IntN(3)]
		b.ip = ip
		b.channel = []int{chH5, chPartner}[r.IntN(2)]
		g.inq = g.inq[:0]
		g.reps = g.reps[:0]
		g.backgroundInquiries(b, []int{day})
		// Velocity: the ring applies everywhere at once.
		for range 2 + poisson(r, 3) {
			g.inq = append(g.inq, inquiry{day - 1 - r.IntN(7), uint8([]int{instCF, instMicro, instP2P}[r.IntN(3)]), rsApproval})
		}
		g.sortInquiries()
		nInq := len(g.inq)
		a := g.newApplication(b, day, true)
		a.rep = g.bureauReport(b, day-1-r.IntN(3))
		g.reps = append(g.reps, a.rep)
		a.countInquiries(g.inq[:nInq])
		a.zObs = g.riskLogit(b, &a)
		approved := a.age >= 20 && a.age <= 55 && r.Float64() < 0.7
		g.writeApplication(b, &a, approved)
		if approved {
			g.loan(b, &a, 0.85, ring)
		}
		g.flushBureau(b)
	}
}

func (g *chunkGen) sortInquiries() {
	slices.SortFunc(g.inq, func(x, y inquiry) int {
		if x.day != y.day {
			return x.day - y.day
		}
		if x.inst != y.inst {
			return int(x.inst) - int(y.inst)
		}
		return int(x.rsn) - int(y.rsn)
	})
}

// flushBureau writes the borrower's inquiries (sorted, identical ones
// merged, within the window's horizon) and bureau reports.
func (g *chunkGen) flushBureau(b *borrower) {
	w := g.w
	g.sortInquiries()
	t := &g.out.tables[tInquiries]
	var prev inquiry
	for i, q := range g.inq {
		if (i > 0 && q == prev) || q.day > w.endDay || q.day < w.startDay-400 {
			prev = q
			continue
		}
		prev = q
		t.id('B', b.num, 10)
		t.date(q.day)
		t.str(instNames[q.inst])
		t.str(reasonNames[q.rsn])
		t.done(true)
	}
	t = &g.out.tables[tReports]
	for _, rep := range g.reps {
		t.id('B', b.num, 10)
		t.date(rep.day)
		t.int(rep.open)
		t.fen(rep.outstandingFen)
		t.int(rep.overdue)
		t.str(rep.statusCode())
		t.done(true)
	}
}

func (g *chunkGen) writeApplication(b *borrower, a *application, approved bool) {
	w := g.w
	t := &g.out.tables[tApplications]
	t.id('A', a.num, 10)
	t.id('B', b.num, 10)
	t.time(a.sec)
	t.str(productNames[a.product])
	t.str(channelNames[b.channel])
	t.fen(a.amountFen)
	t.int(a.term)
	t.str(b.idNumber)
	t.bytes(b.name)
	t.bytes(b.phone)
	switch b.declGender {
	case 0:
		t.str("male")
	case 1:
		t.str("female")
	default:
		t.empty()
	}
	t.str(educationNames[b.edu])
	t.str(maritalNames[b.marital])
	if b.incomeFen > 0 {
		t.fen(b.incomeFen)
	} else {
		t.empty()
	}
	if b.empTenths >= 0 {
		t.buf = appendUint(t.buf, uint64(b.empTenths/10))
		if b.empTenths%10 != 0 {
			t.buf = append(t.buf, '.', byte('0'+b.empTenths%10))
		}
		t.next()
	} else {
		t.empty()
	}
	t.str(w.pl.nameCity[b.prov][b.city])
	t.bytes(b.device)
	t.bytes(b.ip)
	if approved {
		t.str("approved")
	} else {
		t.str("rejected")
	}
	t.done(!approved)
}
