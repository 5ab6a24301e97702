// Arrow output assembly: the output batch's layout, a unit's reusable
// column buffers and the batch built from them.

package score

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

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
		t.kp = make([]int32, tileRows)
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
