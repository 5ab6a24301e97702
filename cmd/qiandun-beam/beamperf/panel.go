//go:build duckdb_arrow

package beamperf

import (
	"hash/fnv"
	"time"

	"qiandun/data/perf/panelref"
)

// RowRec is one panel row as it crosses the shuffle (dates in days since
// 1970-01-01, money in fen).
type RowRec struct {
	Loan                            string
	MonthEnd                        int32
	MOB                             int64
	Status                          string
	DPD, Worst                      int64
	Bucket                          string
	Outstanding, OverdueP, OverdueI int64
	DueInMonth, PaidInMonth         int64
	Settled, WrittenOff             bool
}

func date(d int32) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

func days(t time.Time) int32 { return int32(t.Unix() / 86400) }

// panelFn turns one loan's grouped rows into its panel rows
// (panelref.Panel), keyed by the shard of the loan.
type panelFn struct {
	AsOf   int32 // days
	Shards int
}

func (fn *panelFn) ProcessElement(id string, loans func(*LoanRec) bool, insts func(*InstRec) bool, pays func(*PayRec) bool,
	last int32, emit func(int, RowRec)) {
	var l LoanRec
	if !loans(&l) {
		return // schedule or payments of a loan not in loans (ingest quarantines those)
	}
	var ri []panelref.Inst
	var in InstRec
	for insts(&in) {
		ri = append(ri, panelref.Inst{No: int(in.No), Due: date(in.Due), Principal: in.Principal, Interest: in.Interest})
	}
	var rp []panelref.Pay
	var p PayRec
	for pays(&p) {
		rp = append(rp, panelref.Pay{No: int(p.No), Paid: date(p.Paid), Principal: p.Principal, Interest: p.Interest, Penalty: p.Penalty})
	}
	loan := panelref.Loan{ID: id, Issue: date(l.Issue), Principal: l.Principal, Status: l.Status}
	rows := panelref.Panel(loan, ri, rp, date(fn.AsOf), panelref.DataEnd(date(last)))
	if len(rows) == 0 {
		return
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	shard := int(h.Sum32() % uint32(fn.Shards))
	for _, r := range rows {
		emit(shard, RowRec{Loan: r.Loan, MonthEnd: days(r.MonthEnd), MOB: int64(r.MOB), Status: r.Status, DPD: int64(r.DPD), Worst: int64(r.Worst),
			Bucket: r.Bucket, Outstanding: r.Outstanding, OverdueP: r.OverdueP, OverdueI: r.OverdueI,
			DueInMonth: r.DueInMonth, PaidInMonth: r.PaidInMonth, Settled: r.Settled, WrittenOff: r.WrittenOff})
	}
}

// maxFn is the latest of the data's dates.
func maxFn(a, b int32) int32 { return max(a, b) }
