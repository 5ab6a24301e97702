package ingest

import (
	"bytes"
	"slices"

	"qiandun/data/schema"
)

// keyOrder watches, while a file is read, whether its rows already come
// in the table's sort order and where rows with equal keys sit, so that
// the stage can skip work that only reorders or searches (and a first
// load from one file in key order can take the direct path, direct.go):
//
//   - sorted: every row's SortBy values are no smaller than the previous
//     row's, so the file order is a valid lake order and the final sort
//     can be skipped;
//   - grouped: the rows are in order of the run columns (the longest
//     prefix of SortBy made of key columns; the first key column when
//     there is none), so rows with equal keys are neighbours; cands then
//     holds every row of a run of two or more equal run values, a superset
//     of the rows whose key repeats.
//
// It compares the raw text, which orders like the typed values only for
// values in canonical form (IDs as they are, YYYY-MM-DD dates,
// YYYY-MM-DD HH:MM:SS times, integers without sign or leading zeros). Any
// other value (empty, quoted, non-canonical, padded) in a watched column
// makes the file unknown (ok false), and the stage falls back to the full
// sort and duplicate search. A row that validation later rejects is
// harmless: the accepted rows of an ordered sequence are ordered, and the
// runs are computed over all rows. Each block of a file is watched on its
// own and the watchers are merged in file order (merge).
type keyOrder struct {
	sortCols, runCols []orderCol
	idx               []int         // all watched column positions, ascending
	kinds             []schema.Kind // their kinds
	ok                bool
	sorted, grouped   bool

	prev, cur  [][]byte // watched values of the previous and current row, by position in idx
	prevBuffer []byte   // holds prev's bytes (unless they point into a block being read)
	spare      []byte
	prevLine   int64
	have       bool
	inRun      bool
	cands      []int64 // lines of the rows in runs of equal run values

	// The first row (for merge): its watched values and line, whether it
	// is in a run with the row after it; the number of rows seen.
	first      [][]byte
	firstLine  int64
	firstInRun bool
	rows       int64
}

type orderCol struct {
	pos  int // position in the file's columns
	kind schema.Kind
	at   int // position in keyOrder.idx
}

// newKeyOrder returns the watcher of a file of table t with the given
// column order, or nil when the table's sort columns are not of a kind it
// can compare.
func newKeyOrder(t schema.Table, columns []string) *keyOrder {
	kinds := map[string]schema.Kind{}
	for _, c := range t.Columns {
		kinds[c.Name] = c.Kind
	}
	pos := map[string]int{}
	for i, c := range columns {
		pos[c] = i
	}
	runNames := runColumns(t)
	o := &keyOrder{ok: true, sorted: true, grouped: true}
	for _, n := range append(append([]string(nil), t.SortBy...), runNames...) {
		p, ok := pos[n]
		if !ok || !comparable(kinds[n]) {
			return nil
		}
		if !slices.Contains(o.idx, p) {
			o.idx = append(o.idx, p)
		}
	}
	slices.Sort(o.idx)
	mk := func(names []string) []orderCol {
		var out []orderCol
		for _, n := range names {
			at := slices.Index(o.idx, pos[n])
			out = append(out, orderCol{pos: pos[n], kind: kinds[n], at: at})
		}
		return out
	}
	o.sortCols, o.runCols = mk(t.SortBy), mk(runNames)
	o.kinds = make([]schema.Kind, len(o.idx))
	for _, c := range append(append([]orderCol(nil), o.sortCols...), o.runCols...) {
		o.kinds[c.at] = c.kind
	}
	o.prev = make([][]byte, len(o.idx))
	o.cur = make([][]byte, len(o.idx))
	return o
}

// keyColumns is the identity of a row of t: its key, or all its columns.
func keyColumns(t schema.Table) []string {
	if len(t.Key) == 0 {
		return t.Names()
	}
	return t.Key
}

// runColumns are the columns whose runs of equal values a keyOrder
// watches: the longest prefix of t.SortBy made of key columns, or the
// first key column when there is none.
func runColumns(t schema.Table) []string {
	key := keyColumns(t)
	var out []string
	for _, c := range t.SortBy {
		if !slices.Contains(key, c) {
			break
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		out = key[:1]
	}
	return out
}

func comparable(k schema.Kind) bool {
	switch k {
	case schema.ID, schema.Date, schema.Timestamp, schema.Int:
		return true
	}
	return false
}

// addFields watches one data row, already cut into its fields (as read, quotes
// removed); quoted says the line had a quote in it, stable that the
// fields point into the block (valid until detach), not into a buffer
// reused for the next row (a line decoded from GBK).
func (o *keyOrder) addFields(fields [][]byte, quoted bool, n int64, stable bool) {
	if o == nil || !o.ok {
		return
	}
	if quoted {
		o.ok = false
		return
	}
	for j, p := range o.idx {
		if p >= len(fields) || !canonical(o.kinds[j], fields[p]) {
			o.ok = false
			return
		}
		o.cur[j] = fields[p]
	}
	o.watch(n, stable)
}

// watch compares the current row's watched values (o.cur), on line n,
// with the previous row's, and keeps them as the previous row's.
// stable says the values stay valid until detach.
func (o *keyOrder) watch(n int64, stable bool) {
	if o.have {
		if o.sorted && compareCols(o.sortCols, o.prev, o.cur) > 0 {
			o.sorted = false
		}
		if o.grouped {
			switch c := compareCols(o.runCols, o.prev, o.cur); {
			case c > 0:
				o.grouped = false
				o.cands = nil
			case c == 0:
				if !o.inRun {
					o.cands = append(o.cands, o.prevLine)
					if o.rows == 1 {
						o.firstInRun = true
					}
				}
				o.cands = append(o.cands, n)
				o.inRun = true
			default:
				o.inRun = false
			}
		}
	}
	if !o.have {
		o.first = make([][]byte, len(o.cur))
		for i, v := range o.cur {
			o.first[i] = append([]byte(nil), v...)
		}
		o.firstLine = n
	}
	if stable {
		o.prev, o.cur = o.cur, o.prev
	} else {
		o.keep(o.cur) // they point into a reused line buffer
	}
	o.prevLine, o.have = n, true
	o.rows++
}

// keep makes vals (o.cur or o.prev) the previous row's values, copied
// into a buffer of the watcher's own.
func (o *keyOrder) keep(vals [][]byte) {
	buf := o.spare[:0]
	for _, v := range vals {
		buf = append(buf, v...)
	}
	o.spare, o.prevBuffer = o.prevBuffer, buf
	dst, other := o.prev, o.cur
	if len(vals) > 0 && &dst[0] == &vals[0] {
		dst, other = o.cur, o.prev
	}
	off := 0
	for i, v := range vals {
		dst[i] = buf[off : off+len(v)]
		off += len(v)
	}
	o.prev, o.cur = dst, other
}

// detach copies the previous row's values out of the buffer addFields'
// rows pointed into, which is about to be reused.
func (o *keyOrder) detach() {
	if o != nil && o.ok && o.have {
		o.keep(o.prev)
	}
}

// merge appends what watcher b saw of the rows that follow o's (the next
// block of the same file, watched separately) to o.
func (o *keyOrder) merge(b *keyOrder) {
	if o == nil || !o.ok {
		return
	}
	if b == nil || !b.ok {
		o.ok = false
		return
	}
	if !b.have {
		return
	}
	if !o.have {
		*o = *b
		return
	}
	if o.sorted && (!b.sorted || compareCols(o.sortCols, o.prev, b.first) > 0) {
		o.sorted = false
	}
	c := compareCols(o.runCols, o.prev, b.first)
	if o.grouped {
		switch {
		case !b.grouped || c > 0:
			o.grouped = false
			o.cands = nil
		case c == 0:
			if !o.inRun {
				o.cands = append(o.cands, o.prevLine)
			}
			if !b.firstInRun {
				o.cands = append(o.cands, b.firstLine)
			}
			o.cands = append(o.cands, b.cands...)
		default:
			o.cands = append(o.cands, b.cands...)
		}
	}
	if b.rows == 1 {
		o.inRun = c == 0
	} else {
		o.inRun = b.inRun
	}
	o.prev, o.prevBuffer, o.prevLine = b.prev, b.prevBuffer, b.prevLine
	o.rows += b.rows
}

// known reports whether the watcher saw the whole file with every watched
// value canonical; trim says values were padded with spaces (which
// DuckDB's trim would change).
func (o *keyOrder) known(trim bool) bool { return o != nil && o.ok && !trim }

func compareCols(cols []orderCol, a, b [][]byte) int {
	for _, c := range cols {
		x, y := a[c.at], b[c.at]
		if c.kind == schema.Int && len(x) != len(y) {
			if len(x) < len(y) {
				return -1
			}
			return 1
		}
		if r := bytes.Compare(x, y); r != 0 {
			return r
		}
	}
	return 0
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// canonical reports whether v is the canonical text of a value of kind k,
// whose byte order is the value order (for integers, after length).
func canonical(k schema.Kind, v []byte) bool {
	switch k {
	case schema.ID:
		return len(v) > 0 && v[0] != ' ' && v[0] != '\t' && v[len(v)-1] != ' ' && v[len(v)-1] != '\t'
	case schema.Int:
		return len(v) > 0 && len(v) <= 9 && digits(v) && (v[0] != '0' || len(v) == 1)
	case schema.Date:
		return len(v) == 10 && digits(v[0:4]) && v[4] == '-' && digits(v[5:7]) && v[7] == '-' && digits(v[8:10])
	case schema.Timestamp:
		return len(v) == 19 && canonical(schema.Date, v[:10]) && v[10] == ' ' &&
			digits(v[11:13]) && v[13] == ':' && digits(v[14:16]) && v[16] == ':' && digits(v[17:19])
	}
	return false
}
