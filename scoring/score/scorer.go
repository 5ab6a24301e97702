package score

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"qiandun/scoring/monitor"
	"qiandun/training/binning"
	"qiandun/training/scorecard"
)

// Reasons is the number of reason-code columns (reason_1..reason_3).
const Reasons = 3

// Scorer scores Arrow record batches with a scorecard. The arithmetic is
// the card's own (scorecard.Model.Score); Scorer adds the integer score,
// grade, reason codes and decision, column-wise.
type Scorer struct {
	Model *scorecard.Model
	dec   *decider
	chars []charInfo
	rank  []int // rank[j]: position of characteristic j in name order
	// Dictionaries of the string columns; reasonIdx[j][k] indexes the
	// reason of characteristic j's bin k in reasonDict.
	reasonDict, gradeDict, decisionDict arrow.Array
	reasonIdx                           [][]int32
}

type charInfo struct {
	name      string
	kind      binning.Kind
	short     []float64 // points below the best bin, per bin
	reason    []string  // "name=label", per bin
	reasonCSV []string  // the same, quoted for CSV when needed
}

// NewScorer prepares m for scoring under rules.
func NewScorer(m *scorecard.Model, rules Rules) (*Scorer, error) {
	dec, err := newDecider(rules, m.Scaling)
	if err != nil {
		return nil, fmt.Errorf("score: rules: %w", err)
	}
	s := &Scorer{Model: m, dec: dec}
	names := make([]string, len(m.Chars))
	for j := range m.Chars {
		c := &m.Chars[j]
		names[j] = c.Name
		ci := charInfo{name: c.Name, kind: c.Binning().Kind}
		best := math.Inf(-1)
		for _, b := range c.Bins {
			best = math.Max(best, b.Points)
		}
		for _, b := range c.Bins {
			r := c.Name + "=" + b.Label
			ci.short = append(ci.short, best-b.Points)
			ci.reason = append(ci.reason, r)
			ci.reasonCSV = append(ci.reasonCSV, csvField(r))
		}
		s.chars = append(s.chars, ci)
	}
	mem := memory.DefaultAllocator
	rb := array.NewStringBuilder(mem)
	defer rb.Release()
	for _, ci := range s.chars {
		var idx []int32
		for _, r := range ci.reason {
			idx = append(idx, int32(rb.Len()))
			rb.Append(r)
		}
		s.reasonIdx = append(s.reasonIdx, idx)
	}
	s.reasonDict = rb.NewArray()
	for _, vals := range [][]string{Grades[:], {Approve, Review, Decline}} {
		b := array.NewStringBuilder(mem)
		b.AppendValues(vals, nil)
		if s.gradeDict == nil {
			s.gradeDict = b.NewArray()
		} else {
			s.decisionDict = b.NewArray()
		}
		b.Release()
	}
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	s.rank = make([]int, len(names))
	for j, n := range names {
		s.rank[j], _ = slices.BinarySearch(sorted, n)
	}
	return s, nil
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

// OutputSchema is the schema of the batches Score returns.
func OutputSchema(idType, flagsType arrow.DataType) *arrow.Schema {
	if idType == nil {
		idType = arrow.BinaryTypes.String
	}
	if flagsType == nil {
		flagsType = arrow.BinaryTypes.String
	}
	f := []arrow.Field{
		{Name: "entity_id", Type: idType, Nullable: true},
		{Name: "score", Type: arrow.PrimitiveTypes.Int32},
		{Name: "pd", Type: arrow.PrimitiveTypes.Float64},
		{Name: "grade", Type: dictType},
	}
	for k := 1; k <= Reasons; k++ {
		f = append(f, arrow.Field{Name: "reason_" + strconv.Itoa(k), Type: dictType, Nullable: true})
	}
	f = append(f, arrow.Field{Name: "fraud_flags", Type: flagsType, Nullable: true},
		arrow.Field{Name: "decision", Type: dictType})
	return arrow.NewSchema(f, nil)
}

// dictType is the type of the low-cardinality string columns (grade,
// reasons, decision): dictionary-encoded, so that a row costs an index.
var dictType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// CSVHeader is the header line of scores.csv.
const CSVHeader = "entity_id,as_of,model,model_version,score,pd,grade,reason_1,reason_2,reason_3,fraud_flags,decision\n"

// Score scores a unit. csvMid is the constant ",as_of,model,version,"
// text placed after the entity id of every CSV row; an empty csvMid
// skips the CSV.
func (s *Scorer) Score(u *Unit, lay Layout, schema *arrow.Schema, csvMid string) *Result {
	res := &Result{Seq: u.Seq, N: u.N, Decisions: map[string]int64{}}
	cols := make(map[string]*binning.Column, len(s.chars))
	for j, ci := range s.chars {
		c, err := column(ci, u, lay.Chars[j])
		if err != nil {
			res.Err = err
			return res
		}
		cols[ci.name] = c
	}
	sc, err := s.Model.Score(cols)
	if err != nil {
		res.Err = fmt.Errorf("score: %w", err)
		return res
	}
	res.Fallbacks = sc.Fallbacks
	res.Monitor = monitor.New(s.Model)
	res.Monitor.Add(sc.Bin, sc.Score)
	res.PD = sc.PD
	if lay.Target >= 0 {
		t, err := column(charInfo{name: "target", kind: binning.Numeric}, u, lay.Target)
		if err != nil {
			res.Err = err
			return res
		}
		res.Y = t.Num
	}
	mem := memory.DefaultAllocator
	n := u.N
	scoreB := array.NewInt32Builder(mem)
	pdB := array.NewFloat64Builder(mem)
	gradeB := array.NewInt32Builder(mem)
	decB := array.NewInt32Builder(mem)
	var reasonB [Reasons]*array.Int32Builder
	for k := range reasonB {
		reasonB[k] = array.NewInt32Builder(mem)
		reasonB[k].Reserve(n)
		defer reasonB[k].Release()
	}
	defer scoreB.Release()
	defer pdB.Release()
	defer gradeB.Release()
	defer decB.Release()
	scoreB.Reserve(n)
	pdB.Reserve(n)
	gradeB.Reserve(n)
	decB.Reserve(n)
	var csv []byte
	if csvMid != "" {
		csv = make([]byte, 0, n*96)
	}
	type pick struct {
		j, k int
		gap  float64
	}
	var top [Reasons]pick
	row := 0
	for _, rec := range u.Recs {
		var ids, flags stringCol
		if lay.ID >= 0 {
			ids = asStrings(rec.Column(lay.ID))
		}
		if lay.Flags >= 0 {
			flags = asStrings(rec.Column(lay.Flags))
		}
		for r := 0; r < int(rec.NumRows()); r, row = r+1, row+1 {
			is := int32(math.Round(sc.Score[row]))
			g := s.dec.grade(is)
			fl := ""
			if flags != nil {
				fl = flags.value(r)
			}
			d := s.dec.decide(g, fl)
			scoreB.UnsafeAppend(is)
			pdB.UnsafeAppend(sc.PD[row])
			gradeB.UnsafeAppend(int32(g))
			decB.UnsafeAppend(decisionCode(d))
			res.Grades[g]++
			res.Decisions[d]++
			// Top reasons: largest shortfall first, ties by name.
			nt := 0
			for j := range s.chars {
				k := int(sc.Bin[j][row])
				gap := s.chars[j].short[k]
				if !(gap > 0) {
					continue
				}
				p := pick{j, k, gap}
				pos := nt
				for pos > 0 && (top[pos-1].gap < gap || (top[pos-1].gap == gap && s.rank[top[pos-1].j] > s.rank[j])) {
					pos--
				}
				if pos >= Reasons {
					continue
				}
				end := min(nt, Reasons-1)
				copy(top[pos+1:end+1], top[pos:end])
				top[pos] = p
				nt = min(nt+1, Reasons)
			}
			for k := range Reasons {
				if k < nt {
					reasonB[k].UnsafeAppend(s.reasonIdx[top[k].j][top[k].k])
				} else {
					reasonB[k].AppendNull()
				}
			}
			if csvMid != "" {
				if ids != nil {
					csv = appendCSV(csv, ids.value(r))
				} else {
					csv = strconv.AppendInt(csv, u.Start+int64(row)+1, 10)
				}
				csv = append(csv, csvMid...)
				csv = strconv.AppendInt(csv, int64(is), 10)
				csv = append(csv, ',')
				csv = strconv.AppendFloat(csv, sc.PD[row], 'g', -1, 64)
				csv = append(csv, ',')
				csv = append(csv, Grades[g]...)
				for k := range Reasons {
					csv = append(csv, ',')
					if k < nt {
						csv = append(csv, s.chars[top[k].j].reasonCSV[top[k].k]...)
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
	dict := func(b *array.Int32Builder, values arrow.Array) arrow.Array {
		idx := b.NewArray()
		defer idx.Release()
		return array.NewDictionaryArray(dictType, idx, values)
	}
	scoreA, pdA, gradeA, decA := scoreB.NewArray(), pdB.NewArray(), dict(gradeB, s.gradeDict), dict(decB, s.decisionDict)
	defer scoreA.Release()
	defer pdA.Release()
	defer gradeA.Release()
	defer decA.Release()
	var reasonA [Reasons]arrow.Array
	for k := range reasonA {
		reasonA[k] = dict(reasonB[k], s.reasonDict)
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
	fl, err := column(lay.Flags, true)
	if err != nil {
		id.Release()
		res.Err = fmt.Errorf("score: %w", err)
		return res
	}
	arrs := []arrow.Array{id, scoreA, pdA, gradeA}
	arrs = append(arrs, reasonA[:]...)
	arrs = append(arrs, fl, decA)
	res.Recs = []arrow.RecordBatch{array.NewRecordBatch(schema, arrs, int64(n))}
	id.Release()
	fl.Release()
	return res
}

// csvField quotes s for CSV when it holds a comma, quote or line break.
func csvField(s string) string {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
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

// column gathers column c of the unit's batches as the characteristic's
// kind, converting values as training/frame does (so that scores match
// the training code): numbers to float64 with NULL as NaN; strings and
// booleans to categories with NULL as missing; integers as categories
// formatted like strconv 'f' −1.
func column(ci charInfo, u *Unit, c int) (*binning.Column, error) {
	out := &binning.Column{Name: ci.name, Kind: ci.kind}
	if ci.kind == binning.Numeric {
		num := make([]float64, 0, u.N)
		for _, rec := range u.Recs {
			a := rec.Column(c)
			n := a.Len()
			switch x := a.(type) {
			case *array.Float64:
				vals := x.Float64Values()
				if x.NullN() == 0 {
					num = append(num, vals...)
					continue
				}
				for i := range n {
					num = append(num, nanIf(vals[i], x.IsNull(i)))
				}
			case *array.Int32:
				vals := x.Int32Values()
				for i := range n {
					num = append(num, nanIf(float64(vals[i]), x.IsNull(i)))
				}
			case *array.Int64:
				vals := x.Int64Values()
				for i := range n {
					num = append(num, nanIf(float64(vals[i]), x.IsNull(i)))
				}
			case *array.Decimal128:
				scale := x.DataType().(*arrow.Decimal128Type).Scale
				for i := range n {
					num = append(num, nanIf(decimalFloat(x.Value(i), scale), x.IsNull(i)))
				}
			case *array.Float32:
				for i := range n {
					num = append(num, nanIf(float64(x.Value(i)), x.IsNull(i)))
				}
			case *array.Int16:
				for i := range n {
					num = append(num, nanIf(float64(x.Value(i)), x.IsNull(i)))
				}
			case *array.Int8:
				for i := range n {
					num = append(num, nanIf(float64(x.Value(i)), x.IsNull(i)))
				}
			case *array.Uint8:
				for i := range n {
					num = append(num, nanIf(float64(x.Value(i)), x.IsNull(i)))
				}
			case *array.Uint16:
				for i := range n {
					num = append(num, nanIf(float64(x.Value(i)), x.IsNull(i)))
				}
			case *array.Uint32:
				for i := range n {
					num = append(num, nanIf(float64(x.Value(i)), x.IsNull(i)))
				}
			case *array.Uint64:
				for i := range n {
					num = append(num, nanIf(float64(x.Value(i)), x.IsNull(i)))
				}
			default:
				return nil, fmt.Errorf("score: characteristic %s is numeric but its column is %s", ci.name, a.DataType())
			}
		}
		out.Num = num
		return out, nil
	}
	codes := make([]int32, 0, u.N)
	index := map[string]int32{}
	add := func(s string, null bool) {
		if null {
			codes = append(codes, -1)
			return
		}
		k, ok := index[s]
		if !ok {
			k = int32(len(out.Dict))
			index[s] = k
			out.Dict = append(out.Dict, s)
		}
		codes = append(codes, k)
	}
	for _, rec := range u.Recs {
		a := rec.Column(c)
		n := a.Len()
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
			return nil, fmt.Errorf("score: characteristic %s is categorical but its column is %s", ci.name, a.DataType())
		default:
			if !arrow.IsInteger(a.DataType().ID()) {
				return nil, fmt.Errorf("score: characteristic %s is categorical but its column is %s", ci.name, a.DataType())
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
