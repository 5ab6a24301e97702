package gen

import (
	"math/rand/v2"
)

// Lost-contact repair ground truth (失联修复). A loan whose collection
// ends in lost contact (its last lost_contact / contact_repaired / paid
// event is lost_contact) leaves traces a repair can find in the lender's
// own data, and _truth/repair.csv says which of them would reach the
// borrower:
//
//   - new_phone (reaches): the borrower applies again after losing
//     contact, with a new phone (same name and ID number, rejected);
//   - linked_device (reaches): a relative applies on the borrower's device
//     after the loss, within a year of the borrower's application, with
//     their own phone;
//   - decoy_ip (does not reach): strangers apply from the borrower's IP
//     (public wifi) within days after the borrower's application.
//
// A fraud ring's lost members get none of these. These rows are drawn from a stream of their own and written at the end
// of each chunk with ids of their own range, so every other row of every
// table is byte-identical to a book generated without them; only
// applications.csv gains rows. They are never given a dirty-mode defect.
const (
	repairIDBase    = 50_000 // application and borrower numbers of repair rows within a chunk's stride
	repairNewPhone  = 0.40   // share of lost-contact loans whose borrower applies again with a new phone
	repairRelative  = 0.25   // ... whose device a relative applies on
	repairDecoys    = 0.70   // ... with strangers applying from their IP
	repairLinkDays  = 365    // a relative's application is within this many days of the borrower's
	repairDecoyDays = 25     // strangers apply within this many days after the borrower
)

// RepairTruthHeader is the header of _truth/repair.csv: one row per
// channel of a loan whose collection ended in lost contact (channel none,
// with empty application fields, when it has no channel).
const RepairTruthHeader = "loan_id,borrower_id,lost_at,channel,application_id,apply_time,reaches\n"

// lostCase is a loan whose collection ended in lost contact: the borrower
// as they applied for it, the application and the last lost_contact event.
type lostCase struct {
	loanNum int64
	b       borrower // a copy as of the application
	appDay  int
	lostSec int64
}

// repairChannels writes the repair rows of the chunk's lost-contact loans
// (applications and _truth/repair.csv rows). It draws only from its own
// stream, after the chunk's other rows are written.
func (g *chunkGen) repairChannels() {
	if len(g.lost) == 0 {
		return
	}
	w := g.w
	r := rand.New(rand.NewPCG(w.cfg.Seed^0x7265706169720000, uint64(g.chunk)))
	next := int64(0)
	newNum := func() int64 { next++; return int64(g.chunk)*idStride + repairIDBase + next }
	tb := g.out.repair
	for i := range g.lost {
		lc := &g.lost[i]
		if lc.b.ring >= 0 {
			// a fraud ring's member: nobody to reach
			tb = repairTruthRow(tb, lc, "none", 0, 0, false)
			continue
		}
		lostDay := int(lc.lostSec / secondsPerDay)
		wrote := false
		if r.Float64() < repairNewPhone {
			if day := lostDay + 7 + r.IntN(180); day <= w.endDay {
				b := lc.b
				b.phone = appendPhone(nil, r)
				if r.Float64() < 0.5 {
					b.device = appendHex([]byte{'d'}, r.Uint64(), 15)
				}
				b.ip = appendIP(nil, r.Uint32())
				tb = g.repairApp(tb, r, lc, &b, newNum(), day, "new_phone", true)
				wrote = true
			}
		}
		if r.Float64() < repairRelative {
			from, to := lostDay+3, min(lc.appDay+repairLinkDays-5, w.endDay)
			if to >= from {
				b := g.stranger(r, &lc.b, newNum(), lc.appDay)
				b.device = lc.b.device
				tb = g.repairApp(tb, r, lc, &b, b.num, from+r.IntN(to-from+1), "linked_device", true)
				wrote = true
			}
		}
		if r.Float64() < repairDecoys {
			for range 1 + r.IntN(4) {
				day := lc.appDay + 1 + r.IntN(repairDecoyDays)
				if day > w.endDay {
					continue
				}
				b := g.stranger(r, &lc.b, newNum(), lc.appDay)
				b.ip = lc.b.ip
				tb = g.repairApp(tb, r, lc, &b, b.num, day, "decoy_ip", false)
			}
		}
		if !wrote {
			tb = repairTruthRow(tb, lc, "none", 0, 0, false)
		}
	}
	g.out.repair = tb
}

// stranger returns another person of the borrower's birth province, 22
// to 52 years old around aroundDay: a new borrower number, ID number,
// name, phone, device and IP.
func (g *chunkGen) stranger(r *rand.Rand, like *borrower, num int64, aroundDay int) borrower {
	b := *like
	b.num, b.ring = num, -1
	b.male = r.Float64() < 0.5
	b.declGender = 1 - boolInt(b.male)
	b.birthDay = aroundDay - (22+r.IntN(30))*365 - r.IntN(300) // 22 to 52 around then
	cities := g.w.pl.provs[like.birthProv].cities
	b.idNumber = makeID(r, cities[r.IntN(len(cities))].code, b.birthDay, b.male, false)
	b.name = appendName(nil, r, b.male)
	b.phone = appendPhone(nil, r)
	b.device = appendHex([]byte{'d'}, r.Uint64(), 15)
	b.ip = appendIP(nil, r.Uint32())
	return b
}

// repairApp writes a rejected credit application of b on day (numbered
// appNum) and its truth row.
func (g *chunkGen) repairApp(tb []byte, r *rand.Rand, lc *lostCase, b *borrower, appNum int64, day int, channel string, reaches bool) []byte {
	a := application{num: appNum, day: day, product: prodCredit, term: 12}
	a.sec = int64(day)*secondsPerDay + daySec(r, 7, 24)
	a.amountFen = int64(5+r.IntN(50)) * 1000 * 100
	g.writeApplication(b, &a, false)
	return repairTruthRow(tb, lc, channel, appNum, a.sec, reaches)
}

func repairTruthRow(tb []byte, lc *lostCase, channel string, appNum, sec int64, reaches bool) []byte {
	tb = append(tb, 'L')
	tb = appendPadded(tb, uint64(lc.loanNum), 9)
	tb = append(tb, ',', 'B')
	tb = appendPadded(tb, uint64(lc.b.num), 10)
	tb = append(tb, ',')
	tb = appendTime(tb, lc.lostSec)
	tb = append(tb, ',')
	tb = append(tb, channel...)
	tb = append(tb, ',')
	if appNum > 0 {
		tb = append(tb, 'A')
		tb = appendPadded(tb, uint64(appNum), 10)
		tb = append(tb, ',')
		tb = appendTime(tb, sec)
	} else {
		tb = append(tb, ',')
	}
	tb = append(tb, ',', byte('0'+boolInt(reaches)), '\n')
	return tb
}
