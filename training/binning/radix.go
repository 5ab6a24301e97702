package binning

import "math"

// sortFloats sorts x (no NaNs) ascending with an LSD radix sort on the
// order-preserving bit pattern of float64, 11 bits per pass, skipping
// passes in which every key has the same digit. It is several times faster
// than a comparison sort on the million-row columns binning sees.
func sortFloats(x []float64) {
	n := len(x)
	if n < 256 {
		insertionSort(x)
		return
	}
	a := make([]uint64, n)
	b := make([]uint64, n)
	for i, v := range x {
		if v == 0 {
			v = 0 // -0 sorts with +0
		}
		u := math.Float64bits(v)
		if u>>63 == 1 {
			u = ^u
		} else {
			u |= 1 << 63
		}
		a[i] = u
	}
	const bits = 11
	const buckets = 1 << bits
	var count [buckets]int
	for shift := uint(0); shift < 64; shift += bits {
		clear(count[:])
		for _, u := range a {
			count[(u>>shift)&(buckets-1)]++
		}
		if count[(a[0]>>shift)&(buckets-1)] == n {
			continue // every key has this digit
		}
		sum := 0
		for i := range count {
			c := count[i]
			count[i] = sum
			sum += c
		}
		for _, u := range a {
			d := (u >> shift) & (buckets - 1)
			b[count[d]] = u
			count[d]++
		}
		a, b = b, a
	}
	for i, u := range a {
		if u>>63 == 1 {
			u &^= 1 << 63
		} else {
			u = ^u
		}
		x[i] = math.Float64frombits(u)
	}
}

func insertionSort(x []float64) {
	for i := 1; i < len(x); i++ {
		for j := i; j > 0 && x[j] < x[j-1]; j-- {
			x[j], x[j-1] = x[j-1], x[j]
		}
	}
}
