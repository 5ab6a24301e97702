package score

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"qiandun/internal/csvsafe"
	"qiandun/scoring/monitor"
	"qiandun/training/binning"
	"qiandun/training/scorecard"
)

// Reasons is the number of reason-code columns (reason_1..reason_3, and
// their texts reason_text_1..reason_text_3).
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
	reasons  []string  // by priority, the code: "inq_7d_total_high"
	texts    []string  // by priority, the catalog's text
	decNames [3]string // the words of the decision codes
	bufs     sync.Pool // *unitBufs
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
	s := &Scorer{Model: m, dec: dec, base: m.Base(), decNames: decisions}
	cat, err := scorecard.DefaultReasonCatalog()
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
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
		code, text := cat.ReasonCode(&m.Chars[c.j], c.k)
		s.reasons = append(s.reasons, code)
		s.texts = append(s.texts, text)
	}
	return s, nil
}

// Cutoffs returns the minimum score of grades A..D.
func (s *Scorer) Cutoffs() [4]float64 { return s.dec.cuts }

// Layout says where the scorer finds its inputs in a record batch.
type Layout struct {
	ID     int   // entity id column (string), or −1 (the row's 1-based ordinal is used)
	Chars  []int // column of each characteristic, in card order
	Flags  int   // ';'-joined fraud flags (string, no NULLs), or −1
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
	Rec       arrow.RecordBatch // the rows in Output's schema
	CSV       []byte            // the rows as CSV (no header), when Output.CSV
	N         int
	Fallbacks []int
	Monitor   *monitor.Monitor
	PD, Y     []float64 // valid until Release; Y only with a target (NaN = unknown)
	Grades    [5]int64
	Decisions [3]int64 // by decision code (see Decision)
	Err       error
	bufs      *unitBufs
}

// Release frees the result's batch and hands its buffers back to s for
// the next unit. The result must not be used afterwards.
func (s *Scorer) Release(r *Result) {
	if r.Rec != nil {
		r.Rec.Release()
		r.Rec = nil
	}
	if r.bufs != nil {
		s.bufs.Put(r.bufs)
		r.bufs = nil
	}
	r.CSV, r.PD = nil, nil
}

// decisions are the decisions in decision-code order (an array value,
// copied, never changed).
var decisions = [3]string{Approve, Review, Decline}

// Decision returns the decision of a decision code.
func Decision(code int) string { return decisions[code] }

// SetDecisionNames sets the words the output gives the decision codes
// (approve, review, decline), e.g. Rules.DecisionNames("bcard"). Call it
// before NewOutput.
func (s *Scorer) SetDecisionNames(names [3]string) { s.decNames = names }

// DecisionName returns the word of a decision code in this scorer's
// output.
func (s *Scorer) DecisionName(code int) string { return s.decNames[code] }

// Output lays out the batches Score returns: the columns of
// scores.parquet (Columns), in order. The text columns of few values
// (as_of, model, model_version, grade, the reasons, decision, and
// fraud_flags when the input has none) are dictionary arrays whose indices
// Score computes (a grade, a reason code, a decision code), so that no
// row's text is built, copied or hashed on its way into the Parquet file.
type Output struct {
	Schema *arrow.Schema
	CSV    bool // Score also renders the rows as CSV

	s         *Scorer
	flags     bool
	asOf      arrow.Array // the one-value dictionaries
	model     arrow.Array
	version   arrow.Array
	noFlags   arrow.Array
	grades    arrow.Array // the dictionaries of the coded columns
	reasons   arrow.Array
	texts     arrow.Array
	decisions arrow.Array
	reasonIdx []int32 // reason priority → index into reasons
	textIdx   []int32 // reason priority → index into texts
	// CSV pieces: ",<as_of>,<model>,<version>,"; ",<grade>"; ",<reason>"
	// (by index into reasons, quoted when needed); ",<text>" (by index
	// into texts); ",<decision>\n"; and the room a row's pieces need (see
	// appendRows).
	mid         field
	gradeCSV    [5]field
	reasonCSV   []field
	textCSV     []field
	decisionCSV [3]field
	rowRoom     int
	zeros       []int32 // indices of the one-value columns (never written)
}

var strDict = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// NewOutput prepares the output of a run at asOf (YYYY-MM-DD) in units of
// up to batchRows rows; flags says whether the input carries fraud flags
// (Layout.Flags), csv whether Score renders CSV.
func (s *Scorer) NewOutput(asOf string, batchRows int, flags, csv bool) (*Output, error) {
	d, err := time.Parse(time.DateOnly, asOf)
	if err != nil {
		return nil, fmt.Errorf("score: as-of %q: %w", asOf, err)
	}
	mem := memory.DefaultAllocator
	strs := func(vals []string) arrow.Array {
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.AppendValues(vals, nil)
		return b.NewArray()
	}
	db := array.NewDate32Builder(mem)
	defer db.Release()
	db.Append(arrow.Date32FromTime(d))
	o := &Output{CSV: csv, s: s, flags: flags, asOf: db.NewArray(), model: strs([]string{s.Model.Name}),
		version: strs([]string{s.Model.Version}), noFlags: strs([]string{""}), grades: strs(Grades[:]), decisions: strs(s.decNames[:])}
	// Several bins share a code (two bins above the best are both
	// "_high"), and may share a text: each dictionary holds a value once.
	dictOf := func(vals []string) (arrow.Array, []int32, []field) {
		var uniq []string
		var idx []int32
		var pieces []field
		at := map[string]int32{}
		for _, r := range vals {
			k, ok := at[r]
			if !ok {
				k = int32(len(uniq))
				at[r] = k
				uniq = append(uniq, r)
				pieces = append(pieces, newField(","+csvField(r)))
			}
			idx = append(idx, k)
		}
		return strs(uniq), idx, pieces
	}
	o.reasons, o.reasonIdx, o.reasonCSV = dictOf(s.reasons)
	o.texts, o.textIdx, o.textCSV = dictOf(s.texts)
	o.zeros = make([]int32, batchRows)
	o.mid = newField("," + asOf + "," + csvField(s.Model.Name) + "," + csvField(s.Model.Version) + ",")
	for g, name := range Grades {
		o.gradeCSV[g] = newField("," + name)
	}
	for d, name := range s.decNames {
		o.decisionCSV[d] = newField("," + csvField(name) + "\n")
	}
	// Each piece at its widest: the id's 16-byte move, the middle, score
	// and PD, grade, reasons, the comma before the flags, decision.
	longest, longestText := fieldBytes, fieldBytes
	for _, f := range o.reasonCSV {
		longest = max(longest, f.n)
	}
	for _, f := range o.textCSV {
		longestText = max(longestText, f.n)
	}
	o.rowRoom = 16 + max(o.mid.n, fieldBytes) + 24 + 32 + fieldBytes + Reasons*(longest+longestText) + 1 + fieldBytes
	f := []arrow.Field{
		{Name: "entity_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "as_of", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.FixedWidthTypes.Date32}},
		{Name: "model", Type: strDict},
		{Name: "model_version", Type: strDict},
		{Name: "score", Type: arrow.PrimitiveTypes.Int32},
		{Name: "pd", Type: arrow.PrimitiveTypes.Float64},
		{Name: "grade", Type: strDict},
	}
	for k := 1; k <= Reasons; k++ {
		f = append(f, arrow.Field{Name: "reason_" + strconv.Itoa(k), Type: strDict, Nullable: true})
	}
	for k := 1; k <= Reasons; k++ {
		f = append(f, arrow.Field{Name: "reason_text_" + strconv.Itoa(k), Type: strDict, Nullable: true})
	}
	if flags {
		f = append(f, arrow.Field{Name: "fraud_flags", Type: arrow.BinaryTypes.String})
	} else {
		f = append(f, arrow.Field{Name: "fraud_flags", Type: strDict})
	}
	f = append(f, arrow.Field{Name: "decision", Type: strDict})
	o.Schema = arrow.NewSchema(f, nil)
	return o, nil
}

// Release frees the output's dictionaries.
func (o *Output) Release() {
	for _, a := range []arrow.Array{o.asOf, o.model, o.version, o.noFlags, o.grades, o.reasons, o.texts, o.decisions} {
		a.Release()
	}
}

// Reason returns the reason code ("inq_7d_total_high") of a reason_k
// value of an output batch (a dictionary index).
func (o *Output) Reason(idx int) string { return o.reasons.(*array.String).Value(idx) }

// ReasonText returns the reason text of a reason_text_k value of an
// output batch (a dictionary index).
func (o *Output) ReasonText(idx int) string { return o.texts.(*array.String).Value(idx) }

// CSVHeader is the header line of scores.csv.
const CSVHeader = "entity_id,as_of,model,model_version,score,pd,grade,reason_1,reason_2,reason_3,reason_text_1,reason_text_2,reason_text_3,fraud_flags,decision\n"

// tileRows is how many rows Score takes through all the characteristics
// at a time: a tile's working columns stay in the core's cache. DuckDB
// hands its rows over in vectors of this size.
const tileRows = 2048

// tile is a tile's working columns.
type tile struct {
	kb, kb2    []int32 // two characteristics' bins
	total      []int64 // fixed-point points so far
	t0, t1, t2 []int32 // the three lowest reason priorities so far
	scores     []float64
	buf        []float64 // non-float64 numeric values
	cnt        [][]int64 // per characteristic, rows per bin
}

// unitBufs are a unit's output columns, reused from unit to unit.
type unitBufs struct {
	score            []int32
	pd               []float64
	grade, dec       []int32
	reason, text     [Reasons][]int32 // indices into the code and text dictionaries
	valid            [Reasons][]byte
	ids, flags       []byte
	idOff, flOff     []int32
	idValid, flValid []byte
	csv              []byte
	tile             tile
}

func (s *Scorer) getBufs(n int) *unitBufs {
	b, _ := s.bufs.Get().(*unitBufs)
	if b == nil {
		b = &unitBufs{}
		t := &b.tile
		t.kb, t.kb2, t.total, t.scores = make([]int32, tileRows), make([]int32, tileRows), make([]int64, tileRows), make([]float64, tileRows)
		t.t0, t.t1, t.t2 = make([]int32, tileRows), make([]int32, tileRows), make([]int32, tileRows)
		t.cnt = make([][]int64, len(s.chars))
		for j := range s.chars {
			t.cnt[j] = make([]int64, len(s.Model.Chars[j].Bins))
		}
	}
	grow := func(p *[]int32) { *p = slices.Grow((*p)[:0], n)[:n] }
	grow(&b.score)
	grow(&b.grade)
	grow(&b.dec)
	b.pd = slices.Grow(b.pd[:0], n)[:n]
	nb := int(bitutil.BytesForBits(int64(n)))
	for k := range b.reason {
		grow(&b.reason[k])
		grow(&b.text[k])
		b.valid[k] = slices.Grow(b.valid[k][:0], nb)[:nb]
		clear(b.valid[k])
	}
	for _, c := range b.tile.cnt {
		clear(c)
	}
	return b
}

// Score scores a unit into o's layout.
func (s *Scorer) Score(u *Unit, lay Layout, o *Output) *Result {
	n := u.N
	b := s.getBufs(n)
	res := &Result{Seq: u.Seq, N: n, bufs: b, Fallbacks: make([]int, len(s.chars)), Monitor: monitor.New(s.Model)}
	fail := func(err error) *Result {
		s.Release(res)
		res.Err = err
		return res
	}
	ids, err := b.strings(u, lay.ID, &b.ids, &b.idOff, &b.idValid)
	if err != nil {
		return fail(err)
	}
	defer ids.Release()
	var flags *array.String
	if lay.Flags >= 0 {
		if flags, err = b.strings(u, lay.Flags, &b.flags, &b.flOff, &b.flValid); err != nil {
			return fail(err)
		}
		defer flags.Release()
	}
	if lay.Target >= 0 {
		t, err := column(charInfo{name: "target", kind: binning.Numeric}, u, lay.Target)
		if err != nil {
			return fail(err)
		}
		res.Y = t.Num
	}
	var csv []byte
	if o.CSV {
		csv = b.csv[:0]
	}
	idPlain := plainCSV(ids.ValueBytes())
	caches := make([]*catCache, len(s.chars))
	for j := range s.chars {
		if s.chars[j].kind == binning.Categorical {
			caches[j] = newCatCache(&s.chars[j])
		}
	}
	row := 0
	for _, rec := range u.Recs {
		m := int(rec.NumRows())
		for lo := 0; lo < m; lo += tileRows {
			hi := min(m, lo+tileRows)
			t := rec
			if lo > 0 || hi < m {
				t = rec.NewSlice(int64(lo), int64(hi))
			}
			err := s.scoreTile(t, lay, o, caches, res, row)
			if t != rec {
				t.Release()
			}
			if err != nil {
				return fail(err)
			}
			if o.CSV {
				csv = appendRows(csv, o, ids, idPlain, flags, b, row, row+hi-lo)
			}
			row += hi - lo
		}
	}
	b.csv = csv
	res.CSV = csv
	res.PD = b.pd
	for j, c := range b.tile.cnt {
		res.Monitor.AddBins(j, c)
	}
	res.Rec = o.batch(b, ids, flags, n)
	return res
}

// scoreTile scores the rows of t, rows row.. of the unit.
func (s *Scorer) scoreTile(t arrow.RecordBatch, lay Layout, o *Output, caches []*catCache, res *Result, row int) error {
	b := res.bufs
	w := &b.tile
	m := int(t.NumRows())
	total := w.total[:m]
	t0, t1, t2 := w.t0[:m], w.t1[:m], w.t2[:m]
	for i := range total {
		total[i] = s.base
		t0[i], t1[i], t2[i] = noReason, noReason, noReason
	}
	bin := func(j int, kb []int32) error {
		ci := &s.chars[j]
		a := t.Column(lay.Chars[j])
		var fb int
		var err error
		if ci.kind == binning.Numeric {
			fb, w.buf, err = binNumeric(ci, a, kb, w.buf)
		} else {
			fb, err = caches[j].bin(a, kb)
		}
		res.Fallbacks[j] += fb
		return err
	}
	// Two characteristics per pass over the running columns.
	nc := len(s.chars)
	for j := 0; j < nc; j += 2 {
		ka := w.kb[:m]
		if err := bin(j, ka); err != nil {
			return err
		}
		a := &s.chars[j]
		if j+1 == nc {
			accumulate(ka, total, t0, t1, t2, a.look.Fixed, a.prio, w.cnt[j])
			break
		}
		kb := w.kb2[:m]
		if err := bin(j+1, kb); err != nil {
			return err
		}
		b := &s.chars[j+1]
		accumulate2(ka, kb, total, t0, t1, t2, a.look.Fixed, b.look.Fixed, a.prio, b.prio, w.cnt[j], w.cnt[j+1])
	}
	scores := w.scores[:m]
	pd, ints, grades, decs := b.pd[row:row+m], b.score[row:row+m], b.grade[row:row+m], b.dec[row:row+m]
	for i, tot := range total {
		sc := scorecard.ScoreOf(tot)
		scores[i] = sc
		pd[i] = s.Model.Scaling.PD(sc)
		is := int32(math.Round(sc))
		ints[i] = is
		g := s.dec.grade(is)
		grades[i] = int32(g)
		res.Grades[g]++
	}
	if lay.Flags < 0 {
		for i, g := range grades {
			d := s.dec.codes[g]
			decs[i] = d
			res.Decisions[d]++
		}
	} else {
		fl := t.Column(lay.Flags).(*array.String)
		for i, g := range grades {
			d := decisionCode(s.dec.decide(int(g), fl.Value(i)))
			decs[i] = d
			res.Decisions[d]++
		}
	}
	for k, tk := range [Reasons][]int32{t0, t1, t2} {
		r, x, valid := b.reason[k][row:row+m], b.text[k][row:row+m], b.valid[k]
		for i, p := range tk {
			if p != noReason {
				r[i], x[i] = o.reasonIdx[p], o.textIdx[p]
				bitutil.SetBit(valid, row+i)
			} else {
				r[i], x[i] = 0, 0
			}
		}
	}
	res.Monitor.AddScores(scores)
	return nil
}

// accumulate adds the points of bins kb to total, counts them in cnt and
// keeps t0 ≤ t1 ≤ t2 the three lowest reason priorities seen (min and max
// compile to conditional moves: no branches).
func accumulate(kb []int32, total []int64, t0, t1, t2 []int32, fixed []int64, prio []int32, cnt []int64) {
	total = total[:len(kb)]
	t0, t1, t2 = t0[:len(kb)], t1[:len(kb)], t2[:len(kb)]
	for i, k := range kb {
		total[i] += fixed[k]
		cnt[k]++
		p := prio[k]
		t2[i] = min(t2[i], max(t1[i], p))
		t1[i] = min(t1[i], max(t0[i], p))
		t0[i] = min(t0[i], p)
	}
}

// accumulate2 is accumulate for two characteristics at once (bins ka and
// kb): the running columns are read and written once for both.
func accumulate2(ka, kb []int32, total []int64, t0, t1, t2 []int32, fa, fb []int64, pa, pb []int32, ca, cb []int64) {
	n := len(ka)
	kb, total = kb[:n], total[:n]
	t0, t1, t2 = t0[:n], t1[:n], t2[:n]
	for i, k := range ka {
		j := kb[i]
		total[i] += fa[k] + fb[j]
		ca[k]++
		cb[j]++
		r0, r1, r2 := t0[i], t1[i], t2[i]
		p := pa[k]
		r2 = min(r2, max(r1, p))
		r1 = min(r1, max(r0, p))
		r0 = min(r0, p)
		p = pb[j]
		r2 = min(r2, max(r1, p))
		r1 = min(r1, max(r0, p))
		r0 = min(r0, p)
		t0[i], t1[i], t2[i] = r0, r1, r2
	}
}

// strings gathers string column c of the unit's batches into one array
// (the batch's own when there is one), or, for c < 0, the rows' 1-based
// ordinals.
func (b *unitBufs) strings(u *Unit, c int, data *[]byte, offs *[]int32, validBuf *[]byte) (*array.String, error) {
	if c >= 0 && len(u.Recs) == 1 {
		x, ok := u.Recs[0].Column(c).(*array.String)
		if !ok {
			return nil, fmt.Errorf("score: column %s is %s, want a string", u.Recs[0].ColumnName(c), u.Recs[0].Column(c).DataType())
		}
		x.Retain()
		return x, nil
	}
	d, off := (*data)[:0], append((*offs)[:0], 0)
	var valid []byte
	nulls := 0
	if c < 0 {
		for i := range int64(u.N) {
			d = strconv.AppendInt(d, u.Start+i+1, 10)
			off = append(off, int32(len(d)))
		}
	} else {
		row := 0
		for _, rec := range u.Recs {
			x, ok := rec.Column(c).(*array.String)
			if !ok {
				return nil, fmt.Errorf("score: column %s is %s, want a string", rec.ColumnName(c), rec.Column(c).DataType())
			}
			if x.NullN() > 0 && valid == nil {
				valid = (*validBuf)[:0]
				valid = slices.Grow(valid, int(bitutil.BytesForBits(int64(u.N))))[:bitutil.BytesForBits(int64(u.N))]
				bitutil.SetBitsTo(valid, 0, int64(row), true)
				bitutil.SetBitsTo(valid, int64(row), int64(u.N-row), false)
			}
			xo := x.ValueOffsets()
			base := int32(len(d)) - xo[0]
			d = append(d, x.ValueBytes()...)
			for _, e := range xo[1:] {
				off = append(off, e+base)
			}
			if valid != nil {
				for i := range x.Len() {
					if x.IsValid(i) {
						bitutil.SetBit(valid, row+i)
					}
				}
			}
			nulls += x.NullN()
			row += x.Len()
		}
		if valid != nil {
			*validBuf = valid
		}
	}
	if len(d) > math.MaxInt32 {
		return nil, fmt.Errorf("score: %d bytes of strings in one unit of %d rows; lower the batch size", len(d), u.N)
	}
	*data, *offs = d, off
	var vb *memory.Buffer
	if valid != nil {
		vb = memory.NewBufferBytes(valid)
	}
	data2 := array.NewData(arrow.BinaryTypes.String, u.N, []*memory.Buffer{vb, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(off)), memory.NewBufferBytes(d)}, nil, nulls, 0)
	defer data2.Release()
	return array.NewStringData(data2), nil
}

// batch assembles the unit's output batch.
func (o *Output) batch(b *unitBufs, ids, flags *array.String, n int) arrow.RecordBatch {
	i32 := func(v []int32, valid []byte, nulls int) *array.Int32 {
		var vb *memory.Buffer
		if valid != nil {
			vb = memory.NewBufferBytes(valid)
		}
		d := array.NewData(arrow.PrimitiveTypes.Int32, n, []*memory.Buffer{vb, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(v))}, nil, nulls, 0)
		defer d.Release()
		return array.NewInt32Data(d)
	}
	zeros := o.zeros
	if len(zeros) < n {
		zeros = make([]int32, n) // a unit larger than the batch size (tests)
	}
	dict := func(t arrow.DataType, idx *array.Int32, d arrow.Array) arrow.Array {
		defer idx.Release()
		return array.NewDictionaryArray(t, idx, d)
	}
	one := func(t arrow.DataType, d arrow.Array) arrow.Array { return dict(t, i32(zeros[:n], nil, 0), d) }
	pd := array.NewData(arrow.PrimitiveTypes.Float64, n, []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(b.pd[:n]))}, nil, 0, 0)
	defer pd.Release()
	cols := []arrow.Array{ids, one(o.Schema.Field(1).Type, o.asOf), one(strDict, o.model), one(strDict, o.version),
		i32(b.score[:n], nil, 0), array.NewFloat64Data(pd), dict(strDict, i32(b.grade[:n], nil, 0), o.grades)}
	ids.Retain()
	for k := range Reasons {
		valid := b.valid[k]
		nulls := n - bitutil.CountSetBits(valid, 0, n)
		if nulls == 0 {
			valid = nil // the Parquet writer's faster path for no NULLs
		}
		cols = append(cols, dict(strDict, i32(b.reason[k][:n], valid, nulls), o.reasons))
	}
	for k := range Reasons {
		valid := b.valid[k]
		nulls := n - bitutil.CountSetBits(valid, 0, n)
		if nulls == 0 {
			valid = nil
		}
		cols = append(cols, dict(strDict, i32(b.text[k][:n], valid, nulls), o.texts))
	}
	if flags != nil {
		flags.Retain()
		cols = append(cols, flags)
	} else {
		cols = append(cols, one(strDict, o.noFlags))
	}
	cols = append(cols, dict(strDict, i32(b.dec[:n], nil, 0), o.decisions))
	rec := array.NewRecordBatch(o.Schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// field is a piece of CSV text padded to a fixed size, so that it is
// copied with one fixed-size move rather than a call to memmove (a row has
// nine pieces; the calls cost more than the bytes). Longer text is kept
// whole in s.
type field struct {
	b [fieldBytes]byte
	n int
	s string
}

const fieldBytes = 48

func newField(s string) field {
	f := field{n: len(s), s: s}
	copy(f.b[:], s)
	return f
}

// put writes f at buf[at:] (buf has fieldBytes of room past the text)
// and returns the position after it.
func (f *field) put(buf []byte, at int) int {
	if f.n <= fieldBytes {
		*(*[fieldBytes]byte)(buf[at : at+fieldBytes]) = f.b
		return at + f.n
	}
	return at + copy(buf[at:], f.s)
}

// appendRows renders rows lo..hi of the unit as CSV.
func appendRows(csv []byte, o *Output, ids *array.String, idPlain bool, flags *array.String, b *unitBufs, lo, hi int) []byte {
	idOff, idData := ids.ValueOffsets(), ids.ValueBytes()
	base := idOff[0]
	at := len(csv)
	for i := lo; i < hi; i++ {
		s, e := int(idOff[i]-base), int(idOff[i+1]-base)
		// Room for every piece at its longest and the last one's padding.
		room := o.rowRoom + 2*(e-s) + 3
		if flags != nil {
			room += 2*flags.ValueLen(i) + 3
		}
		if at+room > cap(csv) {
			csv = slices.Grow(csv[:at], room+cap(csv))
		}
		buf := csv[:cap(csv)]
		switch {
		case !ids.IsValid(i):
		case e > s && csvsafe.Risky(idData[s]):
			at = len(appendCSV(buf[:at], ids.Value(i)))
		case idPlain && e-s <= 16 && s+16 <= len(idData):
			*(*[16]byte)(buf[at : at+16]) = *(*[16]byte)(idData[s : s+16])
			at += e - s
		case idPlain:
			at += copy(buf[at:], idData[s:e])
		default:
			at = len(appendCSV(buf[:at], ids.Value(i)))
		}
		at = o.mid.put(buf, at)
		at = len(strconv.AppendInt(buf[:at], int64(b.score[i]), 10))
		buf[at] = ','
		at = len(strconv.AppendFloat(buf[:at+1], b.pd[i], 'g', -1, 64))
		at = o.gradeCSV[b.grade[i]].put(buf, at)
		for k := range Reasons {
			if bitutil.BitIsSet(b.valid[k], i) {
				at = o.reasonCSV[b.reason[k][i]].put(buf, at)
			} else {
				buf[at] = ','
				at++
			}
		}
		for k := range Reasons {
			if bitutil.BitIsSet(b.valid[k], i) {
				at = o.textCSV[b.text[k][i]].put(buf, at)
			} else {
				buf[at] = ','
				at++
			}
		}
		buf[at] = ','
		at++
		if flags != nil {
			at = len(appendCSV(buf[:at], flags.Value(i)))
		}
		at = o.decisionCSV[b.dec[i]].put(buf, at)
	}
	return csv[:at]
}

// binNumeric bins the numeric array a into bins; buf is scratch space for
// non-float64 arrays. It returns the fallback count.
func binNumeric(ci *charInfo, a arrow.Array, bins []int32, buf []float64) (int, []float64, error) {
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
		return binFew(vals, valid, off, br, nan, nanFalls, bins), buf, nil
	}
	for i, x := range vals {
		if missing(x, valid, off+i) {
			bins[i] = nan
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
	}
	return fb, buf, nil
}

// missing reports whether value x at bit i of the validity bitmap valid
// (nil: no NULLs) is NULL or NaN: a missing value.
func missing(x float64, valid []byte, i int) bool {
	return x != x || (valid != nil && valid[i>>3]&(1<<(i&7)) == 0)
}

// binFew is binNumeric's loop for 1 to 8 finite breaks: a value's bin is
// the number of breaks at or below it, counted by comparisons unrolled
// for each number of breaks (a comparison costs about half a nanosecond,
// so padding to 8 would double the cost of a typical card). −0 ≥ 0 and
// +Inf is at or above every break, as the binary search has it; NaN and
// NULL are then moved to the missing bin.
func binFew(vals []float64, valid []byte, off int, br []float64, nan int32, nanFalls bool, bins []int32) int {
	bins = bins[:len(vals)]
	var p [8]float64
	copy(p[:], br)
	p0, p1, p2, p3, p4, p5, p6, p7 := p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
	switch len(br) {
	case 1:
		for i, x := range vals {
			bins[i] = ge(x, p0)
		}
	case 2:
		for i, x := range vals {
			bins[i] = ge(x, p0) + ge(x, p1)
		}
	case 3:
		for i, x := range vals {
			bins[i] = ge(x, p0) + ge(x, p1) + ge(x, p2)
		}
	case 4:
		for i, x := range vals {
			bins[i] = ge(x, p0) + ge(x, p1) + ge(x, p2) + ge(x, p3)
		}
	case 5:
		for i, x := range vals {
			bins[i] = ge(x, p0) + ge(x, p1) + ge(x, p2) + ge(x, p3) + ge(x, p4)
		}
	case 6:
		for i, x := range vals {
			bins[i] = ge(x, p0) + ge(x, p1) + ge(x, p2) + ge(x, p3) + ge(x, p4) + ge(x, p5)
		}
	case 7:
		for i, x := range vals {
			bins[i] = ge(x, p0) + ge(x, p1) + ge(x, p2) + ge(x, p3) + ge(x, p4) + ge(x, p5) + ge(x, p6)
		}
	default:
		for i, x := range vals {
			bins[i] = ge(x, p0) + ge(x, p1) + ge(x, p2) + ge(x, p3) + ge(x, p4) + ge(x, p5) + ge(x, p6) + ge(x, p7)
		}
	}
	fb := 0
	for i, x := range vals {
		if x != x {
			bins[i] = nan
			fb++
		}
	}
	if valid != nil {
		// NULLs, a byte of the bitmap at a time; a NULL whose slot
		// holds a NaN was counted above.
		for i := 0; i < len(vals); {
			j := off + i
			if j&7 == 0 && i+8 <= len(vals) && valid[j>>3] == 0xff {
				i += 8
				continue
			}
			if valid[j>>3]&(1<<(j&7)) == 0 {
				if vals[i] == vals[i] {
					fb++
				}
				bins[i] = nan
			}
			i++
		}
	}
	if !nanFalls {
		fb = 0
	}
	return fb
}

// ge is 1 when x ≥ b, else 0 (a SETcc, not a branch).
func ge(x, b float64) int32 {
	if x >= b {
		return 1
	}
	return 0
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
	short [256]shortSlot // values of up to 7 bytes, by key
	slots [256]catSlot
	seen  map[string]catSlot
}

// shortSlot is the code of a value of at most 7 bytes under its key: the
// bytes, little-endian, with the length in the top byte (so no key of a
// value is ^0, the empty slot).
type shortSlot struct {
	key  uint64
	code int32
}

// catSlot is a value (a string the cache owns, not a view into an Arrow
// buffer) with its code.
type catSlot struct {
	v    string
	code int32
	ok   bool
}

func newCatCache(ci *charInfo) *catCache {
	c := &catCache{ci: ci, seen: map[string]catSlot{}}
	for i := range c.short {
		c.short[i].key = ^uint64(0)
	}
	return c
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

func (c *catCache) bin(a arrow.Array, bins []int32) (int, error) {
	fb := 0
	put := func(i int, code int32) {
		if code&fbBit != 0 {
			fb++
			code &^= fbBit
		}
		bins[i] = code
	}
	if x, ok := a.(*array.String); ok {
		return c.binStrings(x, bins), nil
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

// binStrings is bin for a string array. A value of up to 7 bytes is
// looked up by its key (one 8-byte load, a mask and a multiply), others
// by their text.
func (c *catCache) binStrings(x *array.String, bins []int32) (fb int) {
	bins = bins[:x.Len()]
	offs := x.ValueOffsets()
	data := x.ValueBytes()
	base := offs[0]
	var valid []byte
	off := x.Data().Offset()
	if x.NullN() > 0 {
		valid = x.NullBitmapBytes()
	}
	for i := range bins {
		var code int32
		lo, hi := int(offs[i]-base), int(offs[i+1]-base)
		switch n := hi - lo; {
		case valid != nil && valid[(off+i)>>3]&(1<<((off+i)&7)) == 0:
			code = c.ci.null
		case n <= 7 && lo+8 <= len(data):
			key := binary.LittleEndian.Uint64(data[lo:])&(1<<(8*n)-1) | uint64(n)<<56
			sl := &c.short[(key*0x9E3779B97F4A7C15)>>56]
			if sl.key != key {
				sl.key, sl.code = key, c.code(view(data, lo, hi))
			}
			code = sl.code
		default:
			code = c.code(view(data, lo, hi))
		}
		fb += int(code>>30) & 1 // fbBit
		bins[i] = code &^ fbBit
	}
	return fb
}

// view is data[lo:hi] as a string, without a copy: valid while data is.
func view(data []byte, lo, hi int) string {
	if lo == hi {
		return ""
	}
	return unsafe.String(&data[lo], hi-lo)
}

// csvField renders s as a CSV text field: a formula-leading cell
// neutralised (package csvsafe), quoted when it holds a comma, quote or
// line break.
func csvField(s string) string { return csvsafe.Field(s) }

// plainCSV reports whether b holds none of the bytes that make CSV quote
// a field (a whole column's values at once). Each value's first byte is
// still checked for a formula (csvsafe.Risky).
func plainCSV(b []byte) bool {
	return bytes.IndexByte(b, ',') < 0 && bytes.IndexByte(b, '"') < 0 && bytes.IndexByte(b, '\n') < 0 && bytes.IndexByte(b, '\r') < 0
}

func appendCSV(b []byte, s string) []byte { return csvsafe.AppendField(b, s) }

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
