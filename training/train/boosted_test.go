package train_test

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"qiandun/training/binning"
	"qiandun/training/scorecard"
	"qiandun/training/train"
)

// pointsTrend says whether the points of c's interval bins, in order,
// never fall (rising), never rise (falling), both (flat) or neither.
func pointsTrend(c scorecard.Characteristic) (rising, falling bool) {
	rising, falling = true, true
	prev := math.NaN()
	for _, b := range c.Bins {
		if !b.Interval {
			continue
		}
		if !math.IsNaN(prev) {
			rising = rising && b.Points >= prev-1e-9
			falling = falling && b.Points <= prev+1e-9
		}
		prev = b.Points
	}
	return rising, falling
}

// A book where risk rises with x1 (a step at 0.5 on a slight slope), falls with x2 and is U-shaped in x3:
// under the default monotonic: auto the boosted card's tables of x1 and
// x2 are monotone over their ordered bins (points fall as risk rises), x3
// stays free to bend both ways; with monotonic: none the 255 fine bins
// of x1 pick up the noise, and its table is not monotone, which is what
// the constraint removes.
func TestBoostedMonotoneTables(t *testing.T) {
	dir := t.TempDir()
	logit := func(x [4]float64) float64 {
		s := 0.0
		if x[0] >= 0.5 {
			s = 1
		}
		return -1.5 + s + 0.6*x[0] - 1.0*x[1] + 3*math.Abs(x[2]-0.5)
	}
	trainCSV, testCSV := writeBook(t, dir, "train.csv", 6000, 5, logit), writeBook(t, dir, "test.csv", 2000, 6, logit)
	fit := func(mono binning.Monotonic) map[string]scorecard.Characteristic {
		m, _ := trainBookWith(t, trainCSV, testCSV, func(c *train.Config) { c.Boost.MaxPairs, c.Binning.Monotonic = -1, mono })
		chars := map[string]scorecard.Characteristic{}
		for _, ch := range m.Chars {
			chars[ch.Name] = ch
		}
		return chars
	}
	auto := fit(binning.Auto)
	for _, want := range []struct {
		name            string
		rising, falling bool // of the points: falling points = rising risk
	}{{"x1", false, true}, {"x2", true, false}} {
		c, ok := auto[want.name]
		if !ok {
			t.Fatalf("%s not in the card", want.name)
		}
		r, f := pointsTrend(c)
		if r != want.rising || f != want.falling {
			t.Errorf("%s: points rising %v falling %v, want %v %v (%d bins)", want.name, r, f, want.rising, want.falling, len(c.Bins))
		}
	}
	if r, f := pointsTrend(auto["x3"]); r || f {
		t.Errorf("x3 (U-shaped) constrained: points rising %v falling %v", r, f)
	}
	if r, f := pointsTrend(fit(binning.None)["x1"]); r || f {
		t.Errorf("x1 with monotonic none: points rising %v falling %v, want the noise of free fine bins", r, f)
	}
}

// Bagging lowers the variance of a small book's card: on additive books
// of 3,000 train rows (risk linear in x1, falling in x2, U-shaped in x3,
// x4 noise), the mean of five bags' tables (the default below 200,000
// rows) ranks a 20,000-row test book better than one bag's tables, book
// after book; and the bagged card is the same bytes run after run.
func TestBoostedBagsBeatOneBag(t *testing.T) {
	logit := func(x [4]float64) float64 {
		return -1.8 + 1.2*x[0] - 0.9*x[1] + 2.5*math.Abs(x[2]-0.5)
	}
	dir := t.TempDir()
	testCSV := writeBook(t, dir, "test.csv", 20000, 99, logit)
	fit := func(trainCSV string, bags int) (*scorecard.Model, string) {
		return trainBookWith(t, trainCSV, testCSV, func(c *train.Config) { c.Boost.MaxPairs, c.Boost.Bags = -1, bags })
	}
	var gain float64
	for seed := uint64(1); seed <= 3; seed++ {
		trainCSV := writeBook(t, dir, fmt.Sprintf("train%d.csv", seed), 3000, seed, logit)
		one, _ := fit(trainCSV, 1)
		bagged, d1 := fit(trainCSV, 0)
		a1, a5 := testAUC(t, one), testAUC(t, bagged)
		t.Logf("book %d: test AUC one bag %.4f, five bags %.4f", seed, a1, a5)
		if a5 <= a1 {
			t.Errorf("book %d: five bags' test AUC %.4f not above one bag's %.4f", seed, a5, a1)
		}
		gain += a5 - a1
		if seed == 1 {
			_, d2 := fit(trainCSV, 0)
			b1, err1 := os.ReadFile(filepath.Join(d1, "model.json"))
			b2, err2 := os.ReadFile(filepath.Join(d2, "model.json"))
			if err1 != nil || err2 != nil || !bytes.Equal(b1, b2) {
				t.Errorf("bagged card not the same bytes on a second run (%v %v)", err1, err2)
			}
		}
	}
	t.Logf("mean test AUC gain of five bags %.4f", gain/3)
}
