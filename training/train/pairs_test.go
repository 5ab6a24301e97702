package train_test

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"testing"

	"qiandun/internal/synthbook"
	"qiandun/training/scorecard"
	"qiandun/training/train"
)

// writeBook writes n rows of x1..x4 (uniform on [0, 1)) and bad, drawn
// with log odds logit(x), to dir/name.
func writeBook(t *testing.T, dir, name string, n int, seed uint64, logit func(x [4]float64) float64) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := synthbook.WriteFile(p, n, seed, logit); err != nil {
		t.Fatal(err)
	}
	return p
}

// trainBook trains the boosted card on the train and test books, with
// maxPairs (negative: none).
func trainBook(t *testing.T, trainCSV, testCSV string, maxPairs int) (*scorecard.Model, string) {
	t.Helper()
	return trainBookWith(t, trainCSV, testCSV, func(c *train.Config) { c.Boost.MaxPairs = maxPairs })
}

// trainBookWith trains the boosted card on the train and test books with
// the settings set makes.
func trainBookWith(t *testing.T, trainCSV, testCSV string, set func(c *train.Config)) (*scorecard.Model, string) {
	t.Helper()
	c := train.NewConfig()
	c.Data, c.Test, c.Target, c.BadValue, c.Name = trainCSV, testCSV, "bad", "1", "book"
	c.Out = t.TempDir()
	c.Method = "boosted"
	set(c)
	res, err := train.Run(context.Background(), c, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return res.Model, res.Dir
}

func testAUC(t *testing.T, m *scorecard.Model) float64 {
	t.Helper()
	for _, s := range m.Metrics {
		if s.Sample == "test" {
			return s.AUC
		}
	}
	t.Fatal("no test metrics")
	return 0
}

// An outcome driven by a pure interaction of x1 and x2 (high risk when
// both are on the same side of 0.5, an XOR: neither has a main effect)
// and a main effect of x3: the boosted card finds the pair x1 × x2, first
// by FAST gain, keeps it (and no other: x3's main effect does not make a
// pair), and it raises the test AUC well above the additive card's; the
// artifact is byte-identical on a second run.
func TestBoostedPairFindsInteraction(t *testing.T) {
	dir := t.TempDir()
	logit := synthbook.XOR
	trainCSV, testCSV := writeBook(t, dir, "train.csv", 4000, 1, logit), writeBook(t, dir, "test.csv", 2000, 2, logit)
	withPair, dirA := trainBook(t, trainCSV, testCSV, 0)
	additive, _ := trainBook(t, trainCSV, testCSV, -1)
	var pair *scorecard.Characteristic
	for j := range withPair.Chars {
		if c := &withPair.Chars[j]; c.IsPair() {
			if pair != nil {
				t.Errorf("a second pair %s", c.Name)
			}
			pair = c
		}
	}
	if pair == nil || pair.Name != "x1_x_x2" || len(pair.Bins) != len(pair.Inputs[0].Bins)*len(pair.Inputs[1].Bins) {
		t.Fatalf("pair: %+v; choices %+v", pair, withPair.Pairs)
	}
	if c := withPair.Pairs[0]; c.Pair != "x1_x_x2" || c.Rank != 1 || !c.Kept || !(c.ValAfter < c.ValMain && c.ValMain <= c.ValBefore) || c.Z < 2 {
		t.Errorf("first choice %+v", c)
	}
	a, b := testAUC(t, withPair), testAUC(t, additive)
	t.Logf("test AUC with the pair %.4f, additive %.4f", a, b)
	if !(a > b+0.05) {
		t.Errorf("test AUC with the pair %.4f, additive %.4f: want at least 0.05 more", a, b)
	}
	_, dirB := trainBook(t, trainCSV, testCSV, 0)
	fa, fb := readDir(t, dirA), readDir(t, dirB)
	if len(fa["pairs.csv"]) == 0 {
		t.Errorf("no pairs.csv")
	}
	for name, x := range fa {
		if !bytes.Equal(x, fb[name]) {
			t.Errorf("%s differs between two runs with the same inputs and seed", name)
		}
	}
}

// An additive outcome (non-linear in x1 and x2, no interaction): pairs
// are tried, none is kept, and each says why in dropped.csv.
func TestBoostedNoInteractionNoPair(t *testing.T) {
	dir := t.TempDir()
	logit := func(x [4]float64) float64 {
		return -1.5 + 2*math.Abs(x[0]-0.4) + 1.5*x[1]*x[1] - 0.8*x[2]
	}
	m, out := trainBook(t, writeBook(t, dir, "train.csv", 4000, 3, logit), writeBook(t, dir, "test.csv", 2000, 4, logit), 0)
	if len(m.Pairs) == 0 {
		t.Fatal("no pair tried")
	}
	for _, c := range m.Chars {
		if c.IsPair() {
			t.Errorf("pair %s kept: %+v", c.Name, m.Pairs)
		}
	}
	drop := string(readDir(t, out)["dropped.csv"])
	for _, c := range m.Pairs {
		if c.Kept || !bytes.Contains([]byte(drop), []byte(c.Pair+",")) {
			t.Errorf("pair %+v kept or not in dropped.csv", c)
		}
	}
}
