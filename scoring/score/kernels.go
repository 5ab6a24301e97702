// Numeric kernels: binning a tile's numeric column and adding the bins'
// points and reason priorities.

package score

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

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

// binNumeric bins the numeric array a into bins; buf is scratch space for
// non-float64 arrays. It returns the fallback count.
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
	l := ci.look
	fb := 0
	if l.Special != nil || len(l.Breaks) > 16 || !allFinite(l.Breaks) {
		for i, x := range vals {
			if valid != nil && !bitutil.BitIsSet(valid, off+i) {
				x = math.NaN()
			}
			k, f := l.Num(x)
			if f {
				fb++
			}
			bins[i] = k
		}
		return fb, buf, nil
	}
	// Few finite breaks, no specials: the bin is the number of breaks
	// <= x, NaN and NULL the missing bin. For finite b and non-NaN x,
	// b <= x exactly when x−b is not negative (x−b is ±0 only when x == b,
	// and then +0), so the count takes no branches.
	br := l.Breaks
	nan, nanFalls := l.NaNBin, l.NaNFalls
	if len(br) <= 8 {
		return binFew(vals, valid, off, br, nan, nanFalls, bins), buf, nil
	}
	for i, x := range vals {
		if missing(x, valid, off+i) {
			bins[i] = nan
			if nanFalls {
				fb++
			}
			continue
		}
		x += 0 // −0 → +0
		var k int32
		for _, b := range br {
			k += int32(math.Float64bits(x-b)>>63) ^ 1
		}
		bins[i] = k
	}
	return fb, buf, nil
}

// missing reports whether value x at bit i of the validity bitmap valid
// (nil: no NULLs) is NULL or NaN: a missing value.
func missing(x float64, valid []byte, i int) bool {
	return x != x || (valid != nil && valid[i>>3]&(1<<(i&7)) == 0)
}

// binFew is binNumeric's loop for 1 to 8 finite breaks: a value's bin is
// the number of breaks at or below it, counted by comparisons unrolled
// for each number of breaks (a comparison costs about half a nanosecond,
// so padding to 8 would double the cost of a typical card). −0 ≥ 0 and
// +Inf is at or above every break, as the binary search has it; NaN and
// NULL are then moved to the missing bin.
func binFew(vals []float64, valid []byte, off int, br []float64, nan int32, nanFalls bool, bins []int32) int {
	bins = bins[:len(vals)]
	var p [8]float64
	copy(p[:], br)
	p0, p1, p2, p3, p4, p5, p6, p7 := p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
	switch len(br) {
	case 1:
		for i, x := range vals {
			bins[i] = ge(x, p0)
		}
	case 2:
		for i, x := range vals {
			bins[i] = ge(x, p0) + ge(x, p1)
		}
	case 3:
		for i, x := range vals {
			bins[i] = ge(x, p0) + ge(x, p1) + ge(x, p2)
		}
	case 4:
		for i, x := range vals {
			bins[i] = ge(x, p0) + ge(x, p1) + ge(x, p2) + ge(x, p3)
		}
	case 5:
		for i, x := range vals {
			bins[i] = ge(x, p0) + ge(x, p1) + ge(x, p2) + ge(x, p3) + ge(x, p4)
		}
	case 6:
		for i, x := range vals {
			bins[i] = ge(x, p0) + ge(x, p1) + ge(x, p2) + ge(x, p3) + ge(x, p4) + ge(x, p5)
		}
	case 7:
		for i, x := range vals {
			bins[i] = ge(x, p0) + ge(x, p1) + ge(x, p2) + ge(x, p3) + ge(x, p4) + ge(x, p5) + ge(x, p6)
		}
	default:
		for i, x := range vals {
			bins[i] = ge(x, p0) + ge(x, p1) + ge(x, p2) + ge(x, p3) + ge(x, p4) + ge(x, p5) + ge(x, p6) + ge(x, p7)
		}
	}
	fb := 0
	for i, x := range vals {
		if x != x {
			bins[i] = nan
			fb++
		}
	}
	if valid != nil {
		// NULLs, a byte of the bitmap at a time; a NULL whose slot
		// holds a NaN was counted above.
		for i := 0; i < len(vals); {
			j := off + i
			if j&7 == 0 && i+8 <= len(vals) && valid[j>>3] == 0xff {
				i += 8
				continue
			}
			if valid[j>>3]&(1<<(j&7)) == 0 {
				if vals[i] == vals[i] {
					fb++
				}
				bins[i] = nan
			}
			i++
		}
	}
	if !nanFalls {
		fb = 0
	}
	return fb
}

// ge is 1 when x ≥ b, else 0 (a SETcc, not a branch).
func ge(x, b float64) int32 {
	if x >= b {
		return 1
	}
	return 0
}

func allFinite(v []float64) bool {
	for _, x := range v {
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return false
		}
	}
	return true
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

func nanIf(v float64, null bool) float64 {
	if null {
		return math.NaN()
	}
	return v
}
