package gen

// Table indices in schema.Tables() order.
const (
	tApplications = iota
	tLoans
	tSchedule
	tRepayments
	tInquiries
	tReports
	tEvents
	tInvestments
	tCustody
	nTables
)

// tableBuf accumulates the CSV rows of one table for one chunk. Fields are
// appended straight into buf; the offsets of their ends are kept so that
// dirty mode can rewrite a finished row.
type tableBuf struct {
	table int
	buf   []byte
	start int   // offset of the current row in buf
	ends  []int // end offsets of the current row's fields
	lines int   // physical data lines written
	inj   *injector
	// Context the injector needs for some defects.
	issueDay int // issue day of the loan whose rows are being written
}

func (t *tableBuf) next() {
	t.ends = append(t.ends, len(t.buf))
	t.buf = append(t.buf, ',')
}

func (t *tableBuf) str(s string) {
	t.buf = append(t.buf, s...)
	t.next()
}

func (t *tableBuf) bytes(b []byte) {
	t.buf = append(t.buf, b...)
	t.next()
}

func (t *tableBuf) empty() { t.next() }

func (t *tableBuf) int(v int) {
	t.buf = appendUint(t.buf, uint64(v))
	t.next()
}

func (t *tableBuf) fen(v int64) {
	t.buf = appendFen(t.buf, v)
	t.next()
}

func (t *tableBuf) micro(v int64) {
	t.buf = appendMicro(t.buf, v)
	t.next()
}

func (t *tableBuf) date(day int) {
	t.buf = appendDate(t.buf, day)
	t.next()
}

func (t *tableBuf) time(sec int64) {
	t.buf = appendTime(t.buf, sec)
	t.next()
}

// id appends a prefix followed by n zero-padded to width digits.
func (t *tableBuf) id(prefix byte, n int64, width int) {
	t.buf = append(t.buf, prefix)
	t.buf = appendPadded(t.buf, uint64(n), width)
	t.next()
}

// done ends the current row. eligible says whether dirty mode may corrupt
// it (rows whose rejection would cascade to children are not eligible).
func (t *tableBuf) done(eligible bool) {
	t.buf[len(t.buf)-1] = '\n'
	if t.inj != nil && eligible {
		t.inj.process(t)
	} else {
		t.lines++
	}
	t.start = len(t.buf)
	t.ends = t.ends[:0]
}
