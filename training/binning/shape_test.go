package binning

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// optimalShapeRef is optimalShape as first written (square tables, a
// closure per transition): the reference its faster layout must match
// cut for cut, ties included.
func optimalShapeRef(fine []seg, o Options, minCount size) ([]int, float64) {
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
	// allowed(from phase, to phase, previous rate, current rate)
	allowed := func(pf, pt int, rp, rc float64) bool {
		switch o.Monotonic {
		case Ascending:
			return rc > rp
		case Descending:
			return rc < rp
		case Peak:
			if pf == 0 && pt == 0 {
				return rc > rp
			}
			return pt == 1 && rc < rp
		case Valley:
			if pf == 0 && pt == 0 {
				return rc < rp
			}
			return pt == 1 && rc > rp
		default:
			return true
		}
	}
	type cell struct {
		val        float64
		ok         bool
		prevI, prP int
	}
	// dp[k][ph][i*m+j]
	dp := make([][][]cell, K+1)
	for k := 1; k <= K; k++ {
		dp[k] = make([][]cell, phases)
		for ph := range dp[k] {
			dp[k][ph] = make([]cell, m*m)
		}
	}
	valid := make([]bool, m*m)
	ivs := make([]float64, m*m)
	rates := make([]float64, m*m)
	for i := 0; i < m; i++ {
		for j := i; j < m; j++ {
			valid[i*m+j] = p.valid(i, j, minCount)
			if valid[i*m+j] {
				ivs[i*m+j] = p.iv(i, j)
				rates[i*m+j] = p.rate(i, j)
			}
		}
	}
	for j := 0; j < m; j++ {
		if valid[j] {
			dp[1][0][j] = cell{val: ivs[j], ok: true, prevI: -1}
		}
	}
	for k := 2; k <= K; k++ {
		for j := 1; j < m; j++ {
			for i := 1; i <= j; i++ {
				if !valid[i*m+j] {
					continue
				}
				rc := rates[i*m+j]
				for ph := 0; ph < phases; ph++ {
					best := cell{}
					for ip := 0; ip < i; ip++ {
						for pp := 0; pp < phases; pp++ {
							prev := dp[k-1][pp][ip*m+i-1]
							if !prev.ok || pp > ph || !allowed(pp, ph, rates[ip*m+i-1], rc) {
								continue
							}
							if v := prev.val + ivs[i*m+j]; !best.ok || v > best.val {
								best = cell{val: v, ok: true, prevI: ip, prP: pp}
							}
						}
					}
					dp[k][ph][i*m+j] = best
				}
			}
		}
	}
	bestK, bestPh, bestI := 0, 0, 0
	bestV := math.Inf(-1)
	for k := 1; k <= K; k++ {
		for ph := 0; ph < phases; ph++ {
			for i := 0; i < m; i++ {
				c := dp[k][ph][i*m+m-1]
				if c.ok && c.val > bestV+1e-12 {
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
		c := dp[k][ph][i*m+j]
		cuts = append(cuts, i)
		j = i - 1
		i, ph = c.prevI, c.prP
		k--
	}
	for a, b := 0, len(cuts)-1; a < b; a, b = a+1, b-1 {
		cuts[a], cuts[b] = cuts[b], cuts[a]
	}
	return cuts, bestV
}

func TestOptimalShapeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 14))
	shapes := []Monotonic{Ascending, Descending, Peak, Valley, None}
	for trial := range 400 {
		m := 1 + r.IntN(20)
		fine := make([]seg, m)
		for i := range fine {
			fine[i] = seg{start: i, end: i + 1, good: int64(r.IntN(400)), bad: int64(r.IntN(60))}
			if trial%5 == 0 { // ties: equal segments
				fine[i].good, fine[i].bad = 100, 10
			}
		}
		for _, sh := range shapes {
			o := Options{MaxBins: 2 + r.IntN(12), Monotonic: sh}
			minCount := size{min: int64(r.IntN(300))}
			got, gv := optimalShape(fine, o, minCount)
			want, wv := optimalShapeRef(fine, o, minCount)
			if !slices.Equal(got, want) || gv != wv {
				t.Fatalf("trial %d, %v, %d bins: cuts %v (IV %v), reference %v (IV %v)", trial, sh, o.MaxBins, got, gv, want, wv)
			}
		}
	}
}

func benchFine() []seg {
	r := rand.New(rand.NewPCG(1, 2))
	fine := make([]seg, 20)
	for i := range fine {
		fine[i] = seg{start: i, end: i + 1, good: int64(2000 + r.IntN(400)), bad: int64(200 + 10*i + r.IntN(60))}
	}
	return fine
}

// BenchmarkOptimalShape is one search of ChooseCV's: 20 fine classes, 14
// bins at most, each monotone shape.
func BenchmarkOptimalShape(b *testing.B) {
	fine := benchFine()
	for _, sh := range []Monotonic{Ascending, Peak} {
		b.Run(string(sh), func(b *testing.B) {
			for b.Loop() {
				optimalShape(fine, Options{MaxBins: 14, Monotonic: sh}, size{min: 500})
			}
		})
		b.Run(string(sh)+"/reference", func(b *testing.B) {
			for b.Loop() {
				optimalShapeRef(fine, Options{MaxBins: 14, Monotonic: sh}, size{min: 500})
			}
		})
	}
}

// atOrBelow counts what the binary search finds: the breaks at or below
// x, ±0 equal, ±Inf at the ends.
func TestAtOrBelowMatchesSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	for trial := range 2000 {
		br := make([]float64, r.IntN(fewBreaks+1))
		for i := range br {
			br[i] = float64(r.IntN(9) - 4)
		}
		slices.Sort(br)
		br = slices.Compact(br)
		b := &Binning{Breaks: br}
		for _, x := range []float64{math.Inf(-1), math.Copysign(0, -1), 0, float64(r.IntN(11) - 5), float64(r.IntN(11)-5) + 0.5, math.Inf(1)} {
			lo, hi := 0, len(br)
			for lo < hi {
				if m := (lo + hi) / 2; br[m] > x {
					hi = m
				} else {
					lo = m + 1
				}
			}
			if got := b.intervalIndex(x); got != lo {
				t.Fatalf("trial %d: breaks %v, x %v: %d, binary search %d", trial, br, x, got, lo)
			}
		}
	}
}
