package binning

import (
	"math"
	"slices"

	"qiandun/training/woe"
)

// seg is a run of atoms [start, end) with its counts.
type seg struct {
	start, end int
	good, bad  int64
}

func (s seg) count() int64 { return s.good + s.bad }

// fineClasses cuts the atoms into at most f classes of near-equal counts.
func fineClasses(atoms []atom, f int) []seg {
	var total int64
	for _, a := range atoms {
		total += a.count
	}
	var out []seg
	cur := seg{}
	var cum int64
	for i, a := range atoms {
		cur.good += a.good
		cur.bad += a.bad
		cum += a.count
		cur.end = i + 1
		// close the class once the cumulative count reaches the next quantile
		if float64(cum)*float64(f) >= float64(len(out)+1)*float64(total) || i == len(atoms)-1 {
			out = append(out, cur)
			cur = seg{start: i + 1}
		}
	}
	return out
}

// search returns the atom indices at which new bins start (ascending, no 0).
func search(atoms []atom, o Options) []int {
	var total int64
	for _, a := range atoms {
		total += a.count
	}
	minCount := size{min: int64(math.Ceil(o.MinShare * float64(total)))}
	if o.SharePrecision {
		var g, b int64
		for _, a := range atoms {
			g += a.good
			b += a.bad
		}
		if g > 0 && b > 0 {
			minCount.maxVar = (1/float64(g) + 1/float64(b)) / o.MinShare
		}
	}
	fine := fineClasses(atoms, o.FineBins)
	if len(atoms) <= o.FineBins { // few distinct values: each is a fine class
		fine = make([]seg, len(atoms))
		for i, a := range atoms {
			fine[i] = seg{start: i, end: i + 1, good: a.good, bad: a.bad}
		}
	}
	var cuts []int // fine-class indices
	switch o.Method {
	case EqualFreq:
		fine = fineClasses(atoms, o.MaxBins)
		for c := 1; c < len(fine); c++ {
			cuts = append(cuts, c)
		}
	case ChiMerge:
		cuts = chiMerge(fine, o, minCount)
	case Tree:
		cuts = treeSplit(fine, o, minCount)
	default:
		cuts = optimal(fine, o, minCount)
	}
	out := make([]int, len(cuts))
	for i, c := range cuts {
		out[i] = fine[c].start
	}
	return out
}

type prefix struct{ g, b []int64 }

func newPrefix(fine []seg) prefix {
	p := prefix{g: make([]int64, len(fine)+1), b: make([]int64, len(fine)+1)}
	for i, s := range fine {
		p.g[i+1] = p.g[i] + s.good
		p.b[i+1] = p.b[i] + s.bad
	}
	return p
}

// counts of fine classes i..j inclusive.
func (p prefix) counts(i, j int) (g, b int64) { return p.g[j+1] - p.g[i], p.b[j+1] - p.b[i] }

func (p prefix) totals() (int64, int64) { return p.g[len(p.g)-1], p.b[len(p.b)-1] }

func (p prefix) iv(i, j int) float64 {
	g, b := p.counts(i, j)
	gt, bt := p.totals()
	_, v, _ := woe.Term(g, b, gt, bt)
	return v
}

func (p prefix) rate(i, j int) float64 {
	g, b := p.counts(i, j)
	return float64(b) / float64(g+b)
}

func (p prefix) valid(i, j int, minCount size) bool {
	g, b := p.counts(i, j)
	return minCount.ok(g, b)
}

// size is the rule a regular bin's size must meet: at least min rows, or
// (when maxVar > 0) a WoE at least as precise as that of a bin of min
// rows at the overall bad rate — 1/bad + 1/good, the WoE's sampling
// variance, at most maxVar = (1/B + 1/G) / MinShare. Both rules need a
// good and a bad.
type size struct {
	min    int64
	maxVar float64
}

func (s size) ok(g, b int64) bool {
	if g == 0 || b == 0 {
		return false
	}
	return g+b >= s.min || (s.maxVar > 0 && 1/float64(g)+1/float64(b) <= s.maxVar)
}

// optimal returns the fine-class cuts of the maximum-IV monotonic
// partition (see the package comment), solving the dynamic programme
//
//	best[k][i][j] = iv(i..j) + max_{i'<i, allowed(rate(i'..i−1), rate(i..j))} best[k−1][i'][i−1]
//
// for each phase of the shape (one phase for monotonic, two for peak and
// valley).
//
// Auto takes the monotonic direction with the larger IV, then tries the
// single-peak and single-valley shapes (an age U-shape, say) and takes
// one of those instead only if it is better by BIC on the bins' binomial
// likelihood: its likelihood-ratio statistic G² against a single bin,
// less ln(n) per bin beyond the first, beats the monotonic partition's.
// More IV alone is not enough, since a turn can always fit noise.
func optimal(fine []seg, o Options, minCount size) []int {
	if o.Monotonic != Auto {
		c, _ := optimalShape(fine, o, minCount)
		return c
	}
	shape := func(m Monotonic) ([]int, float64) {
		so := o
		so.Monotonic = m
		return optimalShape(fine, so, minCount)
	}
	best, va := shape(Ascending)
	if cd, vd := shape(Descending); vd > va+1e-12 {
		best = cd
	}
	p := newPrefix(fine)
	gt, bt := p.totals()
	logN := math.Log(float64(gt + bt))
	bic := func(cuts []int) float64 { return p.g2(cuts) - logN*float64(len(cuts)) }
	bestBIC := bic(best)
	for _, m := range []Monotonic{Peak, Valley} {
		if c, _ := shape(m); len(c) > 0 {
			if v := bic(c); v > bestBIC+1e-9 {
				best, bestBIC = c, v
			}
		}
	}
	return best
}

// g2 returns the likelihood-ratio statistic of the partition of the fine
// classes at cuts against a single bin: 2 Σ bad·ln(r/p̄) + good·ln((1−r)/(1−p̄)).
func (p prefix) g2(cuts []int) float64 {
	gt, bt := p.totals()
	if gt == 0 || bt == 0 {
		return 0
	}
	pbar := float64(bt) / float64(gt+bt)
	xlogy := func(x, r float64) float64 {
		if x == 0 {
			return 0
		}
		return x * math.Log(r)
	}
	s := 0.0
	start := 0
	for _, end := range append(slices.Clone(cuts), len(p.g)-1) {
		g, b := p.counts(start, end-1)
		n := float64(g + b)
		s += xlogy(float64(b), float64(b)/n/pbar) + xlogy(float64(g), float64(g)/n/(1-pbar))
		start = end
	}
	return 2 * s
}

// optimalShape returns the fine-class cuts of the highest-IV binning of
// at most o.MaxBins bins, each meeting minCount, whose bad rates follow
// o.Monotonic, and that IV. It is a dynamic programme over (bins so far,
// phase of a peak or valley shape, last bin's first and last fine
// class); of equal values it keeps the first found, scanning earlier
// starts first.
//
// A bin is a pair i ≤ j of fine classes, stored end-major (tri(j, i)):
// the scan over the previous bin's start then reads contiguous cells.
func optimalShape(fine []seg, o Options, minCount size) ([]int, float64) {
	m := len(fine)
	if m == 0 {
		return nil, 0
	}
	p := newPrefix(fine)
	if gt, bt := p.totals(); gt == 0 || bt == 0 {
		return nil, 0
	}
	K := o.MaxBins
	phases := 1
	if o.Monotonic == Peak || o.Monotonic == Valley {
		phases = 2
	}
	rule := shapeRules(o.Monotonic, phases)
	nb := m * (m + 1) / 2
	type cell struct {
		val   float64
		prevI int32
		prP   int8
		ok    bool
	}
	// dp[((k-1)*phases+ph)*nb + tri(j, i)]: the best k bins ending with
	// bin i..j in phase ph.
	dp := make([]cell, K*phases*nb)
	layer := func(k, ph int) []cell { return dp[((k-1)*phases+ph)*nb : ((k-1)*phases+ph+1)*nb] }
	valid, ivs, rates := binTables(p, m, minCount)
	first := layer(1, 0)
	for j := range m {
		if t := tri(j, 0); valid[t] {
			first[t] = cell{val: ivs[t], ok: true, prevI: -1}
		}
	}
	var prevLayer [2][]cell
	for k := 2; k <= K; k++ {
		for pp := range phases {
			prevLayer[pp] = layer(k-1, pp)
		}
		for ph := range phases {
			cur := layer(k, ph)
			for j := 1; j < m; j++ {
				for i := 1; i <= j; i++ {
					t := tri(j, i)
					if !valid[t] {
						continue
					}
					rc, iv := rates[t], ivs[t]
					e := tri(i-1, 0) // the previous bins end at i−1: cells e+ip
					best := cell{}
					for ip := range i {
						for pp := range phases {
							r := rule[pp][ph]
							if r == never {
								continue
							}
							prev := prevLayer[pp][e+ip]
							if !prev.ok {
								continue
							}
							if rp := rates[e+ip]; r == rises && !(rc > rp) || r == falls && !(rc < rp) {
								continue
							}
							if v := prev.val + iv; !best.ok || v > best.val {
								best = cell{val: v, ok: true, prevI: int32(ip), prP: int8(pp)}
							}
						}
					}
					cur[t] = best
				}
			}
		}
	}
	bestK, bestPh, bestI := 0, 0, 0
	bestV := math.Inf(-1)
	last := tri(m-1, 0)
	for k := 1; k <= K; k++ {
		for ph := range phases {
			l := layer(k, ph)
			for i := range m {
				if c := l[last+i]; c.ok && c.val > bestV+1e-12 {
					bestK, bestPh, bestI, bestV = k, ph, i, c.val
				}
			}
		}
	}
	if bestK == 0 {
		return nil, 0
	}
	var cuts []int
	k, ph, i, j := bestK, bestPh, bestI, m-1
	for k > 1 {
		c := layer(k, ph)[tri(j, i)]
		cuts = append(cuts, i)
		j = i - 1
		i, ph = int(c.prevI), int(c.prP)
		k--
	}
	slices.Reverse(cuts)
	return cuts, bestV
}

// tri is the index of bin i..j (i ≤ j) in a table stored end-major.
func tri(j, i int) int { return j*(j+1)/2 + i }

// binTables returns, for every bin i..j of the m fine classes (at
// tri(j, i)), whether it meets minCount and, if so, its IV and bad rate.
func binTables(p prefix, m int, minCount size) (valid []bool, ivs, rates []float64) {
	nb := m * (m + 1) / 2
	valid, ivs, rates = make([]bool, nb), make([]float64, nb), make([]float64, nb)
	for j := range m {
		for i := 0; i <= j; i++ {
			t := tri(j, i)
			if valid[t] = p.valid(i, j, minCount); valid[t] {
				ivs[t] = p.iv(i, j)
				rates[t] = p.rate(i, j)
			}
		}
	}
	return valid, ivs, rates
}

// What moving from one phase of a shape to another asks of the new bin's
// bad rate rc against the previous bin's rp.
const (
	anyRate = iota
	rises   // rc > rp
	falls   // rc < rp
	never
)

// shapeRules returns rule[pp][ph], what shape asks of a move from phase
// pp to phase ph (a peak or valley has two phases, others one; a phase
// never goes back).
func shapeRules(shape Monotonic, phases int) [2][2]int {
	var rule [2][2]int
	for pp := range phases {
		for ph := range phases {
			r := never
			switch {
			case pp > ph:
			case shape == Ascending:
				r = rises
			case shape == Descending:
				r = falls
			case shape == Peak && ph == 0:
				r = rises
			case shape == Peak:
				r = falls
			case shape == Valley && ph == 0:
				r = falls
			case shape == Valley:
				r = rises
			default:
				r = anyRate
			}
			rule[pp][ph] = r
		}
	}
	return rule
}

// chi2 of the 2×2 table of two adjacent segments.
func chi2(a, b seg) float64 {
	n := float64(a.count() + b.count())
	if n == 0 {
		return 0
	}
	tg := float64(a.good + b.good)
	tb := float64(a.bad + b.bad)
	s := 0.0
	for _, x := range []seg{a, b} {
		r := float64(x.count())
		for _, oe := range [][2]float64{{float64(x.good), r * tg / n}, {float64(x.bad), r * tb / n}} {
			if oe[1] > 0 {
				s += (oe[0] - oe[1]) * (oe[0] - oe[1]) / oe[1]
			}
		}
	}
	return s
}

func chiMerge(fine []seg, o Options, minCount size) []int {
	type run struct {
		seg
		first int // first fine class
	}
	rs := make([]run, len(fine))
	for i, s := range fine {
		rs[i] = run{s, i}
	}
	merge := func(k int) { // merge rs[k] and rs[k+1]
		rs[k].good += rs[k+1].good
		rs[k].bad += rs[k+1].bad
		rs[k].end = rs[k+1].end
		rs = append(rs[:k+1], rs[k+2:]...)
	}
	for len(rs) > 1 {
		minK, minC := -1, math.Inf(1)
		for k := 0; k+1 < len(rs); k++ {
			if c := chi2(rs[k].seg, rs[k+1].seg); c < minC {
				minK, minC = k, c
			}
		}
		small := -1
		for k, r := range rs {
			if r.count() < minCount.min && (small < 0 || r.count() < rs[small].count()) {
				small = k
			}
		}
		if small >= 0 {
			switch {
			case small == 0:
				merge(0)
			case small == len(rs)-1:
				merge(small - 1)
			case chi2(rs[small-1].seg, rs[small].seg) <= chi2(rs[small].seg, rs[small+1].seg):
				merge(small - 1)
			default:
				merge(small)
			}
			continue
		}
		if len(rs) <= o.MaxBins && minC >= o.ChiThreshold {
			break
		}
		merge(minK)
	}
	var cuts []int
	for _, r := range rs[1:] {
		cuts = append(cuts, r.first)
	}
	return cuts
}

// treeSplit splits greedily: at each step the split of one current bin
// at a fine-class boundary that adds the most IV, keeping both halves
// valid, until MaxBins or no split adds IV.
func treeSplit(fine []seg, o Options, minCount size) []int {
	p := newPrefix(fine)
	if gt, bt := p.totals(); gt == 0 || bt == 0 {
		return nil
	}
	bounds := []int{0, len(fine)} // bin b is fine classes [bounds[b], bounds[b+1])
	for len(bounds)-1 < o.MaxBins {
		bestGain, bestAt, bestB := 1e-12, -1, -1
		for b := 0; b+1 < len(bounds); b++ {
			lo, hi := bounds[b], bounds[b+1]-1
			whole := p.iv(lo, hi)
			for s := lo + 1; s <= hi; s++ {
				if !p.valid(lo, s-1, minCount) || !p.valid(s, hi, minCount) {
					continue
				}
				if g := p.iv(lo, s-1) + p.iv(s, hi) - whole; g > bestGain {
					bestGain, bestAt, bestB = g, s, b
				}
			}
		}
		if bestAt < 0 {
			break
		}
		bounds = append(bounds[:bestB+1], append([]int{bestAt}, bounds[bestB+1:]...)...)
	}
	return bounds[1 : len(bounds)-1]
}
