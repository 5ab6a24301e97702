package scorecard

import (
	"math"

	"qiandun/training/binning"
)

// Lookup maps one characteristic's input values to the card's bins with
// the card's fallback for unseen values, value by value, so that a
// column-at-a-time scorer (the score stage) need not build
// binning.Columns. It gives the same bins as Score.
type Lookup struct {
	Kind     binning.Kind
	Breaks   []float64         // numeric: the first break > x is x's bin
	Special  map[float64]int32 // numeric: special values' bins; nil if none
	NaNBin   int32             // numeric: bin of a missing value
	NaNFalls bool              // numeric: a missing value counts as a fallback
	Fixed    []int64           // points of each bin × 10⁴ (exact)
	// Axes, for a pair, are its two inputs' lookups: a row's cell is
	// Axes[0]'s bin × NB + Axes[1]'s bin (Cells); Fixed is per cell.
	Axes [2]*Lookup
	NB   int32
	c    *Characteristic
}

// Lookup returns the characteristic's value-to-bin lookup.
func (c *Characteristic) Lookup() *Lookup {
	if c.IsPair() {
		l := &Lookup{Axes: [2]*Lookup{c.Inputs[0].Lookup(), c.Inputs[1].Lookup()}, NB: int32(len(c.Inputs[1].Bins)), c: c}
		for _, bin := range c.Bins {
			l.Fixed = append(l.Fixed, int64(math.Round(bin.Points*pointScale)))
		}
		return l
	}
	b := c.Binning()
	l := &Lookup{Kind: b.Kind, Breaks: b.Breaks, NaNBin: -1, c: c}
	for k, bin := range c.Bins {
		l.Fixed = append(l.Fixed, int64(math.Round(bin.Points*pointScale)))
		if bin.Missing {
			l.NaNBin = int32(k)
		}
	}
	for k, bin := range b.Bins {
		for _, s := range bin.Specials {
			if l.Special == nil {
				l.Special = map[float64]int32{}
			}
			l.Special[s] = int32(k)
		}
	}
	if l.NaNBin < 0 {
		l.NaNBin, l.NaNFalls = int32(c.Fallback), true
	}
	return l
}

// Num returns the bin of a numeric value (NaN = missing) and whether it
// is the fallback for an unseen value.
func (l *Lookup) Num(x float64) (bin int32, fallback bool) {
	if x != x {
		return l.NaNBin, l.NaNFalls
	}
	if l.Special != nil {
		if k, ok := l.Special[x]; ok {
			return k, false
		}
	}
	lo, hi := 0, len(l.Breaks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l.Breaks[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return int32(lo), false
}

// Cat returns the bin of a categorical value (null = missing) and whether
// it is the fallback for an unseen value. It is not fast: callers that
// see the same values again cache the answer per distinct value.
func (l *Lookup) Cat(v string, null bool) (bin int32, fallback bool) {
	col := &binning.Column{Name: l.c.Name, Kind: binning.Categorical, Codes: []int32{0}, Dict: []string{v}}
	if null {
		col.Codes[0], col.Dict = -1, nil
	}
	b := l.c.Binning()
	idx, _ := b.Index(col)
	if unseen := unseenMask(b, col); unseen != nil && unseen(0) {
		return int32(l.c.Fallback), true
	}
	return idx[0], false
}

// Cells turns a pair's input bins into its cells: a[i] becomes
// a[i]·NB + b[i].
func (l *Lookup) Cells(a, b []int32) {
	b = b[:len(a)]
	for i := range a {
		a[i] = a[i]*l.NB + b[i]
	}
}

// binColumn puts the bins of col in idx (the scoring kernel's loops) and
// returns how many rows took the fallback bin.
func (l *Lookup) binColumn(col *binning.Column, idx []int32) int {
	if col.Kind == binning.Categorical {
		dict := make([]int32, len(col.Dict))
		for d, v := range col.Dict {
			dict[d] = l.CatCode(v, false)
		}
		return BinCodes(col.Codes, dict, l.CatCode("", true), idx)
	}
	return l.BinFloats(col.Num, nil, 0, idx)
}

// Base returns the card's base points × 10⁴; a row's score is
// (Base + Σ Fixed[bin]) / 10⁴, exactly as Score computes it.
func (m *Model) Base() int64 { return int64(math.Round(m.BasePoints * pointScale)) }

// ScoreOf converts a fixed-point total (Base plus the bins' Fixed points)
// to the score.
func ScoreOf(total int64) float64 { return float64(total) / pointScale }
