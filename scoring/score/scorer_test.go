package score_test

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"qiandun/scoring/score"
	"qiandun/training/binning"
	"qiandun/training/scorecard"
)

func fp(v float64) *float64 { return &v }

// handModel is a card of three numeric characteristics, each cut at 5
// into [-inf,5) and [5,inf), whose low bin scores 10 points below the
// high one for b and a, and 4 below for c: rows below 5 everywhere tie
// between a and b.
func handModel() *scorecard.Model {
	char := func(name string, gap float64) scorecard.Characteristic {
		return scorecard.Characteristic{Name: name, Kind: "numeric", Breaks: []float64{5}, Bins: []scorecard.Bin{
			{Bin: binning.Bin{Label: "[-inf,5)", Interval: true, Upper: fp(5), Count: 50}, Points: 20 - gap},
			{Bin: binning.Bin{Label: "[5,inf)", Interval: true, Lower: fp(5), Count: 50}, Points: 20},
		}}
	}
	return &scorecard.Model{Name: "hand", Version: "v1", Scaling: scorecard.DefaultScaling(), BasePoints: 500,
		Chars: []scorecard.Characteristic{char("b", 10), char("c", 4), char("a", 10)}}
}

// TestReasonsAndTies: reason codes are the characteristics furthest below
// their best bin, largest shortfall first and ties by name, as
// scorecard.Model.Reasons gives them; scores are the card's arithmetic.
func TestReasonsAndTies(t *testing.T) {
	m := handModel()
	s, err := score.NewScorer(m, score.DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string][]float64{"b": {1, 9, 1, 9}, "c": {1, 1, 9, 9}, "a": {1, 9, 9, 9}}
	mem := memory.DefaultAllocator
	var fields []arrow.Field
	var arrs []arrow.Array
	cols := map[string]*binning.Column{}
	for _, c := range m.Chars {
		b := array.NewFloat64Builder(mem)
		b.AppendValues(vals[c.Name], nil)
		arrs = append(arrs, b.NewArray())
		fields = append(fields, arrow.Field{Name: c.Name, Type: arrow.PrimitiveTypes.Float64})
		cols[c.Name] = &binning.Column{Name: c.Name, Num: vals[c.Name]}
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, 4)
	defer rec.Release()
	out, err := s.NewOutput("2024-01-31", 4, false, true)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	res := s.Score(&score.Unit{Recs: []arrow.RecordBatch{rec}, N: 4}, score.Layout{ID: -1, Chars: []int{0, 1, 2}, Flags: -1, Target: -1}, out)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	defer s.Release(res)
	want := []struct {
		score   int32
		reasons [3]string
		texts   [3]string
	}{
		// a, b and c are not in the reason catalog: the text is the
		// name and the rounded bin.
		{536, [3]string{"a_low", "b_low", "c_low"}, [3]string{"a in [-inf, 5)", "b in [-inf, 5)", "c in [-inf, 5)"}},
		{556, [3]string{"c_low"}, [3]string{"c in [-inf, 5)"}},
		{550, [3]string{"b_low"}, [3]string{"b in [-inf, 5)"}},
		{560, [3]string{}, [3]string{}},
	}
	rec2 := res.Rec
	sc, _ := m.Score(cols)
	for i, w := range want {
		if got := rec2.Column(4).(*array.Int32).Value(i); got != w.score || float64(got) != sc.Score[i] {
			t.Errorf("row %d: score %d, want %d (card %v)", i, got, w.score, sc.Score[i])
		}
		if pd := rec2.Column(5).(*array.Float64).Value(i); math.Abs(pd-m.Scaling.PD(float64(w.score))) > 1e-15 {
			t.Errorf("row %d: pd %v", i, pd)
		}
		card := m.Reasons(sc, i, 3)
		for k := range 3 {
			col := rec2.Column(7 + k).(*array.Dictionary)
			got := ""
			if col.IsValid(i) {
				got = out.Reason(col.GetValueIndex(i))
			}
			if got != w.reasons[k] {
				t.Errorf("row %d reason %d: %q, want %q", i, k+1, got, w.reasons[k])
			}
			if k < len(card) && card[k].Code != got {
				t.Errorf("row %d reason %d: %q, Model.Reasons %v", i, k+1, got, card[k])
			}
			tcol := rec2.Column(10 + k).(*array.Dictionary)
			text := ""
			if tcol.IsValid(i) {
				text = out.ReasonText(tcol.GetValueIndex(i))
			}
			if text != w.texts[k] || (k < len(card) && card[k].Text != text) {
				t.Errorf("row %d reason_text_%d: %q, want %q", i, k+1, text, w.texts[k])
			}
		}
	}
	wantCSV := "1,2024-01-31,hand,v1,536," + ftoa(m.Scaling.PD(536)) + ",D,a_low,b_low,c_low,\"a in [-inf, 5)\",\"b in [-inf, 5)\",\"c in [-inf, 5)\",,review\n" // PD 15.5%: grade D (10–20%)
	if got := string(res.CSV); len(got) < len(wantCSV) || got[:len(wantCSV)] != wantCSV {
		t.Errorf("CSV row 1:\n%s\nwant\n%s", got, wantCSV)
	}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// TestCSVQuotesIDs: an entity id holding a comma, quote or line break is
// quoted in scores.csv (RFC 4180), one starting with a formula character
// gets a leading quote, and ids in a batch with none are written as they
// are.
func TestCSVQuotesIDs(t *testing.T) {
	m := handModel()
	s, err := score.NewScorer(m, score.DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.DefaultAllocator
	batch := func(ids []string) arrow.RecordBatch {
		fields := []arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}}
		ib := array.NewStringBuilder(mem)
		ib.AppendValues(ids, nil)
		arrs := []arrow.Array{ib.NewArray()}
		for _, c := range m.Chars {
			b := array.NewFloat64Builder(mem)
			b.AppendValues(make([]float64, len(ids)), nil)
			arrs = append(arrs, b.NewArray())
			fields = append(fields, arrow.Field{Name: c.Name, Type: arrow.PrimitiveTypes.Float64})
		}
		return array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(len(ids)))
	}
	out, err := s.NewOutput("2024-01-31", 4, false, true)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	for _, tc := range []struct {
		ids  []string
		want []string
	}{
		{[]string{"a1", "b2"}, []string{"a1", "b2"}},
		{[]string{"a,1", `q"x`, "plain", "line\nbreak"}, []string{`"a,1"`, `"q""x"`, "plain", "\"line\nbreak\""}},
		// Formula-leading ids are neutralised (OWASP CSV injection), in a
		// batch that needs no quoting and in one that does; a number stays.
		{[]string{"=1+1", "+x", "-5", "@SUM(A1)", "ok"}, []string{"'=1+1", "'+x", "-5", "'@SUM(A1)", "ok"}},
		{[]string{"=cmd|' /C calc'!A0", "\tx", "a,b", "-2+3"}, []string{"'=cmd|' /C calc'!A0", "'\tx", `"a,b"`, "'-2+3"}},
	} {
		rec := batch(tc.ids)
		res := s.Score(&score.Unit{Recs: []arrow.RecordBatch{rec}, N: len(tc.ids)}, score.Layout{ID: 0, Chars: []int{1, 2, 3}, Flags: -1, Target: -1}, out)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		csv := string(res.CSV)
		s.Release(res)
		for i, w := range tc.want {
			if !strings.HasPrefix(csv, w+",2024-01-31,") {
				t.Fatalf("row %d: %q, want it to start with %q", i, csv, w)
			}
			csv = csv[strings.Index(csv, ",review\n")+len(",review\n"):]
		}
		rec.Release()
	}
}

// TestTiles: a batch longer than a tile (the scorer works 2,048 rows at a
// time) scores row for row as the training code does, NULLs included.
func TestTiles(t *testing.T) {
	m := handModel()
	s, err := score.NewScorer(m, score.DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	mem := memory.DefaultAllocator
	var fields []arrow.Field
	var arrs []arrow.Array
	cols := map[string]*binning.Column{}
	for j, c := range m.Chars {
		b := array.NewFloat64Builder(mem)
		num := make([]float64, n)
		for i := range n {
			num[i] = float64((i*7+j*3)%11) - 0.5
			if (i+j)%13 == 0 {
				b.AppendNull()
				num[i] = math.NaN()
			} else {
				b.Append(num[i])
			}
		}
		arrs = append(arrs, b.NewArray())
		fields = append(fields, arrow.Field{Name: c.Name, Type: arrow.PrimitiveTypes.Float64, Nullable: true})
		cols[c.Name] = &binning.Column{Name: c.Name, Num: num}
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, n)
	defer rec.Release()
	out, err := s.NewOutput("2024-01-31", n, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	res := s.Score(&score.Unit{Recs: []arrow.RecordBatch{rec}, N: n}, score.Layout{ID: -1, Chars: []int{0, 1, 2}, Flags: -1, Target: -1}, out)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	defer s.Release(res)
	sc, err := m.Score(cols)
	if err != nil {
		t.Fatal(err)
	}
	got := res.Rec.Column(4).(*array.Int32)
	for i := range n {
		if want := int32(math.Round(sc.Score[i])); got.Value(i) != want {
			t.Fatalf("row %d: score %d, want %d", i, got.Value(i), want)
		}
	}
}

// TestUnitStrings: a unit of several batches carries each row's entity id
// and fraud flags, NULLs included, to the output batch, the two columns'
// NULLs kept apart.
func TestUnitStrings(t *testing.T) {
	m := handModel()
	s, err := score.NewScorer(m, score.DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.DefaultAllocator
	batch := func(ids, flags []string, idOK, flOK []bool) arrow.RecordBatch {
		fields := []arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String, Nullable: true}, {Name: "flags", Type: arrow.BinaryTypes.String, Nullable: true}}
		ib, fb := array.NewStringBuilder(mem), array.NewStringBuilder(mem)
		ib.AppendValues(ids, idOK)
		fb.AppendValues(flags, flOK)
		arrs := []arrow.Array{ib.NewArray(), fb.NewArray()}
		for _, c := range m.Chars {
			b := array.NewFloat64Builder(mem)
			b.AppendValues(make([]float64, len(ids)), nil)
			arrs = append(arrs, b.NewArray())
			fields = append(fields, arrow.Field{Name: c.Name, Type: arrow.PrimitiveTypes.Float64})
		}
		return array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(len(ids)))
	}
	r1 := batch([]string{"a", "b"}, []string{"", "x"}, nil, []bool{true, false})
	r2 := batch([]string{"c", "d"}, []string{"y", ""}, []bool{false, true}, nil)
	defer r1.Release()
	defer r2.Release()
	out, err := s.NewOutput("2024-01-31", 4, true, false)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	res := s.Score(&score.Unit{Recs: []arrow.RecordBatch{r1, r2}, N: 4}, score.Layout{ID: 0, Chars: []int{2, 3, 4}, Flags: 1, Target: -1}, out)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	defer s.Release(res)
	ids := res.Rec.Column(0).(*array.String)
	flags := res.Rec.Column(13).(*array.String)
	wantIDs := []string{"a", "b", "", "d"}
	wantFlags := []string{"", "", "y", ""}
	for i := range 4 {
		if got := ids.IsNull(i); got != (i == 2) || !got && ids.Value(i) != wantIDs[i] {
			t.Errorf("row %d: id %q (null %v)", i, ids.Value(i), got)
		}
		if got := flags.IsNull(i); got != (i == 1) || !got && flags.Value(i) != wantFlags[i] {
			t.Errorf("row %d: flags %q (null %v)", i, flags.Value(i), got)
		}
	}
}
