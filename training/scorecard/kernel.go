package scorecard

import "math"

// The scoring kernel: the loops that turn a tile of input values into
// bins. Model.Score and the score stage's batch scorer (scoring/score,
// over Arrow record batches in tiles of 2,048 rows) both run them, so the
// two cannot disagree on a bin; the points are then the bins' Fixed
// points summed in int64 (Base, ScoreOf).

// BinFloats puts in bins[i] the bin of vals[i], as Num gives it, and
// returns how many rows took the fallback bin. A NaN is missing, and so is
// a value whose bit in valid, an Arrow validity bitmap read from bit off,
// is clear (valid nil: no NULLs).
func (l *Lookup) BinFloats(vals []float64, valid []byte, off int, bins []int32) int {
	bins = bins[:len(vals)]
	fb := 0
	if l.Special != nil || len(l.Breaks) > 16 || !allFinite(l.Breaks) {
		for i, x := range vals {
			if j := off + i; valid != nil && valid[j>>3]&(1<<(j&7)) == 0 {
				x = math.NaN()
			}
			k, f := l.Num(x)
			if f {
				fb++
			}
			bins[i] = k
		}
		return fb
	}
	// Few finite breaks, no specials: the bin is the number of breaks
	// <= x, NaN and NULL the missing bin. For finite b and non-NaN x,
	// b <= x exactly when x−b is not negative (x−b is ±0 only when x == b,
	// and then +0), so the count takes no branches.
	br := l.Breaks
	nan, nanFalls := l.NaNBin, l.NaNFalls
	if len(br) <= 8 {
		return binFew(vals, valid, off, br, nan, nanFalls, bins)
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
	return fb
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

// FallbackBit marks a categorical bin code (CatCode) as the fallback for an
// unseen value.
const FallbackBit = 1 << 30

// CatCode is Cat as one code: the bin, with FallbackBit set when it is the
// fallback for an unseen value.
func (l *Lookup) CatCode(v string, null bool) int32 {
	k, fb := l.Cat(v, null)
	if fb {
		return k | FallbackBit
	}
	return k
}

// BinCodes puts in bins[i] the bin of dictionary code codes[i] (−1: NULL)
// given the CatCode of every dictionary value (dict) and of NULL (null),
// and returns how many rows took the fallback bin.
func BinCodes(codes, dict []int32, null int32, bins []int32) int {
	bins = bins[:len(codes)]
	fb := 0
	for i, d := range codes {
		code := null
		if d >= 0 {
			code = dict[d]
		}
		fb += int(code>>30) & 1 // FallbackBit
		bins[i] = code &^ FallbackBit
	}
	return fb
}
