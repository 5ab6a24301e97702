// Numeric kernels: binning a tile's numeric column and adding the bins'
// points and reason priorities.

package score

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"qiandun/internal/arrowcol"
	"qiandun/training/binning"
)

// accumulate adds the points of bins kb to total, counts them in cnt and
// keeps t0 ≤ t1 ≤ t2 the three lowest reason priorities seen (min and max
// compile to conditional moves: no branches).
func accumulate(kb []int32, total []int64, t0, t1, t2 []int32, fixed []int64, prio []int32, cnt []int64) {
	total = total[:len(kb)]
	t0, t1, t2 = t0[:len(kb)], t1[:len(kb)], t2[:len(kb)]
	for i, k := range kb {
		total[i] += fixed[k]
		cnt[k]++
		p := prio[k]
		t2[i] = min(t2[i], max(t1[i], p))
		t1[i] = min(t1[i], max(t0[i], p))
		t0[i] = min(t0[i], p)
	}
}

// accumulate2 is accumulate for two characteristics at once (bins ka and
// kb): the running columns are read and written once for both.
func accumulate2(ka, kb []int32, total []int64, t0, t1, t2 []int32, fa, fb []int64, pa, pb []int32, ca, cb []int64) {
	n := len(ka)
	kb, total = kb[:n], total[:n]
	t0, t1, t2 = t0[:n], t1[:n], t2[:n]
	for i, k := range ka {
		j := kb[i]
		total[i] += fa[k] + fb[j]
		ca[k]++
		cb[j]++
		r0, r1, r2 := t0[i], t1[i], t2[i]
		p := pa[k]
		r2 = min(r2, max(r1, p))
		r1 = min(r1, max(r0, p))
		r0 = min(r0, p)
		p = pb[j]
		r2 = min(r2, max(r1, p))
		r1 = min(r1, max(r0, p))
		r0 = min(r0, p)
		t0[i], t1[i], t2[i] = r0, r1, r2
	}
}

// binNumeric bins the numeric array a into bins with the card's kernel
// (scorecard.Lookup.BinFloats, which Model.Score runs too); buf is scratch
// space for non-float64 arrays. It returns the fallback count.
func binNumeric(ci *charInfo, a arrow.Array, bins []int32, buf []float64) (int, []float64, error) {
	var vals []float64
	var valid []byte // nil: no NULLs
	off := 0
	if x, ok := a.(*array.Float64); ok {
		vals = x.Float64Values()
		if x.NullN() > 0 {
			valid, off = x.NullBitmapBytes(), x.Data().Offset()
		}
	} else {
		var err error
		buf, err = numValues(ci.name, a, buf[:0])
		if err != nil {
			return 0, buf, err
		}
		vals = buf
	}
	return ci.look.BinFloats(vals, valid, off, bins), buf, nil
}

// column gathers numeric column c of the unit's batches as float64, NULL
// as NaN, converting values as training/frame does.
func column(ci charInfo, u *Unit, c int) (*binning.Column, error) {
	num := make([]float64, 0, u.N)
	for _, rec := range u.Recs {
		var err error
		if num, err = numValues(ci.name, rec.Column(c), num); err != nil {
			return nil, err
		}
	}
	return &binning.Column{Name: ci.name, Kind: binning.Numeric, Num: num}, nil
}

// numValues appends the values of a numeric array to num as float64,
// NULL as NaN, through the column adapter training uses (arrowcol).
func numValues(name string, a arrow.Array, num []float64) ([]float64, error) {
	if !arrowcol.Numeric(a.DataType()) {
		return nil, fmt.Errorf("score: characteristic %s is numeric but its column is %s", name, a.DataType())
	}
	return arrowcol.AppendFloats(num, a)
}
