package gen

import (
	"bytes"
	"math/rand/v2"
	"slices"

	"qiandun/data/schema"
)

// Defects dirty mode can inject. Each affected row gets exactly one.
const (
	dBadDate = iota
	dBadAmount
	dBadEnum
	dNegative
	dMissing
	dMalformed
	dDuplicate
	dDupKey
	dOrphan
	dDateOrder
	nThousands
	nDateForm
	nChinese
	nDefects
)

// defectKey is the reason (or normalisation) name each defect is recorded
// under in dirty.json; ingestion reports the same strings.
var defectKey = [nDefects]string{
	schema.ReasonBadDate, schema.ReasonBadAmount, schema.ReasonBadEnum, schema.ReasonNegative,
	schema.ReasonMissing, schema.ReasonMalformed, schema.ReasonDuplicate, schema.ReasonDuplicateKey,
	schema.ReasonOrphan, schema.ReasonDateOrder,
	schema.NormThousands, schema.NormDateForm, schema.NormChinese,
}

func isNormalisation(d int) bool { return d >= nThousands }

// tableSpec is what the injector knows about a table's columns.
type tableSpec struct {
	name      string
	n         int
	dateCols  []int // schema.Date
	timeCols  []int // schema.Timestamp
	moneyCols []int
	negCols   []int // money that must not be negative (negative_amount applies)
	enumCols  []int // enums with Chinese aliases
	required  []int // non-nullable, not an identifier or PII
	keyCols   []int
	dupKeyCol int // non-key column changed for a duplicate_key copy, -1 if the table has no key
	loanCol   int // loan_id referencing loans, -1 if none
	txnCol    int // repayments' txn_id, -1 otherwise
	invCol    int // investments' investment_id, -1 otherwise (rewritten for an orphan copy)
	defects   []int
	chinese   map[string]string // English contract value -> Chinese word
}

func newTableSpec(t schema.Table) *tableSpec {
	s := &tableSpec{name: t.Name, n: len(t.Columns), dupKeyCol: -1, loanCol: -1, txnCol: -1, invCol: -1}
	inv := map[string]string{}
	for zh, en := range schema.ChineseAliases() {
		if old, ok := inv[en]; !ok || zh < old {
			inv[en] = zh
		}
	}
	s.chinese = inv
	for i, c := range t.Columns {
		isKey := slices.Contains(t.Key, c.Name)
		if isKey {
			s.keyCols = append(s.keyCols, i)
		}
		switch c.Kind {
		case schema.Date:
			s.dateCols = append(s.dateCols, i)
		case schema.Timestamp:
			s.timeCols = append(s.timeCols, i)
		case schema.Money:
			s.moneyCols = append(s.moneyCols, i)
			if c.NonNeg {
				s.negCols = append(s.negCols, i)
			}
		case schema.Enum:
			s.enumCols = append(s.enumCols, i)
		}
		if !c.Nullable && c.Kind != schema.ID && c.Kind != schema.PII {
			s.required = append(s.required, i)
		}
		if !isKey && s.dupKeyCol < 0 && len(t.Key) > 0 && (c.Kind == schema.Money || c.Kind == schema.Int) {
			s.dupKeyCol = i
		}
		if c.Name == "loan_id" && t.Name != "loans" && refersToLoans(t) {
			s.loanCol = i
		}
		if c.Name == "investment_id" {
			s.invCol = i
		}
		if c.Name == "txn_id" {
			s.txnCol = i
		}
	}
	ds := []int{dMalformed, dDuplicate}
	if len(s.dateCols)+len(s.timeCols) > 0 {
		ds = append(ds, dBadDate)
	}
	if len(s.moneyCols) > 0 {
		ds = append(ds, dBadAmount, dNegative, nThousands)
	}
	if len(s.enumCols) > 0 {
		ds = append(ds, dBadEnum, nChinese)
	}
	if len(s.required) > 0 {
		ds = append(ds, dMissing)
	}
	if s.dupKeyCol >= 0 {
		ds = append(ds, dDupKey)
	}
	if s.loanCol >= 0 {
		ds = append(ds, dOrphan)
	}
	if s.txnCol >= 0 {
		ds = append(ds, dDateOrder)
	}
	if len(s.dateCols) > 0 {
		ds = append(ds, nDateForm)
	}
	s.defects = ds
	return s
}

// refersToLoans reports whether t's loan_id must match a loan (an orphan
// is quarantined); custody lines carry a loan_id ingestion does not check.
func refersToLoans(t schema.Table) bool {
	for _, r := range t.Parents {
		if r.Table == "loans" && slices.Contains(r.Columns, "loan_id") {
			return true
		}
	}
	return false
}

// injector corrupts a share of the rows of one table of one chunk and
// counts what it did.
type injector struct {
	r      *rand.Rand
	rate   float64
	spec   *tableSpec
	counts [nDefects]int
	// orphans numbers the unknown loans of this chunk's orphan rows.
	orphans    *int
	orphanBase int64
	fields     [][]byte
	scratch    []byte
}

var (
	badDates   = []string{"2021-13-45", "not a date"}
	badTimes   = []string{"2021-13-45 10:20:30", "not a date"}
	badAmounts = []string{"12.3.4", "abc"}
	badEnums   = []string{"unknown", "未知", "待定"}
)

// process is called with a finished, eligible row at t.buf[t.start:]
// (ending in '\n'). It may replace it by a defective row, or add a
// defective copy after it, and keeps t.lines exact.
func (in *injector) process(t *tableBuf) {
	if in.r.Float64() >= in.rate {
		t.lines++
		return
	}
	// Copy the fields out: the row is rewritten in place.
	in.scratch = append(in.scratch[:0], t.buf[t.start:len(t.buf)-1]...)
	in.fields = in.fields[:0]
	from := 0
	for _, e := range t.ends {
		in.fields = append(in.fields, in.scratch[from:e-t.start])
		from = e - t.start + 1
	}
	t.buf = t.buf[:t.start] // the row is re-emitted from the copy
	s := in.spec
	for range 8 {
		d := s.defects[in.r.IntN(len(s.defects))]
		if in.apply(t, d) {
			in.counts[d]++
			return
		}
	}
	in.emit(t, in.fields) // no defect applies to this row: leave it clean
}

// apply tries defect d on the current row; false if it does not apply.
func (in *injector) apply(t *tableBuf, d int) bool {
	r, s, f := in.r, in.spec, in.fields
	pick := func(cols []int) int { return cols[r.IntN(len(cols))] }
	switch d {
	case dBadDate:
		cols := append(append([]int(nil), s.dateCols...), s.timeCols...)
		c := pick(cols)
		if slices.Contains(s.timeCols, c) {
			f[c] = []byte(badTimes[r.IntN(2)])
		} else {
			f[c] = []byte(badDates[r.IntN(2)])
		}
	case dBadAmount:
		f[pick(s.moneyCols)] = []byte(badAmounts[r.IntN(2)])
	case dNegative:
		c := pick(s.negCols)
		if fenOf(f[c]) <= 0 {
			return false
		}
		f[c] = append([]byte{'-'}, f[c]...)
	case dBadEnum:
		f[pick(s.enumCols)] = []byte(badEnums[r.IntN(len(badEnums))])
	case dMissing:
		f[pick(s.required)] = nil
	case dMalformed:
		in.malformed(t)
		return true
	case dDuplicate:
		in.emit(t, f)
		in.emit(t, f)
		return true
	case dDupKey:
		c := s.dupKeyCol
		if len(f[c]) == 0 {
			return false
		}
		in.emit(t, f)
		v := f[c]
		if bytes.IndexByte(v, '.') >= 0 {
			f[c] = appendFen(nil, fenOf(v)+100)
		} else {
			f[c] = appendUint(nil, uint64(intOf(v)+1))
		}
		in.emit(t, f)
		return true
	case dOrphan:
		in.emit(t, f)
		*in.orphans++
		num := in.orphanBase + int64(*in.orphans)
		f[s.loanCol] = appendPadded([]byte{'L'}, uint64(num), 9)
		if s.txnCol >= 0 {
			f[s.txnCol] = appendPadded(appendPadded([]byte{'T'}, uint64(num), 9), 1, 3)
		}
		if s.invCol >= 0 {
			f[s.invCol] = appendPadded(appendPadded([]byte{'I'}, uint64(num), 9), 1, 2)
		}
		in.emit(t, f)
		return true
	case dDateOrder:
		c := s.timeCols[0]
		sec := int64(t.issueDay-1-r.IntN(30))*secondsPerDay + daySec(r, 8, 22)
		f[c] = appendTime(nil, sec)
	case nThousands:
		var cols []int
		for _, c := range s.moneyCols {
			if fenOf(f[c]) >= 100000 {
				cols = append(cols, c)
			}
		}
		if len(cols) == 0 {
			return false
		}
		c := pick(cols)
		v := append([]byte{'"'}, appendFenThousands(nil, fenOf(f[c]))...)
		f[c] = append(v, '"')
	case nDateForm:
		c := pick(s.dateCols)
		y, m, dd, ok := parseISODate(f[c])
		if !ok {
			return false
		}
		if r.IntN(2) == 0 {
			v := appendUint(nil, uint64(y))
			v = append(v, '/')
			v = appendUint(v, uint64(m))
			v = append(v, '/')
			f[c] = appendUint(v, uint64(dd))
		} else {
			f[c] = appendPadded(nil, uint64(y*10000+m*100+dd), 8)
		}
	case nChinese:
		var cols []int
		for _, c := range s.enumCols {
			if _, ok := s.chinese[string(f[c])]; ok {
				cols = append(cols, c)
			}
		}
		if len(cols) == 0 {
			return false
		}
		c := pick(cols)
		f[c] = []byte(s.chinese[string(f[c])])
	default:
		return false
	}
	in.emit(t, f)
	return true
}

// emit appends fields as a row to t.buf and counts the line.
func (in *injector) emit(t *tableBuf, f [][]byte) {
	for i, v := range f {
		if i > 0 {
			t.buf = append(t.buf, ',')
		}
		t.buf = append(t.buf, v...)
	}
	t.buf = append(t.buf, '\n')
	t.lines++
}

// malformed writes a line that is not a row of the table: truncated,
// with an extra column, or with a column missing. The clean rows carry
// no quotes, so no truncation can leave an open quote.
func (in *injector) malformed(t *tableBuf) {
	r, f := in.r, in.fields
	n := len(f)
	var g [][]byte
	switch r.IntN(3) {
	case 0: // truncated
		k := 1 + r.IntN(n-2)
		g = append(g, f[:k]...)
		if next := f[k]; len(next) > 1 && isASCII(next) && r.IntN(2) == 0 {
			g = append(g, next[:1+r.IntN(len(next)-1)])
		}
	case 1: // extra column
		g = append(append(g, f...), []byte("extra"))
	default: // a column missing
		k := r.IntN(n)
		g = append(append(g, f[:k]...), f[k+1:]...)
	}
	in.emit(t, g)
}
