package metrics

import (
	"fmt"
	"math"
	"slices"

	"qiandun/internal/hugepage"
)

// Ranked is a sample of scores (higher = riskier) and outcomes sorted
// once: its summary, gains and Hosmer–Lemeshow test (when the scores are
// PDs) share the one sort, where Summarize, Gains and HosmerLemeshow sort
// the sample each.
type Ranked struct {
	score, bad []float64
	order      []int32 // rows by score ascending, ties in row order
	gs         []group
	nb, ng     float64
}

// Rank sorts the sample by score with a stable radix sort: the order
// HosmerLemeshow's stable sort gives, so every result is the same as the
// functions' own.
func Rank(score, bad []float64) (*Ranked, error) {
	if len(score) != len(bad) {
		return nil, fmt.Errorf("metrics: %d scores but %d outcomes", len(score), len(bad))
	}
	for i, s := range score {
		if math.IsNaN(s) {
			return nil, fmt.Errorf("metrics: score %d is NaN", i)
		}
	}
	// One group per distinct score, at most one per row: sized for that
	// up front (grown by append, a million-row sample's groups were
	// copied and cleared again at each doubling) and trimmed after when
	// far fewer.
	r := &Ranked{score: score, bad: bad, order: argsort(score), gs: hugepage.Make[group](0, len(score))}
	for k, i := range r.order {
		s := score[i]
		if k == 0 || s != r.gs[len(r.gs)-1].score {
			r.gs = append(r.gs, group{score: s})
		}
		g := &r.gs[len(r.gs)-1]
		if bad[i] == 1 {
			g.bad++
			r.nb++
		} else {
			g.good++
			r.ng++
		}
	}
	if r.nb == 0 || r.ng == 0 {
		return nil, fmt.Errorf("metrics: need both bads and goods")
	}
	if len(r.gs) < cap(r.gs)/2 {
		r.gs = slices.Clone(r.gs)
	}
	return r, nil
}

// Summary is Summarize of the sample.
func (r *Ranked) Summary() Summary {
	a := aucOf(r.gs, r.nb, r.ng)
	return Summary{N: len(r.score), Bads: int(r.nb), AUC: a, Gini: 2*a - 1, KS: ksOf(r.gs, r.nb, r.ng)}
}

// Gains is Gains of the sample into k bands.
func (r *Ranked) Gains(k int) ([]Band, error) {
	return gainsOf(append([]group(nil), r.gs...), r.nb, r.ng, k)
}

// HosmerLemeshow is HosmerLemeshow of the sample, its scores the PDs.
func (r *Ranked) HosmerLemeshow(g int) (chi2, p float64, err error) {
	if g < 3 {
		return 0, 0, fmt.Errorf("metrics: Hosmer–Lemeshow needs at least 3 groups, got %d", g)
	}
	return hlOf(r.score, r.bad, r.order, g)
}

// argsort returns the rows of x (no NaNs) by value ascending, ties in row
// order: an LSD radix sort, 11 bits a pass, on the order-preserving bit
// pattern of float64 (−0 with +0), skipping passes in which every key
// has the same digit.
func argsort(x []float64) []int32 {
	n := len(x)
	keys, keys2 := hugepage.Make[uint64](n, 0), hugepage.Make[uint64](n, 0)
	idx, idx2 := hugepage.Make[int32](n, 0), hugepage.Make[int32](n, 0)
	for i, v := range x {
		if v == 0 {
			v = 0
		}
		u := math.Float64bits(v)
		if u>>63 == 1 {
			u = ^u
		} else {
			u |= 1 << 63
		}
		keys[i], idx[i] = u, int32(i)
	}
	if n == 0 {
		return idx
	}
	const bits = 11
	const buckets = 1 << bits
	var count [buckets]int
	for shift := uint(0); shift < 64; shift += bits {
		clear(count[:])
		for _, u := range keys {
			count[(u>>shift)&(buckets-1)]++
		}
		if count[(keys[0]>>shift)&(buckets-1)] == n {
			continue
		}
		sum := 0
		for d := range count {
			c := count[d]
			count[d] = sum
			sum += c
		}
		for t, u := range keys {
			d := (u >> shift) & (buckets - 1)
			keys2[count[d]], idx2[count[d]] = u, idx[t]
			count[d]++
		}
		keys, keys2 = keys2, keys
		idx, idx2 = idx2, idx
	}
	return idx
}
