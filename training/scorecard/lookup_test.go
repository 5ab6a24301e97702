package scorecard_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"qiandun/training/binning"
	"qiandun/training/scorecard"
)

// TestLookupMatchesScore checks that value-by-value lookups and Score (the
// scoring kernel over whole columns) give the bins, points, fallbacks and
// scores of an independent reference (refScore: binning.Index, then the
// card's fallback) on the reference card with an added special bin and
// missing bin, over values between, at and beyond the breaks, NaN,
// specials, unseen categories, empty strings and NULLs.
func TestLookupMatchesScore(t *testing.T) {
	m, d := refModel(t, scorecard.DefaultScaling())
	dir := t.TempDir()
	path, err := m.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err = scorecard.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var num, cat bool
	for j := range m.Chars {
		c := &m.Chars[j]
		if c.Kind == "numeric" && !num {
			num = true
			c.Bins = append(c.Bins, scorecard.Bin{Bin: binning.Bin{Label: "special:-1", Specials: []float64{-1}}, Points: -7.5})
			c.Bins = append(c.Bins, scorecard.Bin{Bin: binning.Bin{Label: "missing", Missing: true}, Points: 3.25})
		}
		cat = cat || c.Kind == "categorical"
	}
	if !num || !cat {
		t.Fatal("the reference card should have numeric and categorical characteristics")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 5000
	cols := map[string]*binning.Column{}
	type catVal struct {
		v    string
		null bool
	}
	catVals := map[string][]catVal{}
	for j := range m.Chars {
		c := &m.Chars[j]
		src := d.Cols[c.Name]
		col := &binning.Column{Name: c.Name, Kind: src.Kind}
		if src.Kind == binning.Numeric {
			for i := range n {
				var x float64
				switch i % 7 {
				case 0:
					x = math.NaN()
				case 1:
					x = -1
				case 2:
					if len(c.Breaks) > 0 {
						x = c.Breaks[rng.IntN(len(c.Breaks))]
					}
				case 3:
					x = rng.NormFloat64() * 1e4
				default:
					x = src.Num[rng.IntN(len(src.Num))]
				}
				col.Num = append(col.Num, x)
			}
		} else {
			col.Dict = append(append([]string{}, src.Dict...), "", "never-seen")
			for range n {
				code := int32(rng.IntN(len(col.Dict)+1)) - 1
				col.Codes = append(col.Codes, code)
				cv := catVal{null: code < 0}
				if code >= 0 {
					cv.v = col.Dict[code]
				}
				catVals[c.Name] = append(catVals[c.Name], cv)
			}
		}
		cols[c.Name] = col
	}
	want := refScore(m, cols)
	got, err := m.Score(cols)
	if err != nil {
		t.Fatal(err)
	}
	for j, c := range m.Chars {
		for i := range n {
			if got.Bin[j][i] != want.Bin[j][i] {
				t.Fatalf("%s row %d: Score bin %d, reference %d", c.Name, i, got.Bin[j][i], want.Bin[j][i])
			}
		}
		if got.Fallbacks[j] != want.Fallbacks[j] {
			t.Errorf("%s: Score counts %d fallbacks, reference %d", c.Name, got.Fallbacks[j], want.Fallbacks[j])
		}
	}
	for i := range n {
		if got.Score[i] != want.Score[i] || got.PD[i] != want.PD[i] {
			t.Fatalf("row %d: Score %v (PD %v), reference %v (%v)", i, got.Score[i], got.PD[i], want.Score[i], want.PD[i])
		}
	}
	total := make([]int64, n)
	for i := range total {
		total[i] = m.Base()
	}
	for j := range m.Chars {
		c := &m.Chars[j]
		l := c.Lookup()
		fb := 0
		for i := range n {
			var k int32
			var f bool
			if l.Kind == binning.Numeric {
				k, f = l.Num(cols[c.Name].Num[i])
			} else {
				cv := catVals[c.Name][i]
				k, f = l.Cat(cv.v, cv.null)
			}
			if k != want.Bin[j][i] {
				t.Fatalf("%s row %d: lookup bin %d, Score bin %d", c.Name, i, k, want.Bin[j][i])
			}
			if f {
				fb++
			}
			total[i] += l.Fixed[k]
		}
		if fb != want.Fallbacks[j] {
			t.Errorf("%s: %d fallbacks by lookup, %d by the reference", c.Name, fb, want.Fallbacks[j])
		}
		if fb == 0 && l.NaNFalls {
			t.Errorf("%s: the test values should exercise the fallback", c.Name)
		}
	}
	for i := range n {
		if got := scorecard.ScoreOf(total[i]); got != want.Score[i] {
			t.Fatalf("row %d: score %v by lookup, %v by the reference", i, got, want.Score[i])
		}
	}
}

// refScore scores cols the way Score did before it ran the scoring kernel,
// an independent reference: binning.Index bins whole columns, then a value
// with no bin of its own (an unseen category, a missing value without a
// missing bin) takes the card's fallback bin; the score is the sum of the
// bins' points rounded to the card's fixed point.
func refScore(m *scorecard.Model, cols map[string]*binning.Column) *scorecard.Scores {
	s := &scorecard.Scores{}
	var total []int64
	for j := range m.Chars {
		c := &m.Chars[j]
		col := cols[c.Name]
		b := c.Binning()
		idx, _ := b.Index(col)
		hasMissing := false
		for _, bin := range b.Bins {
			hasMissing = hasMissing || bin.Missing
		}
		if total == nil {
			total = make([]int64, len(idx))
		}
		pts := make([]float64, len(idx))
		fb := 0
		for i := range idx {
			var unseen bool
			switch {
			case col.Kind == binning.Numeric:
				unseen = math.IsNaN(col.Num[i]) && !hasMissing
			case col.Codes[i] < 0:
				unseen = !hasMissing
			default:
				v := col.Dict[col.Codes[i]]
				unseen = !(v == "" && hasMissing)
				for _, bin := range b.Bins {
					if slices.Contains(bin.Values, v) {
						unseen = false
					}
				}
			}
			if unseen {
				idx[i] = int32(c.Fallback)
				fb++
			}
			pts[i] = c.Bins[idx[i]].Points
			total[i] += int64(math.Round(pts[i] * 1e4))
		}
		s.Bin, s.Fallbacks = append(s.Bin, idx), append(s.Fallbacks, fb)
	}
	for _, t := range total {
		sc := float64(t+int64(math.Round(m.BasePoints*1e4))) / 1e4
		s.Score, s.PD = append(s.Score, sc), append(s.PD, m.Scaling.PD(sc))
	}
	return s
}
