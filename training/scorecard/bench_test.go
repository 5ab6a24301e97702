package scorecard_test

import (
	"testing"

	"qiandun/internal/benchutil"
	"qiandun/training/binning"
	"qiandun/training/scorecard"
)

// BenchmarkScore scores 1,000,000 rows with the German credit card (12
// characteristics, numeric and categorical): the column-oriented scorer
// the score stage uses.
func BenchmarkScore(b *testing.B) {
	m, d := refModel(b, scorecard.DefaultScaling())
	n := benchutil.Scale(1_000_000, 50_000)
	cols := map[string]*binning.Column{}
	for _, c := range m.Chars {
		src := d.Cols[c.Name]
		o := &binning.Column{Name: c.Name, Kind: src.Kind, Dict: src.Dict}
		for i := 0; i < n; i++ {
			k := i % src.Len()
			if src.Kind == binning.Numeric {
				o.Num = append(o.Num, src.Num[k])
			} else {
				o.Codes = append(o.Codes, src.Codes[k])
			}
		}
		cols[c.Name] = o
	}
	b.ResetTimer()
	for range b.N {
		if _, err := m.Score(cols); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	benchutil.Report(b, n)
}
