//go:build duckdb_arrow

package beamfeatures

import (
	"hash/fnv"
)

// loanFn turns one loan's grouped rows into its snapshot rows (one per
// as-of date where the loan is in the spine), keyed by its application.
type loanFn struct {
	AsOf []int32
}

func (fn *loanFn) ProcessElement(id string, loans func(*Loan) bool, insts func(*Inst) bool, pays func(*Pay) bool,
	events func(*Event) bool, emit func(string, FeatRow)) {
	var l Loan
	if !loans(&l) {
		return // rows of a loan not in loans (ingest quarantines those)
	}
	var is []Inst
	var in Inst
	for insts(&in) {
		is = append(is, in)
	}
	var ps []Pay
	var p Pay
	for pays(&p) {
		ps = append(ps, p)
	}
	var es []Event
	var e Event
	for events(&e) {
		es = append(es, e)
	}
	for _, r := range Snapshots(l, is, ps, es, fn.AsOf) {
		emit(r.App, r)
	}
}

// scoreFn is bcard_origination.sql: the application's A-card score (any
// one of its scores), keyed on to the borrower.
func scoreFn(app string, rows func(*FeatRow) bool, scores func(*Score) bool, emit func(string, FeatRow)) {
	var s Score
	has := scores(&s)
	var r FeatRow
	for rows(&r) {
		r.Score, r.HasScore = s.Score, has
		emit(r.Borrower, r)
	}
}

// bureauFn adds the borrower's inquiries to each of its loans' rows and
// keys them by output file: the as-of date's index times Shards plus the
// loan's hash shard.
type bureauFn struct {
	AsOf   []int32
	Shards int
}

func (fn *bureauFn) ProcessElement(_ string, rows func(*FeatRow) bool, inqs func(*Inquiry) bool, emit func(int, FeatRow)) {
	var qs []Inquiry
	var q Inquiry
	for inqs(&q) {
		qs = append(qs, q)
	}
	var r FeatRow
	for rows(&r) {
		WithBureau(&r, qs)
		h := fnv.New32a()
		h.Write([]byte(r.Loan))
		emit(fn.dateIndex(r.AsOf)*fn.Shards+int(h.Sum32()%uint32(fn.Shards)), r)
	}
}

func (fn *bureauFn) dateIndex(d int32) int {
	for k, x := range fn.AsOf {
		if x == d {
			return k
		}
	}
	panic("beamfeatures: a row of an as-of date not asked for")
}
