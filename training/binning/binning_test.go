package binning_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"qiandun/training/binning"
)

// synth returns a numeric column whose bad rate is the given shape in x,
// with some missing values that are riskier.
func synth(n int, shape func(x float64) float64, seed uint64) (*binning.Column, []float64) {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float64, n)
	y := make([]float64, n)
	for i := range x {
		if r.Float64() < 0.05 {
			x[i] = math.NaN()
			if r.Float64() < 0.5 {
				y[i] = 1
			}
			continue
		}
		x[i] = math.Round(r.NormFloat64()*100) / 10
		if r.Float64() < shape(x[i]) {
			y[i] = 1
		}
	}
	return &binning.Column{Name: "x", Kind: binning.Numeric, Num: x}, y
}

func logistic(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

func regular(b *binning.Binning) []binning.Bin {
	var out []binning.Bin
	for _, bin := range b.Bins {
		if bin.Interval || bin.Values != nil {
			out = append(out, bin)
		}
	}
	return out
}

func TestOptimalMonotonicAndMinShare(t *testing.T) {
	inc := func(x float64) float64 { return logistic(-1.5 + 0.15*x) }
	dec := func(x float64) float64 { return logistic(-1.5 - 0.15*x) }
	peak := func(x float64) float64 { return logistic(-0.5 - 0.02*x*x) }
	valley := func(x float64) float64 { return logistic(-3 + 0.02*x*x) }
	tests := []struct {
		shape func(float64) float64
		mono  binning.Monotonic
		want  string // up, down, peak
	}{
		{inc, binning.Ascending, "up"},
		{inc, binning.Auto, "up"},
		{dec, binning.Descending, "down"},
		{dec, binning.Auto, "down"},
		{peak, binning.Peak, "peak"},
		{peak, binning.Ascending, "up"}, // forced shape holds even against the data
		{peak, binning.Auto, "turn"},    // auto finds a clear peak (BIC over the monotonic fit)
		{valley, binning.Auto, "turn"},  // ... and a U-shape
	}
	for i, tc := range tests {
		t.Run(fmt.Sprint(i, tc.mono), func(t *testing.T) {
			col, y := synth(20000, tc.shape, uint64(i))
			o := binning.Options{Monotonic: tc.mono, MaxBins: 6, MinShare: 0.08}
			b, err := binning.Fit(col, y, o)
			if err != nil {
				t.Fatal(err)
			}
			reg := regular(b)
			if len(reg) > 6 || len(reg) < 2 {
				t.Fatalf("%d regular bins", len(reg))
			}
			for _, bin := range reg {
				if float64(bin.Count) < 0.08*float64(len(y)) {
					t.Errorf("bin %s has %d rows < 8%%", bin.Label, bin.Count)
				}
			}
			checkShape(t, reg, tc.want)
			if last := b.Bins[len(b.Bins)-1]; !last.Missing || last.Count == 0 {
				t.Errorf("no missing bin: %+v", last)
			}
		})
	}
}

func checkShape(t *testing.T, reg []binning.Bin, want string) {
	t.Helper()
	rates := make([]float64, len(reg))
	for i, b := range reg {
		rates[i] = b.BadRate
	}
	if want == "turn" { // one change of direction, either way
		turns := 0
		for i := 2; i < len(rates); i++ {
			if (rates[i] > rates[i-1]) != (rates[i-1] > rates[i-2]) {
				turns++
			}
		}
		if turns != 1 {
			t.Errorf("rates %v: %d turns, want 1", rates, turns)
		}
		return
	}
	turned := false
	for i := 1; i < len(rates); i++ {
		up := rates[i] > rates[i-1]
		switch want {
		case "up":
			if !up {
				t.Errorf("rates not ascending: %v", rates)
			}
		case "down":
			if up {
				t.Errorf("rates not descending: %v", rates)
			}
		case "peak":
			if !up {
				turned = true
			} else if turned {
				t.Errorf("rates rise after falling: %v", rates)
			}
		}
	}
}

// The optimal method finds the partition with the largest IV among all
// monotonic partitions: compare against exhaustive search over the cut
// subsets of a small number of fine classes.
func TestOptimalIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for trial := 0; trial < 15; trial++ {
		n := 3000
		x := make([]float64, n)
		y := make([]float64, n)
		for i := range x {
			x[i] = float64(r.IntN(10))
			p := []float64{.1, .3, .15, .2, .25, .4, .35, .5, .3, .6}[int(x[i])]
			if r.Float64() < p+0.1*r.Float64()*float64(trial%3) {
				y[i] = 1
			}
		}
		col := &binning.Column{Name: "x", Kind: binning.Numeric, Num: x}
		o := binning.Options{Monotonic: binning.Ascending, MaxBins: 4, MinShare: 0.05, FineBins: 10}
		b, err := binning.Fit(col, y, o)
		if err != nil {
			t.Fatal(err)
		}
		best := math.Inf(-1)
		var bestBreaks []float64
		for mask := 0; mask < 1<<9; mask++ {
			var breaks []float64
			for k := 0; k < 9; k++ {
				if mask&(1<<k) != 0 {
					breaks = append(breaks, float64(k+1))
				}
			}
			if len(breaks)+1 > 4 {
				continue
			}
			m, err := binning.Apply(col, y, binning.Spec{Breaks: breaks}, o)
			if err != nil {
				t.Fatal(err)
			}
			ok := true
			for i, bin := range m.Bins {
				if bin.Count < int64(math.Ceil(0.05*float64(n))) || bin.Good == 0 || bin.Bad == 0 ||
					(i > 0 && bin.BadRate <= m.Bins[i-1].BadRate) {
					ok = false
				}
			}
			if ok && m.IV > best {
				best = m.IV
				bestBreaks = breaks
			}
		}
		if math.Abs(b.IV-best) > 1e-12 {
			t.Errorf("trial %d: optimal IV %v (breaks %v), exhaustive %v (breaks %v)", trial, b.IV, b.Breaks, best, bestBreaks)
		}
	}
}

// Shuffling the rows changes nothing.
func TestInvariantToRowOrder(t *testing.T) {
	col, y := synth(5000, func(x float64) float64 { return logistic(-1 + 0.1*x) }, 3)
	cat := &binning.Column{Name: "c", Kind: binning.Categorical, Dict: []string{"a", "b", "c", "d", "e", ""}}
	r := rand.New(rand.NewPCG(5, 5))
	for range y {
		cat.Codes = append(cat.Codes, int32(r.IntN(6)))
	}
	for _, m := range []binning.Method{binning.Optimal, binning.ChiMerge, binning.Tree, binning.EqualFreq} {
		o := binning.Options{Method: m}
		for _, c := range []*binning.Column{col, cat} {
			a, err := binning.Fit(c, y, o)
			if err != nil {
				t.Fatal(err)
			}
			perm := r.Perm(len(y))
			c2 := &binning.Column{Name: c.Name, Kind: c.Kind, Dict: c.Dict}
			y2 := make([]float64, len(y))
			for i, p := range perm {
				y2[i] = y[p]
				if c.Kind == binning.Numeric {
					c2.Num = append(c2.Num, c.Num[p])
				} else {
					c2.Codes = append(c2.Codes, c.Codes[p])
				}
			}
			b, err := binning.Fit(c2, y2, o)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a.Bins, b.Bins) {
				t.Errorf("%s %s: bins differ after shuffling\n%v\n%v", m, c.Name, a.Bins, b.Bins)
			}
		}
	}
}

func TestMethodsRespectMaxBinsAndShare(t *testing.T) {
	col, y := synth(10000, func(x float64) float64 { return logistic(-1 + 0.2*x) }, 11)
	for _, m := range []binning.Method{binning.Optimal, binning.ChiMerge, binning.Tree, binning.EqualFreq} {
		b, err := binning.Fit(col, y, binning.Options{Method: m, MaxBins: 5, MinShare: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		reg := regular(b)
		if len(reg) > 5 || len(reg) < 2 {
			t.Errorf("%s: %d regular bins", m, len(reg))
		}
		if m == binning.EqualFreq {
			continue
		}
		for _, bin := range reg {
			if float64(bin.Count) < 0.1*float64(len(y)) {
				t.Errorf("%s: bin %s has %d rows", m, bin.Label, bin.Count)
			}
		}
	}
}

func TestSpecialsAndMerge(t *testing.T) {
	x := []float64{-999, -999, -999, 1, 2, 3, 4, 5, 6, math.NaN(), math.NaN(), 7}
	y := []float64{1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 1, 0}
	col := &binning.Column{Name: "x", Num: x}
	b, err := binning.Apply(col, y, binning.Spec{Breaks: []float64{4}, Specials: []float64{-999}}, binning.Options{})
	if err != nil {
		t.Fatal(err)
	}
	labels := []string{}
	for _, bin := range b.Bins {
		labels = append(labels, fmt.Sprintf("%s:%d/%d", bin.Label, bin.Good, bin.Bad))
	}
	want := []string{"[-inf,4):2/1", "[4,inf):2/2", "special:-999:1/2", "missing:1/1"}
	if !reflect.DeepEqual(labels, want) {
		t.Errorf("bins %v, want %v", labels, want)
	}
	idx, fb := b.Index(col)
	if fb != 0 || idx[0] != 2 || idx[9] != 3 || idx[3] != 0 || idx[11] != 1 {
		t.Errorf("index %v fallbacks %d", idx, fb)
	}
	m, err := binning.Apply(col, y, binning.Spec{Breaks: []float64{4}, Specials: []float64{-999}}, binning.Options{MergeMissing: true, MergeSpecial: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Bins) != 2 || !m.Bins[1].Missing || m.Bins[1].Count != 9 {
		t.Errorf("merged bins %+v", m.Bins)
	}
}

func TestCategoricalUnseenFallsBack(t *testing.T) {
	col := &binning.Column{Name: "c", Kind: binning.Categorical, Dict: []string{"a", "b", "c"}, Codes: []int32{0, 0, 1, 1, 2, 2, 0, 1}}
	y := []float64{0, 1, 0, 0, 1, 1, 0, 0}
	b, err := binning.Apply(col, y, binning.Spec{Groups: [][]string{{"a", "b"}, {"c"}}}, binning.Options{})
	if err != nil {
		t.Fatal(err)
	}
	test := &binning.Column{Name: "c", Kind: binning.Categorical, Dict: []string{"z", "c", "a"}, Codes: []int32{0, 1, 2, -1}}
	idx, fb := b.Index(test)
	// no missing bin: unseen and missing go to the riskiest bin (group c)
	if fb != 2 || !reflect.DeepEqual(idx, []int32{1, 1, 0, 1}) || b.Fallback != 1 {
		t.Errorf("idx %v fallbacks %d fallback bin %d", idx, fb, b.Fallback)
	}
}

// pearson2x2 is the chi-square statistic of two bins' good/bad counts.
func pearson2x2(a, b binning.Bin) float64 {
	n := float64(a.Count + b.Count)
	g := float64(a.Good + b.Good)
	s := 0.0
	for _, x := range []binning.Bin{a, b} {
		for _, oe := range [][2]float64{{float64(x.Good), float64(x.Count) * g / n}, {float64(x.Bad), float64(x.Count) * (n - g) / n}} {
			s += (oe[0] - oe[1]) * (oe[0] - oe[1]) / oe[1]
		}
	}
	return s
}

// ChiMerge stops only when every adjacent pair differs significantly.
func TestChiMergeStopsAtThreshold(t *testing.T) {
	for seed := uint64(0); seed < 5; seed++ {
		col, y := synth(8000, func(x float64) float64 { return logistic(-1.2 + 0.12*x) }, seed)
		b, err := binning.Fit(col, y, binning.Options{Method: binning.ChiMerge, MaxBins: 8, MinShare: 0.02})
		if err != nil {
			t.Fatal(err)
		}
		reg := regular(b)
		if len(reg) > 8 {
			t.Errorf("%d bins", len(reg))
		}
		for i := 1; i < len(reg); i++ {
			if c := pearson2x2(reg[i-1], reg[i]); c < 3.841 {
				t.Errorf("seed %d: bins %s and %s have chi2 %.3f < 3.841", seed, reg[i-1].Label, reg[i].Label, c)
			}
		}
	}
}

// Categories are grouped by bad rate: groups are runs of the categories
// in bad-rate order, so group bad rates ascend and no category of a later
// group has a lower bad rate than one of an earlier group.
func TestCategoricalGroupsByBadRate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	rates := map[string]float64{"a": 0.05, "b": 0.4, "c": 0.1, "d": 0.3, "e": 0.2, "f": 0.07, "g": 0.5, "h": 0.12}
	cat := &binning.Column{Name: "c", Kind: binning.Categorical}
	for k := range rates {
		cat.Dict = append(cat.Dict, k)
	}
	var y []float64
	for i := 0; i < 20000; i++ {
		c := int32(r.IntN(len(cat.Dict)))
		cat.Codes = append(cat.Codes, c)
		v := 0.0
		if r.Float64() < rates[cat.Dict[c]] {
			v = 1
		}
		y = append(y, v)
	}
	b, err := binning.Fit(cat, y, binning.Options{MaxBins: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Bins) < 2 || len(b.Bins) > 4 {
		t.Fatalf("%d groups", len(b.Bins))
	}
	maxPrev := -1.0
	for i, bin := range b.Bins {
		if i > 0 && bin.BadRate <= b.Bins[i-1].BadRate {
			t.Errorf("group rates not ascending: %v then %v", b.Bins[i-1].BadRate, bin.BadRate)
		}
		lo := 1.0
		for _, v := range bin.Values {
			lo = math.Min(lo, rates[v])
		}
		if lo < maxPrev {
			t.Errorf("group %v holds a category riskier-ordered before an earlier group's", bin.Values)
		}
		for _, v := range bin.Values {
			maxPrev = math.Max(maxPrev, rates[v])
		}
	}
}

// A bad rate with ten steps of equal share wins out of sample with more
// than six bins; a flat one does not.
func TestChooseCVNumberOfBins(t *testing.T) {
	steps := func(k int) func(float64) float64 {
		return func(x float64) float64 {
			// x ~ N(0, 10): the k quantile steps by the normal CDF.
			u := 0.5 * (1 + math.Erf(x/10/math.Sqrt2))
			return 0.03 + 0.5*math.Floor(u*float64(k))/float64(k)
		}
	}
	o := binning.Options{MaxBins: 6, MinShare: 0.05}
	col, y := synth(20000, steps(10), 11)
	c, err := binning.ChooseCV(col, y, o, nil, binning.Choices(o), 5, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxBins <= 6 {
		t.Errorf("ten steps: chose %+v, want more than 6 bins", c)
	}
	// A flat bad rate: no finer binning buys held-out likelihood.
	col, y = synth(20000, func(float64) float64 { return 0.1 }, 12)
	if c, err = binning.ChooseCV(col, y, o, nil, binning.Choices(o), 5, 1, 0); err != nil {
		t.Fatal(err)
	}
	if c.MaxBins > 6 {
		t.Errorf("flat: chose %+v, want at most the base 6 bins", c)
	}
}

// Per-variable overrides in the bins file: specials get bins of their
// own, a forced trend holds, max_bins caps the search; other columns use
// the run's options.
func TestFitAllSpecOverrides(t *testing.T) {
	col, y := synth(5000, func(x float64) float64 { return logistic(-2 + x/5) }, 3)
	for i := 0; i < len(col.Num); i += 25 {
		col.Num[i] = -999 // a bureau's "no record" code
	}
	other := &binning.Column{Name: "z", Kind: binning.Numeric, Num: append([]float64(nil), col.Num...)}
	specs := map[string]binning.Spec{"x": {Specials: []float64{-999}, Monotonic: binning.Descending, MaxBins: 3}}
	bs, errs := binning.FitAll(t.Context(), []*binning.Column{col, other}, y, binning.Options{BinCount: "cv"}, specs, 2)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	x, z := bs[0], bs[1]
	var special bool
	for _, b := range x.Bins {
		special = special || (len(b.Specials) == 1 && b.Specials[0] == -999)
	}
	if !special {
		t.Errorf("x: no special bin for -999: %+v", x.Bins)
	}
	reg := regular(x)
	if len(reg) > 3 {
		t.Errorf("x: %d regular bins, max_bins 3", len(reg))
	}
	for k := 1; k < len(reg); k++ {
		if reg[k].BadRate > reg[k-1].BadRate {
			t.Errorf("x: bad rate rises %v -> %v under monotonic descending", reg[k-1].BadRate, reg[k].BadRate)
		}
	}
	for _, b := range z.Bins {
		if len(b.Specials) > 0 {
			t.Errorf("z: special bin %+v without a spec", b)
		}
	}
}
