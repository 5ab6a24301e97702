package scorecard_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"qiandun/training/binning"
	"qiandun/training/scorecard"
)

// TestLookupMatchesScore checks that value-by-value lookups give the bins,
// fallbacks and scores of Score (which bins whole columns through
// binning.Index) on the reference card with an added special bin and
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
	want, err := m.Score(cols)
	if err != nil {
		t.Fatal(err)
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
			t.Errorf("%s: %d fallbacks by lookup, %d by Score", c.Name, fb, want.Fallbacks[j])
		}
		if fb == 0 && l.NaNFalls {
			t.Errorf("%s: the test values should exercise the fallback", c.Name)
		}
	}
	for i := range n {
		if got := scorecard.ScoreOf(total[i]); got != want.Score[i] {
			t.Fatalf("row %d: score %v by lookup, %v by Score", i, got, want.Score[i])
		}
	}
}
