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
	for i, v := range x {
		a[i] = floatKey(v)
	}
	sortKeys(a, make([]uint64, n))
	for i, u := range a {
		x[i] = keyFloat(u)
	}
}

// floatKey is v (not NaN) as a key whose unsigned order is v's order;
// −0 maps to the key of +0.
func floatKey(v float64) uint64 {
	if v == 0 {
		v = 0 // -0 sorts with +0
	}
	u := math.Float64bits(v)
	if u>>63 == 1 {
		return ^u
	}
	return u | 1<<63
}

// keyFloat inverts floatKey.
func keyFloat(u uint64) float64 {
	if u>>63 == 1 {
		u &^= 1 << 63
	} else {
		u = ^u
	}
	return math.Float64frombits(u)
}

// sortKeys sorts a ascending with an LSD radix sort, 11 bits per pass,
// skipping passes in which every key has the same digit; scratch (at
// least as long as a) is its second buffer. The result is in a.
func sortKeys(a, scratch []uint64) {
	n := len(a)
	if n == 0 {
		return
	}
	orig, b := a, scratch[:n]
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
	if &a[0] != &orig[0] {
		copy(orig, a)
	}
}

func insertionSort(x []float64) {
	for i := 1; i < len(x); i++ {
		for j := i; j > 0 && x[j] < x[j-1]; j-- {
			x[j], x[j-1] = x[j-1], x[j]
		}
	}
}
