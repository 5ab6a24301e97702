//go:build duckdb_arrow

package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"qiandun/training/binning"
	"qiandun/training/frame"
)

// TestGatherInPlaceEqualsGather: moving the train rows to the front of
// the frame's own columns gives the same sample as copying them, for the
// stratified split's row lists and for a list out of order (which falls
// back to copying); the test rows copied out first are intact.
func TestGatherInPlaceEqualsGather(t *testing.T) {
	const n = 5000
	r := rand.New(rand.NewPCG(7, 7))
	mk := func() *frame.Frame {
		fr := &frame.Frame{N: n, Cols: map[string]*binning.Column{}}
		rr := rand.New(rand.NewPCG(3, 3))
		num := &binning.Column{Name: "x", Kind: binning.Numeric, Num: make([]float64, n)}
		cat := &binning.Column{Name: "c", Kind: binning.Categorical, Codes: make([]int32, n), Dict: []string{"a", "b", "c"}}
		for i := range n {
			num.Num[i] = rr.NormFloat64()
			if i%17 == 0 {
				num.Num[i] = math.NaN()
			}
			cat.Codes[i] = int32(rr.IntN(4)) - 1
		}
		fr.Cols["x"], fr.Cols["c"] = num, cat
		fr.Names = []string{"x", "c"}
		return fr
	}
	y := make([]float64, n)
	all := make([]int, n)
	for i := range y {
		y[i] = float64(r.IntN(2))
		all[i] = i
	}
	trainIdx, testIdx := stratifiedSplit(all, y, 0.3, 1)
	shuffled := slices.Clone(trainIdx)
	r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
	names := []string{"x", "c"}
	for _, tc := range []struct {
		name string
		idx  []int
	}{{"ascending", trainIdx}, {"shuffled", shuffled}, {"empty", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			want := gather("train", mk(), names, y, tc.idx)
			wantTest := gather("test", mk(), names, y, testIdx)
			fr := mk()
			test := gather("test", fr, names, y, testIdx)
			got := gatherInPlace("train", fr, names, y, tc.idx)
			for _, s := range [][2]*sample{{got, want}, {test, wantTest}} {
				if s[0].n != s[1].n || !slices.Equal(s[0].y, s[1].y) {
					t.Fatalf("%s: n %d vs %d or y differ", s[0].name, s[0].n, s[1].n)
				}
				for _, c := range names {
					g, w := s[0].cols[c], s[1].cols[c]
					if !slices.EqualFunc(g.Num, w.Num, func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }) || !slices.Equal(g.Codes, w.Codes) {
						t.Fatalf("%s: column %s differs from gather's", s[0].name, c)
					}
				}
			}
		})
	}
}

// TestGatherSplitInPlaceEqualsGather: the train and test samples laid
// out in the frame's own columns equal gather's copies, for the
// stratified split and for row lists out of order (the fallbacks).
func TestGatherSplitInPlaceEqualsGather(t *testing.T) {
	const n = 4000
	r := rand.New(rand.NewPCG(8, 8))
	mk := func() *frame.Frame {
		rr := rand.New(rand.NewPCG(4, 4))
		fr := &frame.Frame{N: n, Names: []string{"x", "c"}, Cols: map[string]*binning.Column{
			"x": {Name: "x", Kind: binning.Numeric, Num: make([]float64, n)},
			"c": {Name: "c", Kind: binning.Categorical, Codes: make([]int32, n), Dict: []string{"a", "b"}}}}
		for i := range n {
			fr.Cols["x"].Num[i] = rr.NormFloat64()
			fr.Cols["c"].Codes[i] = int32(rr.IntN(3)) - 1
		}
		return fr
	}
	y := make([]float64, n)
	all := make([]int, 0, n)
	for i := range y {
		y[i] = float64(r.IntN(2))
		if i%9 != 4 { // some rows in neither sample (no target)
			all = append(all, i)
		}
	}
	trainIdx, testIdx := stratifiedSplit(all, y, 0.3, 1)
	shuffle := func(v []int) []int {
		v = slices.Clone(v)
		r.Shuffle(len(v), func(a, b int) { v[a], v[b] = v[b], v[a] })
		return v
	}
	names := []string{"x", "c"}
	for _, tc := range []struct {
		name        string
		train, test []int
	}{{"split", trainIdx, testIdx}, {"test shuffled", trainIdx, shuffle(testIdx)}, {"train shuffled", shuffle(trainIdx), testIdx}} {
		t.Run(tc.name, func(t *testing.T) {
			wantTr, wantTe := gather("train", mk(), names, y, tc.train), gather("test", mk(), names, y, tc.test)
			gotTr, gotTe := gatherSplitInPlace(mk(), names, y, tc.train, tc.test)
			for _, s := range [][2]*sample{{gotTr, wantTr}, {gotTe, wantTe}} {
				if s[0].name != s[1].name || s[0].n != s[1].n || !slices.Equal(s[0].y, s[1].y) {
					t.Fatalf("%s: n %d vs %d or y differ", s[1].name, s[0].n, s[1].n)
				}
				for _, c := range names {
					g, w := s[0].cols[c], s[1].cols[c]
					if !slices.Equal(g.Num, w.Num) || !slices.Equal(g.Codes, w.Codes) {
						t.Fatalf("%s: column %s differs from gather's", s[1].name, c)
					}
				}
			}
		})
	}
}

// TestStratifiedSplitKeepsOrderAndShares: every row lands in exactly one
// sample, both in row order, with round(share·n) of each class in test.
func TestStratifiedSplitKeepsOrderAndShares(t *testing.T) {
	y := make([]float64, 1001)
	idx := make([]int, 0, len(y))
	for i := range y {
		y[i] = float64(i % 7 / 6) // 1 in 7 bad
		if i%5 != 0 {
			idx = append(idx, i)
		}
	}
	train, test := stratifiedSplit(idx, y, 0.3, 9)
	if !slices.IsSorted(train) || !slices.IsSorted(test) || len(train)+len(test) != len(idx) {
		t.Fatalf("train %d, test %d of %d rows, sorted %v %v", len(train), len(test), len(idx), slices.IsSorted(train), slices.IsSorted(test))
	}
	merged := slices.Sorted(slices.Values(append(slices.Clone(train), test...)))
	if !slices.Equal(merged, idx) {
		t.Fatal("the two samples are not a partition of the rows")
	}
	for _, cls := range []float64{0, 1} {
		var nAll, nTest int
		for _, i := range idx {
			if y[i] == cls {
				nAll++
			}
		}
		for _, i := range test {
			if y[i] == cls {
				nTest++
			}
		}
		if want := int(math.Round(0.3 * float64(nAll))); nTest != want {
			t.Errorf("class %v: %d in test, want %d", cls, nTest, want)
		}
	}
}
