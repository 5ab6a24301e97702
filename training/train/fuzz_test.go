package train_test

import (
	"math"
	"testing"

	"qiandun/training/binning"
	"qiandun/training/train"
)

// FuzzParseBins: parsing any --bins document never panics, and a spec
// that parses is applied to a numeric and a categorical column (with
// missing values) with an error or a binning, never a panic. The seed
// corpus is in testdata/fuzz/FuzzParseBins.
func FuzzParseBins(f *testing.F) {
	f.Add([]byte("age:\n  breaks: [25, 35, 50]\n"))
	n := 60
	num := &binning.Column{Name: "x", Kind: binning.Numeric, Num: make([]float64, n)}
	cat := &binning.Column{Name: "c", Kind: binning.Categorical, Codes: make([]int32, n), Dict: []string{"a", "b", "", "c"}}
	y := make([]float64, n)
	for i := range n {
		num.Num[i] = float64(i%17) - 3
		if i%11 == 0 {
			num.Num[i] = math.NaN()
		}
		cat.Codes[i] = int32(i%5) - 1
		y[i] = float64(i % 3 % 2)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		specs, err := train.ParseBins(doc, "bins.yaml")
		if err != nil {
			return
		}
		for _, s := range specs {
			for _, col := range []*binning.Column{num, cat} {
				b, err := binning.Apply(col, y, s, binning.Options{})
				if err != nil {
					continue
				}
				idx, _ := b.Index(col)
				for _, k := range idx {
					if k < 0 || int(k) >= len(b.Bins) {
						t.Fatalf("spec %+v: a row in bin %d of %d", s, k, len(b.Bins))
					}
				}
			}
		}
	})
}
