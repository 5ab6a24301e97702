package score

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"qiandun/data/lake"
	"qiandun/scoring/monitor"
	"qiandun/training/binning"
	"qiandun/training/scorecard"
)

// Reasons is the number of reason-code columns (reason_1..reason_3).
const Reasons = 3

// Scorer scores Arrow record batches with a scorecard. The arithmetic is
// the card's own (scorecard.Lookup: the bins and fixed-point points that
// scorecard.Model.Score uses), applied column by column to the Arrow
// arrays; Scorer adds the integer score, grade, reason codes and
// decision.
type Scorer struct {
	Model *scorecard.Model
	dec   *decider
	chars []charInfo
	base  int64
	// Reason codes: the (characteristic, bin) pairs with a shortfall, in
	// reason order (largest shortfall first, ties by name); a row's
	// reasons are its three lowest priorities.
	reasons          []string  // by priority, "characteristic=bin"
	reasonCSV        []string  // by priority, quoted for CSV when needed
	scratch, csvBufs sync.Pool // *scratch, *[]byte (see Result.CSV)
}

// scratch is a unit's working columns.
type scratch struct {
	total  []int64
	bins   [][]int32
	scores []float64
}

func (s *Scorer) getScratch(n int) *scratch {
	sc, _ := s.scratch.Get().(*scratch)
	if sc == nil || cap(sc.total) < n {
		sc = &scratch{total: make([]int64, n), scores: make([]float64, n), bins: make([][]int32, len(s.chars))}
		for j := range sc.bins {
			sc.bins[j] = make([]int32, n)
		}
	}
	sc.total, sc.scores = sc.total[:n], sc.scores[:n]
	for j := range sc.bins {
		sc.bins[j] = sc.bins[j][:n]
	}
	return sc
}

// ReleaseCSV hands back the CSV buffer of a result once it is written.
func (s *Scorer) ReleaseCSV(r *Result) {
	if r.CSV != nil {
		b := r.CSV[:0]
		s.csvBufs.Put(&b)
		r.CSV = nil
	}
}

type charInfo struct {
	name string
	kind binning.Kind
	look *scorecard.Lookup
	prio []int32            // reason priority of each bin; noReason when at its best
	cat  map[string]catSlot // categorical: every value of the card's bins → its slot
	null int32              // categorical: catCode of NULL
}

// noReason is the priority of a bin at its characteristic's best points.
const noReason = math.MaxInt32

// fbBit marks a categorical code (bin | fbBit) as the fallback for an
// unseen value.
const fbBit = 1 << 30

func catCode(k int32, fb bool) int32 {
	if fb {
		return k | fbBit
	}
	return k
}

// NewScorer prepares m for scoring under rules.
func NewScorer(m *scorecard.Model, rules Rules) (*Scorer, error) {
	dec, err := newDecider(rules, m.Scaling)
	if err != nil {
		return nil, fmt.Errorf("score: rules: %w", err)
	}
	s := &Scorer{Model: m, dec: dec, base: m.Base()}
	type cand struct {
		j, k int
		gap  float64
	}
	var cands []cand
	for j := range m.Chars {
		c := &m.Chars[j]
		ci := charInfo{name: c.Name, kind: c.Binning().Kind, look: c.Lookup()}
		best := math.Inf(-1)
		for _, b := range c.Bins {
			best = math.Max(best, b.Points)
		}
		ci.prio = make([]int32, len(c.Bins))
		for k, b := range c.Bins {
			ci.prio[k] = noReason
			if gap := best - b.Points; gap > 0 {
				cands = append(cands, cand{j, k, gap})
			}
		}
		if ci.kind == binning.Categorical {
			ci.cat = map[string]catSlot{}
			for _, b := range c.Bins {
				for _, v := range append(slices.Clone(b.Values), "") {
					ci.cat[v] = catSlot{v: v, code: catCode(ci.look.Cat(v, false)), ok: true}
				}
			}
			ci.null = catCode(ci.look.Cat("", true))
		}
		s.chars = append(s.chars, ci)
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if a.gap != b.gap {
			if a.gap > b.gap {
				return -1
			}
			return 1
		}
		return strings.Compare(m.Chars[a.j].Name, m.Chars[b.j].Name)
	})
	for p, c := range cands {
		s.chars[c.j].prio[c.k] = int32(p)
		r := m.Chars[c.j].Name + "=" + m.Chars[c.j].Bins[c.k].Label
		s.reasons = append(s.reasons, r)
		s.reasonCSV = append(s.reasonCSV, csvField(r))
	}
	return s, nil
}

// Reason returns the text ("characteristic=bin") of reason code p, as
// found in the reason_k_code columns of Score's batches.
func (s *Scorer) Reason(p int32) string { return s.reasons[p] }

// decisions are the decisions in decision-code order.
var decisions = [3]string{Approve, Review, Decline}

// Decision returns the decision of a decision code.
func Decision(code int32) string { return decisions[code] }

// SelectSQL is the select list that turns the columns of Score's batches
// in view into the score file's columns from score to decision: the
// codes become their texts. With enums the texts are DuckDB ENUM values,
// which DuckDB's Parquet writer stores as dictionary-encoded strings
// without hashing every row; otherwise they are VARCHAR. flags says
// whether the batches carry fraud_flags (else the column is empty).
func (s *Scorer) SelectSQL(view string, flags, enums bool) string {
	list := func(vals []string) string {
		q := make([]string, len(vals))
		for i, v := range vals {
			q[i] = lake.Quote(v)
		}
		l := "[" + strings.Join(q, ", ") + "]"
		if !enums {
			return l
		}
		var uniq []string
		seen := map[string]bool{}
		for _, v := range q {
			if !seen[v] {
				seen[v] = true
				uniq = append(uniq, v)
			}
		}
		if len(uniq) == 0 {
			return "CAST(" + l + " AS VARCHAR[])"
		}
		return "CAST(" + l + " AS ENUM(" + strings.Join(uniq, ", ") + ")[])"
	}
	reasons := list(s.reasons)
	sel := []string{"score", "pd", list(Grades[:]) + "[grade_code + 1] AS grade"}
	for k := 1; k <= Reasons; k++ {
		sel = append(sel, fmt.Sprintf("%s[reason_%d_code + 1] AS reason_%d", reasons, k, k))
	}
	if flags {
		sel = append(sel, "coalesce(fraud_flags, '') AS fraud_flags")
	} else {
		sel = append(sel, "'' AS fraud_flags")
	}
	sel = append(sel, list(decisions[:])+"[decision_code + 1] AS decision")
	return strings.Join(sel, ", ") + " FROM " + view
}

// Cutoffs returns the minimum score of grades A..D.
func (s *Scorer) Cutoffs() [4]float64 { return s.dec.cuts }

// Layout says where the scorer finds its inputs in a record batch.
type Layout struct {
	ID     int   // entity id column, or −1 (the row's 1-based ordinal is used)
	Chars  []int // column of each characteristic, in card order
	Flags  int   // ';'-joined fraud flags (string), or −1
	Target int   // 1/0 outcome (numeric, NULL = unknown), or −1
}

// Unit is a run of consecutive input rows scored together.
type Unit struct {
	Seq   int
	Start int64 // 0-based ordinal of the first row
	Recs  []arrow.RecordBatch
	N     int
}

// Result is a scored unit.
type Result struct {
	Seq       int
	Recs      []arrow.RecordBatch // output batches, one per input batch
	CSV       []byte              // the rows as CSV (no header)
	N         int
	Fallbacks []int
	Monitor   *monitor.Monitor
	PD, Y     []float64 // Y only with a target (NaN = unknown)
	Grades    [5]int64
	Decisions map[string]int64
	Err       error
}

// OutputSchema is the schema of the batches Score returns: entity_id
// (of idType, string when nil), score, pd, then the grade, reasons and
// decision as codes (Grades index, Scorer.Reason code or NULL, Decision
// code; SelectSQL turns them into text), and, when flagsType is not nil,
// fraud_flags before decision_code. Low-cardinality text travels as
// codes so that a row costs an integer on its way into DuckDB.
func OutputSchema(idType, flagsType arrow.DataType) *arrow.Schema {
	if idType == nil {
		idType = arrow.BinaryTypes.String
	}
	i32 := arrow.PrimitiveTypes.Int32
	f := []arrow.Field{
		{Name: "entity_id", Type: idType, Nullable: true},
		{Name: "score", Type: i32},
		{Name: "pd", Type: arrow.PrimitiveTypes.Float64},
		{Name: "grade_code", Type: i32},
	}
	for k := 1; k <= Reasons; k++ {
		f = append(f, arrow.Field{Name: "reason_" + strconv.Itoa(k) + "_code", Type: i32, Nullable: true})
	}
	if flagsType != nil {
		f = append(f, arrow.Field{Name: "fraud_flags", Type: flagsType, Nullable: true})
	}
	f = append(f, arrow.Field{Name: "decision_code", Type: i32})
	return arrow.NewSchema(f, nil)
}

// CSVHeader is the header line of scores.csv.
const CSVHeader = "entity_id,as_of,model,model_version,score,pd,grade,reason_1,reason_2,reason_3,fraud_flags,decision\n"

// Score scores a unit. csvMid is the constant ",as_of,model,version,"
// text placed after the entity id of every CSV row; an empty csvMid
// skips the CSV.
func (s *Scorer) Score(u *Unit, lay Layout, schema *arrow.Schema, csvMid string) *Result {
	res := &Result{Seq: u.Seq, N: u.N, Decisions: map[string]int64{}}
	n := u.N
	nc := len(s.chars)
	work := s.getScratch(n)
	defer s.scratch.Put(work)
	total, bins := work.total, work.bins
	for i := range total {
		total[i] = s.base
	}
	res.Fallbacks = make([]int, nc)
	var buf []float64
	for j := range s.chars {
		ci := &s.chars[j]
		var cache *catCache
		if ci.kind == binning.Categorical {
			cache = newCatCache(ci)
		}
		off := 0
		for _, rec := range u.Recs {
			a := rec.Column(lay.Chars[j])
			m := a.Len()
			var fb int
			var err error
			if ci.kind == binning.Numeric {
				fb, buf, err = binNumeric(ci, a, bins[j][off:off+m], total[off:off+m], buf)
			} else {
				fb, err = cache.bin(a, bins[j][off:off+m], total[off:off+m])
			}
			if err != nil {
				res.Err = err
				return res
			}
			res.Fallbacks[j] += fb
			off += m
		}
	}
	scores := work.scores
	pds := make([]float64, n)
	ints := make([]int32, n)
	for i, t := range total {
		sc := scorecard.ScoreOf(t)
		scores[i] = sc
		pds[i] = s.Model.Scaling.PD(sc)
		ints[i] = int32(math.Round(sc))
	}
	res.Monitor = monitor.New(s.Model)
	res.Monitor.Add(bins, scores)
	res.PD = pds
	if lay.Target >= 0 {
		t, err := column(charInfo{name: "target", kind: binning.Numeric}, u, lay.Target)
		if err != nil {
			res.Err = err
			return res
		}
		res.Y = t.Num
	}
	grades := make([]int32, n)
	decs := make([]int32, n)
	var reasons [Reasons][]int32
	var valid [Reasons][]byte
	nulls := [Reasons]int{}
	for k := range reasons {
		reasons[k] = make([]int32, n)
		valid[k] = make([]byte, bitutil.BytesForBits(int64(n)))
	}
	var csv []byte
	if csvMid != "" {
		if b, ok := s.csvBufs.Get().(*[]byte); ok {
			csv = (*b)[:0]
		} else {
			csv = make([]byte, 0, n*112)
		}
	}
	var decCount [3]int64
	prios := make([][]int32, nc)
	for j := range s.chars {
		prios[j] = s.chars[j].prio
	}
	row := 0
	for _, rec := range u.Recs {
		var ids, flags stringCol
		idPlain := false // no id needs CSV quoting
		if lay.ID >= 0 {
			a := rec.Column(lay.ID)
			ids = asStrings(a)
			if x, ok := a.(*array.String); ok {
				idPlain = plainCSV(x.ValueBytes())
			}
		}
		if lay.Flags >= 0 {
			flags = asStrings(rec.Column(lay.Flags))
		}
		for r := 0; r < int(rec.NumRows()); r, row = r+1, row+1 {
			is := ints[row]
			g := s.dec.grade(is)
			fl := ""
			if flags != nil {
				fl = flags.value(r)
			}
			d := s.dec.decide(g, fl)
			dc := decisionCode(d)
			grades[row] = int32(g)
			decs[row] = dc
			res.Grades[g]++
			decCount[dc]++
			// Top reasons: the three lowest priorities, kept sorted
			// without branches (min/max compile to conditional moves).
			t0, t1, t2 := int32(noReason), int32(noReason), int32(noReason)
			for j, pr := range prios {
				p := pr[bins[j][row]]
				t2 = min(t2, max(t1, p))
				t1 = min(t1, max(t0, p))
				t0 = min(t0, p)
			}
			top := [Reasons]int32{t0, t1, t2}
			for k, p := range top {
				if p != noReason {
					reasons[k][row] = p
					bitutil.SetBit(valid[k], row)
				} else {
					nulls[k]++
				}
			}
			if csvMid != "" {
				if ids != nil {
					if idPlain {
						csv = append(csv, ids.value(r)...)
					} else {
						csv = appendCSV(csv, ids.value(r))
					}
				} else {
					csv = strconv.AppendInt(csv, u.Start+int64(row)+1, 10)
				}
				csv = append(csv, csvMid...)
				csv = strconv.AppendInt(csv, int64(is), 10)
				csv = append(csv, ',')
				csv = strconv.AppendFloat(csv, pds[row], 'g', -1, 64)
				csv = append(csv, ',')
				csv = append(csv, Grades[g]...)
				for _, p := range top {
					csv = append(csv, ',')
					if p != noReason {
						csv = append(csv, s.reasonCSV[p]...)
					}
				}
				csv = append(csv, ',')
				csv = appendCSV(csv, fl)
				csv = append(csv, ',')
				csv = append(csv, d...)
				csv = append(csv, '\n')
			}
		}
	}
	res.CSV = csv
	for dc, c := range decCount {
		if c > 0 {
			res.Decisions[decisions[dc]] = c
		}
	}
	mem := memory.DefaultAllocator
	codes := func(idx []int32, valid []byte, nulls int) arrow.Array {
		var vb *memory.Buffer
		if valid != nil {
			vb = memory.NewBufferBytes(valid)
		}
		data := array.NewData(arrow.PrimitiveTypes.Int32, n, []*memory.Buffer{vb, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(idx))}, nil, nulls, 0)
		defer data.Release()
		return array.MakeFromData(data)
	}
	scoreA := codes(ints, nil, 0)
	pdA := array.NewFloat64Data(array.NewData(arrow.PrimitiveTypes.Float64, n, []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(pds))}, nil, 0, 0))
	gradeA, decA := codes(grades, nil, 0), codes(decs, nil, 0)
	defer scoreA.Release()
	defer pdA.Release()
	defer gradeA.Release()
	defer decA.Release()
	var reasonA [Reasons]arrow.Array
	for k := range reasonA {
		reasonA[k] = codes(reasons[k], valid[k], nulls[k])
		defer reasonA[k].Release()
	}
	// One output batch per unit: few, large batches cross into DuckDB.
	column := func(c int, nulls bool) (arrow.Array, error) {
		if c < 0 {
			b := array.NewStringBuilder(mem)
			defer b.Release()
			if nulls {
				b.AppendNulls(n)
			} else {
				b.Reserve(n)
				var buf []byte
				for i := range int64(n) {
					buf = strconv.AppendInt(buf[:0], u.Start+i+1, 10)
					b.BinaryBuilder.Append(buf)
				}
			}
			return b.NewArray(), nil
		}
		if len(u.Recs) == 1 {
			a := u.Recs[0].Column(c)
			a.Retain()
			return a, nil
		}
		parts := make([]arrow.Array, len(u.Recs))
		for i, r := range u.Recs {
			parts[i] = r.Column(c)
		}
		return array.Concatenate(parts, mem)
	}
	id, err := column(lay.ID, false)
	if err != nil {
		res.Err = fmt.Errorf("score: %w", err)
		return res
	}
	arrs := []arrow.Array{id, scoreA, pdA, gradeA}
	arrs = append(arrs, reasonA[:]...)
	defer id.Release()
	if lay.Flags >= 0 {
		fl, err := column(lay.Flags, true)
		if err != nil {
			res.Err = fmt.Errorf("score: %w", err)
			return res
		}
		defer fl.Release()
		arrs = append(arrs, fl)
	}
	arrs = append(arrs, decA)
	res.Recs = []arrow.RecordBatch{array.NewRecordBatch(schema, arrs, int64(n))}
	return res
}

// binNumeric bins the numeric array a into bins, adding the bins' points
// to total; buf is scratch space for non-float64 arrays. It returns the
// fallback count.
func binNumeric(ci *charInfo, a arrow.Array, bins []int32, total []int64, buf []float64) (int, []float64, error) {
	var vals []float64
	var valid []byte // nil: no NULLs
	off := 0
	if x, ok := a.(*array.Float64); ok {
		vals = x.Float64Values()
		if x.NullN() > 0 {
			valid, off = x.NullBitmapBytes(), x.Data().Offset()
		}
	} else {
		var err error
		buf, err = numValues(ci.name, a, buf[:0])
		if err != nil {
			return 0, buf, err
		}
		vals = buf
	}
	l := ci.look
	fixed := l.Fixed
	fb := 0
	if l.Special != nil || len(l.Breaks) > 16 || !allFinite(l.Breaks) {
		for i, x := range vals {
			if valid != nil && !bitutil.BitIsSet(valid, off+i) {
				x = math.NaN()
			}
			k, f := l.Num(x)
			if f {
				fb++
			}
			bins[i] = k
			total[i] += fixed[k]
		}
		return fb, buf, nil
	}
	// Few finite breaks, no specials: the bin is the number of breaks
	// <= x, NaN and NULL the missing bin. For finite b and non-NaN x,
	// b <= x exactly when x−b is not negative (x−b is ±0 only when x == b,
	// and then +0), so the count takes no branches.
	br := l.Breaks
	nan, nanFalls := l.NaNBin, l.NaNFalls
	if len(br) <= 8 {
		return binFew(vals, valid, off, br, nan, nanFalls, bins, total, fixed), buf, nil
	}
	for i, x := range vals {
		if missing(x, valid, off+i) {
			bins[i] = nan
			total[i] += fixed[nan]
			if nanFalls {
				fb++
			}
			continue
		}
		x += 0 // −0 → +0
		var k int32
		for _, b := range br {
			k += int32(math.Float64bits(x-b)>>63) ^ 1
		}
		bins[i] = k
		total[i] += fixed[k]
	}
	return fb, buf, nil
}

// missing reports whether value x at bit i of the validity bitmap valid
// (nil: no NULLs) is NULL or NaN: a missing value.
func missing(x float64, valid []byte, i int) bool {
	return x != x || (valid != nil && valid[i>>3]&(1<<(i&7)) == 0)
}

// binFew is binNumeric's loop for up to 8 finite breaks: the breaks are
// padded to 8 with +Inf and the comparisons unrolled. x is clamped to
// MaxFloat64 so that +Inf, like any finite value, is below the padding
// (x − +Inf is −Inf) and at or above every real break.
func binFew(vals []float64, valid []byte, off int, br []float64, nan int32, nanFalls bool, bins []int32, total, fixed []int64) int {
	var p [8]float64
	for i := range p {
		p[i] = math.Inf(1)
	}
	copy(p[:], br)
	below := func(x, b float64) int32 { return int32(math.Float64bits(x-b) >> 63) } // x < b
	fb := 0
	bins = bins[:len(vals)]
	total = total[:len(vals)]
	for i, x := range vals {
		if missing(x, valid, off+i) {
			bins[i] = nan
			total[i] += fixed[nan]
			if nanFalls {
				fb++
			}
			continue
		}
		x = min(x+0, math.MaxFloat64) // −0 → +0; +Inf → MaxFloat64
		k := 8 - (below(x, p[0]) + below(x, p[1]) + below(x, p[2]) + below(x, p[3]) +
			below(x, p[4]) + below(x, p[5]) + below(x, p[6]) + below(x, p[7]))
		bins[i] = k
		total[i] += fixed[k]
	}
	return fb
}

func allFinite(v []float64) bool {
	for _, x := range v {
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return false
		}
	}
	return true
}

// catCache bins the values of a categorical characteristic, remembering
// every distinct value it has seen.
type catCache struct {
	ci    *charInfo
	slots [256]catSlot
	seen  map[string]catSlot
}

// catSlot is a value (a string the cache owns, not a view into an Arrow
// buffer) with its code.
type catSlot struct {
	v    string
	code int32
	ok   bool
}

func newCatCache(ci *charInfo) *catCache {
	return &catCache{ci: ci, seen: map[string]catSlot{}}
}

func slotOf(v string) int {
	if len(v) == 0 {
		return 0
	}
	return (len(v)*131 + int(v[0])*31 + int(v[len(v)-1])*7 + int(v[len(v)/2])) & 255
}

func (c *catCache) code(v string) int32 {
	sl := &c.slots[slotOf(v)]
	if sl.ok && sl.v == v {
		return sl.code
	}
	e, ok := c.ci.cat[v]
	if !ok {
		if e, ok = c.seen[v]; !ok {
			v := strings.Clone(v)
			e = catSlot{v: v, code: catCode(c.ci.look.Cat(v, false)), ok: true}
			c.seen[v] = e
		}
	}
	*sl = e // two values sharing a slot cost map lookups, not copies
	return e.code
}

func (c *catCache) bin(a arrow.Array, bins []int32, total []int64) (int, error) {
	fixed := c.ci.look.Fixed
	fb := 0
	put := func(i int, code int32) {
		if code&fbBit != 0 {
			fb++
			code &^= fbBit
		}
		bins[i] = code
		total[i] += fixed[code]
	}
	if x, ok := a.(*array.String); ok {
		nulls := x.NullN() > 0
		for i := range x.Len() {
			if nulls && x.IsNull(i) {
				put(i, c.ci.null)
				continue
			}
			put(i, c.code(x.Value(i)))
		}
		return fb, nil
	}
	col, err := catValues(c.ci.name, a)
	if err != nil {
		return 0, err
	}
	codes := make([]int32, len(col.Dict))
	for d, v := range col.Dict {
		codes[d] = c.code(v)
	}
	for i, d := range col.Codes {
		if d < 0 {
			put(i, c.ci.null)
		} else {
			put(i, codes[d])
		}
	}
	return fb, nil
}

// csvField quotes s for CSV when it holds a comma, quote or line break.
func csvField(s string) string {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// plainCSV reports whether b holds none of the bytes that make CSV quote
// a field (a whole column's values at once).
func plainCSV(b []byte) bool {
	return bytes.IndexByte(b, ',') < 0 && bytes.IndexByte(b, '"') < 0 && bytes.IndexByte(b, '\n') < 0 && bytes.IndexByte(b, '\r') < 0
}

func appendCSV(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	return append(b, csvField(s)...)
}

// stringCol reads a string-like column.
type stringCol interface{ value(i int) string }

type strArr struct {
	a interface {
		IsNull(int) bool
		Value(int) string
	}
}

func (s strArr) value(i int) string {
	if s.a.IsNull(i) {
		return ""
	}
	return s.a.Value(i)
}

type anyArr struct{ a arrow.Array }

func (s anyArr) value(i int) string {
	if s.a.IsNull(i) {
		return ""
	}
	return s.a.ValueStr(i)
}

func asStrings(a arrow.Array) stringCol {
	if x, ok := a.(interface {
		IsNull(int) bool
		Value(int) string
	}); ok {
		return strArr{x}
	}
	return anyArr{a}
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// decimalFloat converts like training/frame: exact integer / 10^scale.
func decimalFloat(n decimal128.Num, scale int32) float64 {
	hi, lo := n.HighBits(), n.LowBits()
	if (hi == 0 && lo < 1<<53) || (hi == -1 && lo >= 1<<64-1<<53) {
		if scale >= 0 && int(scale) < len(pow10) {
			return float64(int64(lo)) / pow10[scale]
		}
	}
	return n.ToFloat64(scale)
}

// column gathers numeric column c of the unit's batches as float64, NULL
// as NaN, converting values as training/frame does.
func column(ci charInfo, u *Unit, c int) (*binning.Column, error) {
	num := make([]float64, 0, u.N)
	for _, rec := range u.Recs {
		var err error
		if num, err = numValues(ci.name, rec.Column(c), num); err != nil {
			return nil, err
		}
	}
	return &binning.Column{Name: ci.name, Kind: binning.Numeric, Num: num}, nil
}

// numValues appends the values of a numeric array to num as float64,
// NULL as NaN.
func numValues(name string, a arrow.Array, num []float64) ([]float64, error) {
	n := a.Len()
	switch x := a.(type) {
	case *array.Float64:
		vals := x.Float64Values()
		if x.NullN() == 0 {
			return append(num, vals...), nil
		}
		for i := range n {
			num = append(num, nanIf(vals[i], x.IsNull(i)))
		}
	case *array.Int32:
		num = appendNum(num, x)
	case *array.Int64:
		num = appendNum(num, x)
	case *array.Decimal128:
		scale := x.DataType().(*arrow.Decimal128Type).Scale
		for i := range n {
			num = append(num, nanIf(decimalFloat(x.Value(i), scale), x.IsNull(i)))
		}
	case *array.Float32:
		num = appendNum(num, x)
	case *array.Int16:
		num = appendNum(num, x)
	case *array.Int8:
		num = appendNum(num, x)
	case *array.Uint8:
		num = appendNum(num, x)
	case *array.Uint16:
		num = appendNum(num, x)
	case *array.Uint32:
		num = appendNum(num, x)
	case *array.Uint64:
		num = appendNum(num, x)
	default:
		return nil, fmt.Errorf("score: characteristic %s is numeric but its column is %s", name, a.DataType())
	}
	return num, nil
}

// numArray is an Arrow array of a Go number type.
type numArray[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32] interface {
	Len() int
	Value(int) T
	IsNull(int) bool
}

// appendNum appends a's values to num as float64, NULL as NaN.
func appendNum[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32](num []float64, a numArray[T]) []float64 {
	for i := range a.Len() {
		num = append(num, nanIf(float64(a.Value(i)), a.IsNull(i)))
	}
	return num
}

// catValues reads a categorical array: strings and booleans as they are,
// integers formatted like strconv 'f' −1, NULL as code −1.
func catValues(name string, a arrow.Array) (*binning.Column, error) {
	out := &binning.Column{Name: name, Kind: binning.Categorical}
	n := a.Len()
	codes := make([]int32, 0, n)
	index := map[string]int32{}
	add := func(s string, null bool) {
		if null {
			codes = append(codes, -1)
			return
		}
		k, ok := index[s]
		if !ok {
			k = int32(len(out.Dict))
			s = strings.Clone(s)
			index[s] = k
			out.Dict = append(out.Dict, s)
		}
		codes = append(codes, k)
	}
	switch x := a.(type) {
	case interface {
		arrow.Array
		Value(int) string
	}:
		for i := range n {
			add(x.Value(i), x.IsNull(i))
		}
	case *array.Boolean:
		for i := range n {
			add(strconv.FormatBool(x.Value(i)), x.IsNull(i))
		}
	case *array.Float64, *array.Float32, *array.Decimal128:
		return nil, fmt.Errorf("score: characteristic %s is categorical but its column is %s", name, a.DataType())
	default:
		if !arrow.IsInteger(a.DataType().ID()) {
			return nil, fmt.Errorf("score: characteristic %s is categorical but its column is %s", name, a.DataType())
		}
		for i := range n {
			if a.IsNull(i) {
				add("", true)
				continue
			}
			v, _ := strconv.ParseFloat(a.ValueStr(i), 64)
			add(strconv.FormatFloat(v, 'f', -1, 64), false)
		}
	}
	out.Codes = codes
	return out, nil
}

func decisionCode(d string) int32 {
	switch d {
	case Approve:
		return 0
	case Review:
		return 1
	}
	return 2
}

func nanIf(v float64, null bool) float64 {
	if null {
		return math.NaN()
	}
	return v
}
