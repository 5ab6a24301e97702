//go:build duckdb_arrow

package train

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"qiandun/internal/par"
	"qiandun/training/binning"
)

// Pairwise interaction tables of the boosted card, chosen as GA2M's FAST
// ranks them (Lou, Caruana, Gehrke and Hooker, 2013): after the
// boosting has early-stopped, every pair of characteristics (of the
// maxPairChars with the most spread in their tables) is ranked by the
// gain of the best two-level tree over its coarse bin grid on the
// residual gradients; the first MaxPairs in rank order are tried, one at
// a time: on the pair's grid, over the card's log odds, the two inputs'
// main effects (a value per coarse bin of either input, added) and the
// pair's table (a value per cell, which holds the main effects and
// their interaction) are each fitted by Newton's method with the same
// L2 on the fitting rows (fitGrid), and the pair is kept when its table
// raises the validation log-likelihood enough above the main effects'
// (choosePairs): a pair must carry an interaction, not main effects the
// card left. Then the characteristics' trees and the kept pairs'
// two-level trees are boosted together, early-stopped again.

// maxPairChars bounds the characteristics whose pairs are ranked.
const maxPairChars = 20

// pairTerm is one pair's table over the cells of its inputs' coarse bins
// (cell a·nB + b) and the fitting and validation rows' cells.
type pairTerm struct {
	a, b         int // characteristics (indexes of boosted.bins)
	ba, bb       *binning.Binning
	nB           int
	table        []float64
	fCell, vCell []uint16
	g, h, n      []float64 // per cell: gradient and hessian sums, fitting rows
	good, bad    []int64
}

// pairMinLeaf is the fewest fitting rows in a leaf of a pair's tree (as
// LightGBM's min_data_in_leaf and scikit-learn's min_samples_leaf).
const pairMinLeaf = 20

// pairChoice is why a pair was kept or not.
type pairChoice struct {
	a, b          string
	rank          int
	gain          float64 // FAST gain on the fitting rows' residuals
	before, after float64 // validation log loss per row before and after its table
	main          float64 // validation log loss per row with the two inputs' main effects on its grid instead (or before, if lower)
	z             float64 // the validation gain over main, over its standard error (pairedZ)
	rounds        int     // Newton iterations of the pair's table
	kept          bool
	reason        string
}

// tree is a two-level tree over a pair's grid: split the first axis
// (rows, or columns when byCol) after cut, then each side's other axis
// after cutL and cutR (the last index: no split).
type tree struct {
	byCol           bool
	cut, cutL, cutR int
	gain            float64
}

// histogram sets g and h to the gradient and hessian sums of the cells.
func (p *pairTerm) histogram(resid, hw []float64) {
	clear(p.g)
	clear(p.h)
	for i, c := range p.fCell {
		p.g[c] += resid[i]
		p.h[c] += hw[i]
	}
}

// leaf returns the leaf (0..3) of cell (a, b) under t.
func (p *pairTerm) leaf(t tree, a, b int) int {
	x, y := a, b
	if t.byCol {
		x, y = b, a
	}
	if x <= t.cut {
		if y <= t.cutL {
			return 0
		}
		return 1
	}
	if y <= t.cutR {
		return 2
	}
	return 3
}

// bestTree returns the two-level tree of the largest gain
// Σ_leaves G²/(H+λ) − G²/(H+λ) over the grid (gain 0: none).
func (p *pairTerm) bestTree(l2 float64) tree {
	nA := len(p.g) / p.nB
	score := func(g, h float64) float64 { return g * g / (h + l2) }
	var best tree
	for _, byCol := range []bool{false, true} {
		n1, n2 := nA, p.nB
		at := func(x, y int) int { return x*p.nB + y }
		if byCol {
			n1, n2 = p.nB, nA
			at = func(x, y int) int { return y*p.nB + x }
		}
		// side: the best split of the other axis over rows x in [lo, hi).
		// Each leaf holds at least pairMinLeaf fitting rows.
		side := func(lo, hi int) (cut int, gain, g, h, n float64) {
			cg, ch, cn := make([]float64, n2), make([]float64, n2), make([]float64, n2)
			for x := lo; x < hi; x++ {
				for y := range n2 {
					cg[y] += p.g[at(x, y)]
					ch[y] += p.h[at(x, y)]
					cn[y] += p.n[at(x, y)]
				}
			}
			for y := range n2 {
				g += cg[y]
				h += ch[y]
				n += cn[y]
			}
			cut, base := n2-1, score(g, h)
			var gl, hl, nl float64
			for y := 0; y+1 < n2; y++ {
				gl += cg[y]
				hl += ch[y]
				nl += cn[y]
				if nl < pairMinLeaf || n-nl < pairMinLeaf {
					continue
				}
				if d := score(gl, hl) + score(g-gl, h-hl) - base; d > gain {
					cut, gain = y, d
				}
			}
			return cut, gain, g, h, n
		}
		for c := 0; c+1 < n1; c++ {
			cl, gainL, gl, hl, nl := side(0, c+1)
			cr, gainR, gr, hr, nr := side(c+1, n1)
			if nl < pairMinLeaf || nr < pairMinLeaf {
				continue
			}
			gain := score(gl, hl) + score(gr, hr) - score(gl+gr, hl+hr) + gainL + gainR
			if gain > best.gain+1e-12 {
				best = tree{byCol: byCol, cut: c, cutL: cl, cutR: cr, gain: gain}
			}
		}
	}
	return best
}

// treeValues returns the Newton value G/(H+λ) of t's leaf at each cell
// of p (from p's histogram) and the sum of the leaves' squared values.
func (p *pairTerm) treeValues(t tree, l2 float64) ([]float64, float64) {
	var lg, lh [4]float64
	for c := range p.table {
		l := p.leaf(t, c/p.nB, c%p.nB)
		lg[l] += p.g[c]
		lh[l] += p.h[c]
	}
	var w [4]float64
	var w2 float64
	for l := range w {
		w[l] = lg[l] / (lh[l] + l2)
		w2 += w[l] * w[l]
	}
	d := make([]float64, len(p.table))
	for c := range d {
		d[c] = w[p.leaf(t, c/p.nB, c%p.nB)]
	}
	return d, w2
}

// pairTables copies the pairs' tables.
func (st *booster) pairTables() [][]float64 {
	out := make([][]float64, len(st.m.pairs))
	for i, p := range st.m.pairs {
		out[i] = slices.Clone(p.table)
	}
	return out
}

// coarse bins the characteristics of idx (at most PairBins
// equal-frequency bins on the fitting rows) and returns their bins and
// fitting and validation rows' bin indexes.
func (st *booster) coarse(ctx context.Context, idx []int) ([]*binning.Binning, [][]int32, [][]int32, error) {
	co := st.bo
	co.Method, co.MaxBins, co.MinShare, co.BinCount = binning.EqualFreq, st.o.PairBins, 1/float64(2*st.o.PairBins), "fixed"
	cols := make([]*binning.Column, len(idx))
	for k, j := range idx {
		cols[k] = st.fitCols[j]
	}
	bins, errs := binning.FitAll(ctx, cols, st.fy, co, nil, 2)
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	fi, vi := make([][]int32, len(idx)), make([][]int32, len(idx))
	for k, j := range idx {
		if errs[k] != nil {
			return nil, nil, nil, fmt.Errorf("%s: coarse bins: %w", cols[k].Name, errs[k])
		}
		fi[k], _ = bins[k].Index(st.fitCols[j])
		vi[k], _ = bins[k].Index(st.valCols[j])
	}
	return bins, fi, vi, nil
}

// choosePairs ranks the pairs by FAST gain and tries the first MaxPairs
// in rank order, keeping those whose table raises the validation
// log-likelihood by PairMinGain nats per validation row and PairMinZ
// standard errors or more above the same grid's main effects; it
// records each try in choices. (Trying further down the ranking until
// MaxPairs are kept, or keeping on the nats alone, kept pairs that
// lowered German credit's test AUC by 0.01 on average over five seeds.)
func (st *booster) choosePairs(ctx context.Context) error {
	idx := st.pairChars()
	if len(idx) < 2 {
		return nil
	}
	bins, fi, vi, err := st.coarse(ctx, idx)
	if err != nil {
		return fmt.Errorf("pairs: %w", err)
	}
	st.residuals()
	cands := st.rankPairs(idx, bins, fi)
	n := float64(len(st.vy))
	for rank, c := range cands {
		if rank >= st.o.MaxPairs {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		p := st.newPair(idx[c.x], idx[c.y], bins[c.x], bins[c.y], fi[c.x], fi[c.y], vi[c.x], vi[c.y])
		before := loglik(st.vEta, st.vy)
		// The yardstick: the two inputs' main effects on the same grid,
		// or the card alone when those lower the validation
		// log-likelihood (not early-stopped, they can overfit).
		etaMain, _ := st.fitGrid(p, true)
		main := loglik(etaMain, st.vy)
		if main < before {
			etaMain, main = st.vEta, before
		}
		etaPair, iters := st.fitGrid(p, false)
		after := loglik(etaPair, st.vy)
		z := pairedZ(etaMain, etaPair, st.vy)
		ch := pairChoice{a: bins[c.x].Variable, b: bins[c.y].Variable, rank: rank + 1, gain: c.gain,
			before: -before / n, main: -main / n, after: -after / n, rounds: iters, z: z}
		gain := fmt.Sprintf("validation log-likelihood %+.3g nats per row over the inputs' main effects on the same bins (%.2f standard errors; %+.3g nats over %d rows), %+.3g per row over the card",
			(after-main)/n, z, after-main, len(st.vy), (after-before)/n)
		if (after-main)/n >= st.o.PairMinGain && z >= st.o.PairMinZ {
			ch.kept, ch.reason = true, "kept: "+gain
			st.m.pairs = append(st.m.pairs, p)
			st.resetEta()
		} else {
			ch.reason = fmt.Sprintf("pair: %s (want ≥ %g nats per row and ≥ %g standard errors): no better than the additive card", gain, st.o.PairMinGain, st.o.PairMinZ)
		}
		st.m.choices = append(st.m.choices, ch)
	}
	return ctx.Err()
}

// pairCand is a pair of characteristics (positions x < y in the ranked
// characteristics) and its FAST gain.
type pairCand struct {
	x, y int
	gain float64
}

// rankPairs returns the pairs of the characteristics idx (coarse bins
// bins, fitting rows' bin indexes fi) whose best two-level tree on the
// current gradients gains, by gain (largest first; ties in pair order).
// Two workers take the pairs in turn; each pair's sums add its rows in
// row order.
func (st *booster) rankPairs(idx []int, bins []*binning.Binning, fi [][]int32) []pairCand {
	var all []pairCand
	for x := range idx {
		for y := x + 1; y < len(idx); y++ {
			if len(bins[x].Bins) < 2 || len(bins[y].Bins) < 2 || len(bins[x].Bins)*len(bins[y].Bins) > math.MaxUint16 {
				continue
			}
			all = append(all, pairCand{x: x, y: y})
		}
	}
	par.Halves(len(all), func(lo, hi int) {
		for q := lo; q < hi; q++ {
			c := &all[q]
			nB := len(bins[c.y].Bins)
			n := len(bins[c.x].Bins) * nB
			p := &pairTerm{nB: nB, g: make([]float64, n), h: make([]float64, n), n: make([]float64, n), table: make([]float64, n)}
			fa, fb := fi[c.x], fi[c.y]
			for i, r := range st.resid {
				cell := int(fa[i])*nB + int(fb[i])
				p.g[cell] += r
				p.h[cell] += st.hw[i]
				p.n[cell]++
			}
			c.gain = p.bestTree(st.o.L2).gain
		}
	})
	out := all[:0]
	for _, c := range all {
		if c.gain > 0 {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b pairCand) int { return cmp.Compare(b.gain, a.gain) })
	return out
}

// Newton's method on a pair's grid stops when no value moves by more
// than gridTol, or after gridIters iterations; a step moves a value by
// at most gridMaxStep.
const (
	gridTol     = 1e-6
	gridIters   = 25
	gridMaxStep = 2.0
)

// fitGrid fits, over the current log odds of the fitting rows, either
// the two inputs' main effects on p's grid (additive: a value per coarse
// bin of either input, a cell's value their sum; the joint Newton step
// solves their (nA+nB)-square system, the cross terms being the cells'
// hessian sums) or p's table (a value per cell, each cell's Newton step
// its own), by Newton's method on the log-likelihood with L2 on the
// values. It sets p.table to the fitted cell values and returns the
// validation rows' log odds with them added, and the iterations taken.
// Each iteration's per-row work runs on two workers; the cells' sums add
// their rows in row order.
func (st *booster) fitGrid(p *pairTerm, additive bool) ([]float64, int) {
	nB, l2 := p.nB, st.o.L2
	nA := len(p.table) / nB
	clear(p.table)
	var a []float64 // additive: the nA + nB main effects
	if additive {
		a = make([]float64, nA+nB)
	}
	eta := st.k.fD // scratch: the fitting rows' log odds with the grid's values
	iters := 0
	for iters < gridIters {
		iters++
		par.Halves(len(st.fEta), func(lo, hi int) {
			e, c := eta[lo:hi], p.fCell[lo:hi]
			for i, x := range st.fEta[lo:hi] {
				e[i] = x + p.table[c[i]]
			}
			st.gradientsAt(e, lo, hi)
		})
		p.histogram(st.resid, st.hw)
		var move float64
		if additive {
			move = newtonAdditive(p.g, p.h, a, nA, nB, l2)
			for c := range p.table {
				p.table[c] = a[c/nB] + a[nA+c%nB]
			}
		} else {
			for c, v := range p.table {
				s := max(-gridMaxStep, min(gridMaxStep, (p.g[c]-l2*v)/(p.h[c]+l2)))
				p.table[c] += s
				move = max(move, math.Abs(s))
			}
		}
		if move < gridTol {
			break
		}
	}
	st.stale()
	v := make([]float64, len(st.vEta))
	for i, x := range st.vEta {
		v[i] = x + p.table[p.vCell[i]]
	}
	return v, iters
}

// newtonAdditive takes one Newton step of the main effects a (nA values
// of the first input's bins, then nB of the second's) from the cells'
// gradient and hessian sums g and h at the current values, with L2 l2:
// the gradient of a first-input value is its row of cells' g sum, less
// l2 times it; the hessian is diagonal in either input's values (the
// row's or column's h sum, plus l2) with the cell's h between a row and a
// column. It returns the largest move (each at most gridMaxStep).
func newtonAdditive(g, h, a []float64, nA, nB int, l2 float64) float64 {
	m := nA + nB
	H := make([]float64, m*m)
	r := make([]float64, m)
	for x := range nA {
		for y := range nB {
			c := x*nB + y
			r[x] += g[c]
			r[nA+y] += g[c]
			H[x*m+x] += h[c]
			H[(nA+y)*m+nA+y] += h[c]
			H[x*m+nA+y] += h[c]
			H[(nA+y)*m+x] += h[c]
		}
	}
	for k := range m {
		r[k] -= l2 * a[k]
		H[k*m+k] += l2
	}
	s := solveSPD(H, r, m)
	var move float64
	for k := range m {
		d := max(-gridMaxStep, min(gridMaxStep, s[k]))
		a[k] += d
		move = max(move, math.Abs(d))
	}
	return move
}

// solveSPD solves H s = r for a symmetric positive definite m × m H
// (row-major) by Cholesky factorization, in place.
func solveSPD(H, r []float64, m int) []float64 {
	for j := range m {
		d := H[j*m+j]
		for k := range j {
			d -= H[j*m+k] * H[j*m+k]
		}
		d = math.Sqrt(max(d, 1e-300))
		H[j*m+j] = d
		for i := j + 1; i < m; i++ {
			v := H[i*m+j]
			for k := range j {
				v -= H[i*m+k] * H[j*m+k]
			}
			H[i*m+j] = v / d
		}
	}
	s := slices.Clone(r)
	for i := range m {
		for k := range i {
			s[i] -= H[i*m+k] * s[k]
		}
		s[i] /= H[i*m+i]
	}
	for i := m - 1; i >= 0; i-- {
		for k := i + 1; k < m; k++ {
			s[i] -= H[k*m+i] * s[k]
		}
		s[i] /= H[i*m+i]
	}
	return s
}

// pairChars returns the characteristics whose pairs are ranked: the
// maxPairChars whose tables spread most over the fitting rows (variance),
// in card order.
func (st *booster) pairChars() []int {
	n := len(st.fy)
	type sd struct {
		j int
		v float64
	}
	var all []sd
	for j, t := range st.m.tables {
		var s, s2 float64
		for i := range n {
			v := t[st.fIdx[i*st.nc+j]]
			s += v
			s2 += v * v
		}
		// A flat table stays a candidate: a pure interaction has none.
		all = append(all, sd{j, max(0, s2/float64(n)-(s/float64(n))*(s/float64(n)))})
	}
	slices.SortStableFunc(all, func(a, b sd) int { return cmp.Compare(b.v, a.v) })
	var idx []int
	for _, x := range all[:min(len(all), maxPairChars)] {
		idx = append(idx, x.j)
	}
	slices.Sort(idx)
	return idx
}

// newPair makes a pair term of characteristics a and b over coarse bins
// ba and bb; its rows' cells from the bins of the fitting rows (fa, fb)
// and, when given, of the validation rows (va, vb).
func (st *booster) newPair(a, b int, ba, bb *binning.Binning, fa, fb, va, vb []int32) *pairTerm {
	nB := len(bb.Bins)
	n := len(ba.Bins) * nB
	p := &pairTerm{a: a, b: b, ba: ba, bb: bb, nB: nB, table: make([]float64, n), g: make([]float64, n), h: make([]float64, n), n: make([]float64, n)}
	cells := func(x, y []int32) []uint16 {
		out := make([]uint16, len(x))
		for i := range x {
			out[i] = uint16(int(x[i])*nB + int(y[i]))
		}
		return out
	}
	p.fCell = cells(fa, fb)
	for _, c := range p.fCell {
		p.n[c]++
	}
	if va != nil {
		p.vCell = cells(va, vb)
		p.good, p.bad = make([]int64, n), make([]int64, n)
		for i, c := range p.fCell {
			if st.fy[i] == 1 {
				p.bad[c]++
			} else {
				p.good[c]++
			}
		}
	}
	return p
}

// pairedZ is the paired z statistic of the validation rows'
// log-likelihood gains from log odds before to after: their sum over
// its standard error, √n times their standard deviation.
func pairedZ(before, after, y []float64) float64 {
	n := float64(len(y))
	var s, s2 float64
	for i := range y {
		d := loglik(after[i:i+1], y[i:i+1]) - loglik(before[i:i+1], y[i:i+1])
		s += d
		s2 += d * d
	}
	v := s2/n - (s/n)*(s/n)
	if v <= 0 {
		return 0
	}
	return s / math.Sqrt(n*v)
}
