package gen

import "qiandun/internal/civil"

import "math"

// Repayment methods, in schema.RepayMethods order.
const (
	EqualInstallment = iota // 等额本息: level payment
	EqualPrincipal          // 等额本金: level principal
	InterestFirst           // 先息后本: interest monthly, principal at the end
)

var repayMethodNames = [3]string{"equal_installment", "equal_principal", "interest_first"}

// Installment is one row of a repayment schedule; amounts are in fen.
type Installment struct {
	Due       int // day number
	Principal int64
	Interest  int64
}

// MonthlyInterest returns one month's interest in fen on outstanding fen at
// an annual rate given in millionths (183600 = 18.36%), rounded half up to
// the fen: outstanding x rate / 12.
func MonthlyInterest(outstanding, rateMicro int64) int64 {
	return (outstanding*rateMicro + 6_000_000) / 12_000_000
}

// Schedule returns the repayment schedule of a loan of principal fen at
// annual rate rateMicro (millionths) over term months by method, with due
// dates monthly from issueDay (clamped to month end). Principal due sums
// exactly to principal: the rounding residue is in the last installment.
// Interest is a month's interest on the principal outstanding before each
// installment.
func Schedule(method int, principal, rateMicro int64, term, issueDay int) []Installment {
	return appendSchedule(nil, method, principal, rateMicro, term, issueDay)
}

func appendSchedule(out []Installment, method int, principal, rateMicro int64, term, issueDay int) []Installment {
	y, m, d := civil.Date(issueDay)
	out = out[:0]
	outstanding := principal
	var level int64 // equal_installment payment in fen
	if method == EqualInstallment {
		r := float64(rateMicro) / 12e6
		if r == 0 {
			level = int64(math.Round(float64(principal) / float64(term)))
		} else {
			level = int64(math.Round(float64(principal) * r / (1 - math.Pow(1+r, -float64(term)))))
		}
	}
	for i := 1; i <= term; i++ {
		interest := MonthlyInterest(outstanding, rateMicro)
		var p int64
		switch {
		case i == term:
			p = outstanding
		case method == EqualInstallment:
			p = level - interest
		case method == EqualPrincipal:
			p = principal / int64(term)
		default:
			p = 0
		}
		if p < 0 {
			p = 0
		}
		if p > outstanding {
			p = outstanding
		}
		out = append(out, Installment{Due: addMonthsFrom(y, m, d, i), Principal: p, Interest: interest})
		outstanding -= p
	}
	return out
}

// settleAt truncates a schedule for early settlement at installment s
// (1-based): installment s becomes the last and carries all the principal
// still outstanding before it, with that month's interest.
func settleAt(sched []Installment, s int, principal, rateMicro int64) []Installment {
	var paid int64
	for i := 0; i < s-1; i++ {
		paid += sched[i].Principal
	}
	out := principal - paid
	sched[s-1].Principal = out
	sched[s-1].Interest = MonthlyInterest(out, rateMicro)
	return sched[:s]
}
