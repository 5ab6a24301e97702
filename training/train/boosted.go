//go:build duckdb_arrow

package train

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/floats"

	"qiandun/internal/par"
	"qiandun/training/binning"
	"qiandun/training/scorecard"
	"qiandun/training/selection"
)

// trainBoosted fits the boosted card on the candidates that pass the
// missing-rate, single-value and IV screens (no stepwise: a
// characteristic that does not help keeps a near-zero table), each
// numeric one's table monotone in the direction trends gives (boostTrend).
func trainBoosted(ctx context.Context, cfg *Config, cands []selection.Candidate, tr *sample, trends map[string]int, dropped *[]scorecard.Dropped, names []string, phase time.Time, log *slog.Logger) (*scorecard.Model, error) {
	so := cfg.Selection
	kept, d := selection.Filter(cands, so)
	for _, x := range d {
		*dropped = append(*dropped, scorecard.Dropped{Variable: x.Variable, Reason: x.Reason})
	}
	if len(kept) == 0 {
		return nil, noneKept(names, *dropped)
	}
	cols := make([]*binning.Column, len(kept))
	dirs := make([]int, len(kept))
	for j, c := range kept {
		cols[j], dirs[j] = tr.cols[c.Name], trends[c.Name]
	}
	bm, err := fitBoosted(ctx, cols, dirs, tr.y, cfg.Binning, cfg.Boost, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("train: boosted: %w", err)
	}
	// A characteristic no tree split is left out of the card.
	var bins []*binning.Binning
	var tables [][]float64
	for j, t := range bm.tables {
		flat := true
		for _, v := range t {
			flat = flat && math.Abs(v) < 1e-12
		}
		if flat {
			*dropped = append(*dropped, scorecard.Dropped{Variable: bm.bins[j].Variable, Reason: "boosted: no split of it improved the fit before early stopping"})
			continue
		}
		bins, tables = append(bins, bm.bins[j]), append(tables, t)
	}
	bm.bins, bm.tables = bins, tables
	if len(bm.bins) == 0 {
		return nil, noneKept(names, *dropped)
	}
	log.Info("train: boosted", "characteristics", len(bm.bins), "rounds", bm.rounds, "bags", bm.bags, "seconds", time.Since(phase).Seconds())
	m, err := scorecard.BuildAdditive(cfg.Name, bm.bins, bm.tables, bm.intercept, cfg.Scaling)
	if err != nil {
		return nil, err
	}
	if err := addPairs(m, bm, dropped); err != nil {
		return nil, err
	}
	m.Fit = scorecard.Fit{N: tr.n, Iterations: bm.rounds, L2: cfg.Boost.withDefaults().L2}
	return m, nil
}

// addPairs adds the kept pairs to the card, the choices to m.Pairs and
// the pairs not kept to dropped (and m.Dropped).
func addPairs(m *scorecard.Model, bm *boosted, dropped *[]scorecard.Dropped) error {
	var tables []scorecard.PairTable
	for _, p := range bm.pairs {
		tables = append(tables, scorecard.PairTable{A: p.ba, B: p.bb, Table: p.table, Good: p.good, Bad: p.bad})
	}
	if err := m.AddPairs(tables); err != nil {
		return err
	}
	for _, c := range bm.choices {
		name := scorecard.PairName(c.a, c.b)
		m.Pairs = append(m.Pairs, scorecard.PairChoice{Pair: name, Inputs: [2]string{c.a, c.b}, Rank: c.rank, Gain: c.gain,
			ValBefore: c.before, ValMain: c.main, ValAfter: c.after, Z: c.z, Trees: c.rounds, Kept: c.kept, Reason: c.reason})
		if !c.kept {
			*dropped = append(*dropped, scorecard.Dropped{Variable: name, Reason: c.reason})
		}
	}
	return nil
}

// The default Bags: BagsSmall bags up to BagRows train rows, one above.
const (
	BagsSmall = 5
	BagRows   = 200_000
)

// DefaultMaxPairs is the number of pairs a boosted card may keep unless
// configured (boosted.max_pairs).
const DefaultMaxPairs = 3

// BoostOptions control the boosted additive card (Method "boosted").
type BoostOptions struct {
	Shrinkage float64 // learning rate of each round's line-searched step (default 0.1)
	L2        float64 // added to each leaf's hessian sum (default 1)
	// Bags is the number of splits of the train rows into fitting and
	// validation rows the main effects are boosted on, their tables
	// averaged (bagging, as explainable boosting machines' outer bags).
	// 0: BagsSmall up to BagRows train rows, else 1 (at a million rows
	// the bags' mean scores as one bag does, at twice the time).
	Bags      int
	MaxRounds int     // rounds (default 3000)
	Patience  int     // rounds without a better validation log-likelihood before stopping (default 10)
	ValShare  float64 // share of the train sample held out for early stopping (default 0.2)
	FineBins  int     // equal-frequency fine bins per characteristic (default 255, as histogram gradient boosting bins: LightGBM, scikit-learn)
	MinShare  float64 // minimum share of a bin (default 0.005)
	// Leaves bounds the leaves of each characteristic's tree in a round
	// (default 4: up to three cut points of its ordered bins); Gate is
	// the share of the round's best gain a characteristic's tree must
	// reach to be applied in that round (default 0.3; 1: only the best).
	Leaves int
	Gate   float64
	// Pairs (2-D interaction tables): the MaxPairs pairs of
	// characteristics of the largest FAST gain are tried, each over
	// PairBins equal-frequency coarse bins of either input (default 6,
	// plus special and missing bins), and kept only when the pair's
	// table, fitted on its grid, raises the validation log-likelihood
	// above its two inputs' main effects fitted on the same grid by at
	// least PairMinGain nats per validation row (default 0.002) and
	// PairMinZ (default 2) standard errors of the per-row gains
	// (pairedZ).
	MaxPairs    int // default DefaultMaxPairs; negative: none
	PairBins    int
	PairMinGain float64
	PairMinZ    float64
}

func (o BoostOptions) withDefaults() BoostOptions {
	if o.Shrinkage <= 0 {
		o.Shrinkage = 0.1
	}
	if o.L2 <= 0 {
		o.L2 = 1
	}
	if o.MaxRounds <= 0 {
		o.MaxRounds = 3000
	}
	if o.Patience <= 0 {
		o.Patience = 10
	}
	if o.ValShare <= 0 || o.ValShare >= 1 {
		o.ValShare = 0.2
	}
	if o.FineBins <= 1 {
		o.FineBins = 255
	}
	if o.MinShare <= 0 {
		o.MinShare = 0.005
	}
	if o.Leaves < 2 {
		o.Leaves = 4
	}
	if o.Gate <= 0 || o.Gate > 1 {
		o.Gate = 0.3
	}
	if o.MaxPairs == 0 {
		o.MaxPairs = DefaultMaxPairs
	}
	if o.PairBins <= 1 {
		o.PairBins = 6
	}
	if o.PairMinGain <= 0 {
		o.PairMinGain = 0.002
	}
	if o.PairMinZ <= 0 {
		o.PairMinZ = 2
	}
	return o
}

// boosted is a fitted additive model: the log odds of bad are intercept +
// Σ_j tables[j][bin of characteristic j].
type boosted struct {
	bins      []*binning.Binning
	tables    [][]float64
	intercept float64
	rounds    int
	// pairs are the pairs kept (their tables added to the log odds),
	// choices every pair tried, and jointGain the validation
	// log-likelihood gained by boosting the characteristics and pairs
	// together after the pairs were chosen.
	pairs     []*pairTerm
	choices   []pairChoice
	jointGain float64
	bags      int // the bags averaged (BoostOptions.Bags)
}

// fitBoosted fits the boosted additive card by cyclic gradient boosting
// of small trees over each characteristic's ordered fine bins
// (equal-frequency bins on the fitting rows, then its special and
// missing bins): each round takes one histogram pass of the gradient
// and hessian sums (G, H of the log-likelihood) of every bin, fits for
// every characteristic a tree of up to Leaves leaves (cut points of its
// bins chosen greedily by the gain Σ_leaves G²/(H+λ) − G²/(H+λ)), and
// applies together the trees of every characteristic whose gain is at
// least Gate times the round's best: their leaves' Newton values
// G/(H+λ), summed, are the direction; a Newton line search along it on
// the fitting rows scales it (several characteristics move at once),
// and the shrinkage η scales that (applyTerms). Early-stopped on a
// stratified validation share of the train rows at the round with the
// best validation log-likelihood (Patience rounds without a better
// one). The sum of trees of one characteristic is a step function of
// its fine bins: the card stays a points table per characteristic. A
// characteristic whose dirs entry is +1 (−1) only takes trees whose
// leaves rise (fall) across its ordered bins, so its table rises
// (falls) with the value: a sum of monotone steps is monotone. Its
// special and missing bins stay free.
func fitBoosted(ctx context.Context, cols []*binning.Column, dirs []int, y []float64, bo binning.Options, o BoostOptions, seed uint64) (*boosted, error) {
	o = o.withDefaults()
	st, err := newBooster(ctx, cols, dirs, y, bo, o, seed, nil)
	if err != nil {
		return nil, err
	}
	if err := st.boost(ctx, false); err != nil {
		return nil, err
	}
	if st.m.bags = o.Bags; o.Bags == 0 {
		st.m.bags = 1
		if len(y) <= BagRows {
			st.m.bags = BagsSmall
		}
	}
	if st.m.bags > 1 {
		if err := st.bag(ctx, cols, dirs, y, seed); err != nil {
			return nil, err
		}
	}
	if o.MaxPairs > 0 && st.nc >= 2 {
		if err := st.choosePairs(ctx); err != nil {
			return nil, err
		}
		if len(st.m.pairs) > 0 {
			before := loglik(st.vEta, st.vy)
			if err := st.boost(ctx, true); err != nil {
				return nil, err
			}
			st.m.jointGain = loglik(st.vEta, st.vy) - before
		}
	}
	st.centre()
	return st.m, nil
}

// bag boosts the main effects again on Bags−1 further splits of the
// train rows into fitting and validation rows (seeds seed+1, seed+2, ...;
// the same fine bins) and sets st's tables and intercept to the mean of
// all the bags' (st's own the first): each row is a fitting row of most
// bags, and the mean's variance is lower than one bag's. A mean of
// tables monotone the same way is monotone. The pairs that follow are
// chosen and fitted on st's split.
func (st *booster) bag(ctx context.Context, cols []*binning.Column, dirs []int, y []float64, seed uint64) error {
	kc, kd := make([]*binning.Column, len(st.kept)), make([]int, len(st.kept))
	for k, j := range st.kept {
		kc[k], kd[k] = cols[j], dirs[j]
	}
	sum, intercept := cloneTables(st.m.tables), st.m.intercept
	for b := 1; b < st.m.bags; b++ {
		bt, err := newBooster(ctx, kc, kd, y, st.bo, st.o, seed+uint64(b), st.m.bins)
		if err != nil {
			return err
		}
		if err := bt.boost(ctx, false); err != nil {
			return err
		}
		for j, t := range bt.m.tables {
			floats.Add(sum[j], t)
		}
		intercept += bt.m.intercept
		st.m.rounds += bt.m.rounds
	}
	for _, t := range sum {
		floats.Scale(1/float64(st.m.bags), t)
	}
	st.m.tables, st.m.intercept = sum, intercept/float64(st.m.bags)
	st.resetEta()
	return nil
}

// boost runs rounds (with pairs, the pairs' two-level trees take part
// in each round beside the characteristics' trees) until the validation
// log-likelihood has not improved for Patience rounds, then goes back to
// the best round (the tables and the rows' log odds).
func (st *booster) boost(ctx context.Context, pairs bool) error {
	o := st.o
	best := loglik(st.vEta, st.vy)
	bestTables, bestPairs := cloneTables(st.m.tables), st.pairTables()
	since, rounds := 0, 0
	for round := 1; round <= o.MaxRounds; round++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		st.histograms()
		terms := st.roundTerms(pairs)
		if len(terms) == 0 {
			break // no split gains
		}
		st.applyTerms(terms)
		ll := st.valLoglik()
		if ll > best+1e-9 {
			best, bestTables, bestPairs, rounds, since = ll, cloneTables(st.m.tables), st.pairTables(), round, 0
			continue
		}
		if since++; since >= o.Patience {
			break
		}
	}
	st.m.rounds += rounds
	st.m.tables = bestTables
	for i, p := range st.m.pairs {
		p.table = bestPairs[i]
	}
	st.resetEta()
	return nil
}

// term is one tree of a round: the Newton value of its leaf at each bin
// of characteristic j (or each cell of pair p), its gain and the sum of
// its leaves' squared values (the L2 term of the line search).
type term struct {
	j    int
	p    *pairTerm
	d    []float64
	gain float64
	w2   float64
}

// roundTerms fits each characteristic's tree (and, with pairs, each
// pair's two-level tree) on the round's histograms and returns those
// whose gain is at least Gate times the best gain, in card order (then
// the pairs'); none when no tree gains.
func (st *booster) roundTerms(pairs bool) []term {
	o := st.o
	all := make([]term, 0, st.nc+len(st.m.pairs))
	bestGain := 0.0
	for j := range st.nc {
		d := st.k.d[j]
		gain, w2 := fitTree(st.g[j], st.h[j], st.nOrd[j], st.dir[j], o.Leaves, o.L2, d)
		all = append(all, term{j: j, d: d, gain: gain, w2: w2})
		bestGain = max(bestGain, gain)
	}
	if pairs {
		for _, p := range st.m.pairs {
			p.histogram(st.resid, st.hw)
			t := p.bestTree(o.L2)
			if t.gain <= 0 {
				continue
			}
			d, w2 := p.treeValues(t, o.L2)
			all = append(all, term{j: -1, p: p, d: d, gain: t.gain, w2: w2})
			bestGain = max(bestGain, t.gain)
		}
	}
	if bestGain <= 0 {
		return nil
	}
	out := all[:0]
	for _, t := range all {
		if t.gain > 0 && t.gain >= o.Gate*bestGain {
			out = append(out, t)
		}
	}
	return out
}

// fitTree fits a tree of up to leaves leaves over the ordered bins of a
// characteristic with gradient and hessian sums g and h: cut points
// chosen one at a time, each the split of a current leaf (a run of
// consecutive bins) of the largest gain G_L²/(H_L+λ) + G_R²/(H_R+λ) −
// G²/(H+λ); with dir ≠ 0, only cuts that keep the values of the leaves
// over its first nOrd bins (the ordered ones) rising (dir +1) or falling
// (−1) in bin order; a leaf of special and missing bins alone is free.
// It sets d[k] to the Newton value G/(H+λ) of bin k's leaf and returns
// the tree's gain over one leaf (0: no cut gains; d is then that one
// leaf's value) and the sum of its leaves' squared values.
func fitTree(g, h []float64, nOrd, dir, leaves int, l2 float64, d []float64) (gain, w2 float64) {
	nb := len(g)
	var pgA, phA [258]float64
	pg, ph := pgA[:0], phA[:0]
	if nb+1 > len(pgA) {
		pg, ph = make([]float64, 0, nb+1), make([]float64, 0, nb+1)
	}
	pg, ph = append(pg, 0), append(ph, 0)
	for k := range g {
		pg, ph = append(pg, pg[k]+g[k]), append(ph, ph[k]+h[k])
	}
	value := func(a, b int) float64 { return (pg[b] - pg[a]) / (ph[b] - ph[a] + l2) }
	score := func(a, b int) float64 { G := pg[b] - pg[a]; return G * G / (ph[b] - ph[a] + l2) }
	// cuts: the leaves' bounds, leaf i the bins [cuts[i], cuts[i+1]).
	var cutsA, tryA [16]int
	cuts := append(cutsA[:0], 0, nb)
	// monotone says whether the leaves of bounds c keep dir.
	monotone := func(c []int) bool {
		prev := math.NaN()
		for i := 0; i+1 < len(c) && c[i] < nOrd; i++ {
			v := value(c[i], c[i+1])
			if !math.IsNaN(prev) && float64(dir)*(v-prev) < 0 {
				return false
			}
			prev = v
		}
		return true
	}
	for len(cuts)-1 < leaves && len(cuts) < len(cutsA) {
		bestGain, bestAt := 0.0, -1
		for i := 0; i+1 < len(cuts); i++ {
			a, b := cuts[i], cuts[i+1]
			base := score(a, b)
			for c := a + 1; c < b; c++ {
				gn := score(a, c) + score(c, b) - base
				if !(gn > bestGain) {
					continue
				}
				if dir != 0 {
					try := append(append(append(tryA[:0], cuts[:i+1]...), c), cuts[i+1:]...)
					if !monotone(try) {
						continue
					}
				}
				bestGain, bestAt = gn, c
			}
		}
		if bestAt < 0 {
			break
		}
		i := 0
		for cuts[i] < bestAt {
			i++
		}
		cuts = slices.Insert(cuts, i, bestAt)
		gain += bestGain
	}
	for i := 0; i+1 < len(cuts); i++ {
		v := value(cuts[i], cuts[i+1])
		w2 += v * v
		for k := cuts[i]; k < cuts[i+1]; k++ {
			d[k] = v
		}
	}
	return gain, w2
}

// resetEta recomputes the rows' log odds from the intercept and the
// tables (1-D and pairs).
func (st *booster) resetEta() {
	st.stale()
	set := func(eta []float64, idx []uint16, cell func(p *pairTerm) []uint16) {
		for i := range eta {
			e := st.m.intercept
			row := idx[i*st.nc : (i+1)*st.nc]
			for j, t := range st.m.tables {
				e += t[row[j]]
			}
			eta[i] = e
		}
		for _, p := range st.m.pairs {
			c := cell(p)
			for i := range eta {
				eta[i] += p.table[c[i]]
			}
		}
	}
	set(st.fEta, st.fIdx, func(p *pairTerm) []uint16 { return p.fCell })
	set(st.vEta, st.vIdx, func(p *pairTerm) []uint16 { return p.vCell })
}

// booster is the state of fitBoosted: the fitting and validation rows'
// fine bins (row-major: row i's bin of characteristic j at i·nc+j), log
// odds and outcomes, and each round's gradient and hessian sums per bin.
type booster struct {
	o          BoostOptions
	m          *boosted
	nc         int
	bo         binning.Options
	fitCols    []*binning.Column // the characteristics' fitting rows (kept ones, card order)
	valCols    []*binning.Column // and validation rows
	fIdx, vIdx []uint16
	fy, vy     []float64
	fEta, vEta []float64
	resid, hw  []float64   // y − p and p(1 − p) of the fitting rows
	g, h       [][]float64 // per characteristic and bin
	// dir[j] is +1 (−1) when characteristic j's table must rise (fall)
	// over its first nOrd[j] bins, the ordered ones; 0 when it is free.
	dir, nOrd []int
	k         *boostKernel
	kept      []int // the columns given to newBooster that it kept
}

// boostKernel is the per-round work of booster laid out for speed: the
// bins column by column (a round's step reads the columns of its trees,
// not every row's whole record), the histograms of all characteristics in one
// array (bin k of characteristic j: gradient at off[j]+2k, hessian next
// to it), and each validation row's log-likelihood term. fresh says that
// resid and hw already hold the gradients at the current log odds
// (applyTerms computes them with the new log odds); vFresh that vLoss holds the
// validation terms.
type boostKernel struct {
	fCol, vCol    [][]uint16
	off           []int
	hist          []float64
	vLoss         []float64
	fresh, vFresh bool
	// d[j] holds characteristic j's tree of the round (a value per
	// bin); fD and vD the round's summed direction at each fitting and
	// validation row.
	d      [][]float64
	fD, vD []float64
}

// newBooster splits the train rows into fitting and validation rows
// (stratified, by seed), fine-bins every characteristic on the fitting
// rows, or takes fine (one binning per column, each of two or more bins)
// when given, and starts the log odds at the fitting rows' overall log
// odds. st.kept lists the columns it kept (those with two or more fine
// bins), in card order.
func newBooster(ctx context.Context, cols []*binning.Column, dirs []int, y []float64, bo binning.Options, o BoostOptions, seed uint64, fine []*binning.Binning) (*booster, error) {
	all := make([]int, len(y))
	for i := range all {
		all[i] = i
	}
	fitIdx, valIdx := stratifiedSplit(all, y, o.ValShare, seed^0xb005)
	st := &booster{o: o, bo: bo, m: &boosted{}, fy: take(y, fitIdx), vy: take(y, valIdx)}
	var fitCols []*binning.Column
	for _, c := range cols {
		fitCols = append(fitCols, c.Take(fitIdx))
	}
	bins, errs := fine, make([]error, len(cols))
	if bins == nil {
		fo := bo
		fo.Method, fo.MaxBins, fo.MinShare, fo.BinCount = binning.EqualFreq, o.FineBins, o.MinShare, "fixed"
		bins, errs = binning.FitAll(ctx, fitCols, st.fy, fo, nil, 2)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var fIdx, vIdx [][]int32
	for j, b := range bins {
		if errs[j] != nil || len(b.Bins) < 2 {
			continue
		}
		if len(b.Bins) > math.MaxUint16 {
			return nil, fmt.Errorf("%s: %d fine bins", b.Variable, len(b.Bins))
		}
		st.kept = append(st.kept, j)
		fi, _ := b.Index(fitCols[j])
		vc := cols[j].Take(valIdx)
		vi, _ := b.Index(vc)
		st.fitCols, st.valCols = append(st.fitCols, fitCols[j]), append(st.valCols, vc)
		st.m.bins = append(st.m.bins, b)
		fIdx, vIdx = append(fIdx, fi), append(vIdx, vi)
		st.m.tables = append(st.m.tables, make([]float64, len(b.Bins)))
		st.g, st.h = append(st.g, make([]float64, len(b.Bins))), append(st.h, make([]float64, len(b.Bins)))
		st.dir, st.nOrd = append(st.dir, dirs[j]), append(st.nOrd, orderedBins(b))
	}
	st.nc = len(fIdx)
	st.fIdx, st.vIdx = rowMajor(fIdx, len(fitIdx)), rowMajor(vIdx, len(valIdx))
	st.k = newBoostKernel(fIdx, vIdx, st.g)
	var bads float64
	for _, v := range st.fy {
		bads += v
	}
	st.m.intercept = math.Log(bads / (float64(len(st.fy)) - bads))
	st.fEta, st.vEta = make([]float64, len(st.fy)), make([]float64, len(st.vy))
	for i := range st.fEta {
		st.fEta[i] = st.m.intercept
	}
	for i := range st.vEta {
		st.vEta[i] = st.m.intercept
	}
	st.resid, st.hw = make([]float64, len(st.fy)), make([]float64, len(st.fy))
	return st, nil
}

// newBoostKernel lays out the fitting and validation bins (per
// characteristic) column by column and sizes the histograms of the
// characteristics, nb[j] = len(g[j]) bins each.
func newBoostKernel(fIdx, vIdx [][]int32, g [][]float64) *boostKernel {
	k := &boostKernel{off: make([]int, len(g)+1)}
	for j := range g {
		k.off[j+1] = k.off[j] + 2*len(g[j])
	}
	k.hist = make([]float64, k.off[len(g)])
	col := func(c []int32) []uint16 {
		out := make([]uint16, len(c))
		for i, b := range c {
			out[i] = uint16(b)
		}
		return out
	}
	for j := range fIdx {
		k.fCol, k.vCol = append(k.fCol, col(fIdx[j])), append(k.vCol, col(vIdx[j]))
	}
	for j := range g {
		k.d = append(k.d, make([]float64, len(g[j])))
	}
	if len(fIdx) > 0 {
		k.fD, k.vD = make([]float64, len(fIdx[0])), make([]float64, len(vIdx[0]))
		k.vLoss = make([]float64, len(vIdx[0]))
	}
	return k
}

// rowMajor lays out per-characteristic bin columns of n rows row by row.
func rowMajor(cols [][]int32, n int) []uint16 {
	out := make([]uint16, n*len(cols))
	for j, c := range cols {
		for i, k := range c {
			out[i*len(cols)+j] = uint16(k)
		}
	}
	return out
}

// histograms sets g and h to the gradient (y − p) and hessian (p(1 − p))
// sums of every characteristic's bins at the current log odds. Each sum
// adds its rows in row order, whatever the split of the work: two
// workers take half the characteristics each.
func (st *booster) histograms() {
	if !st.k.fresh {
		par.Halves(len(st.fEta), st.gradients)
	}
	st.k.fresh = false
	par.Halves(st.nc, st.histogramRange)
}

// gradients sets resid and hw of fitting rows [lo, hi) at their log odds.
func (st *booster) gradients(lo, hi int) {
	st.gradientsAt(st.fEta[lo:hi], lo, hi)
}

// gradientsAt sets resid and hw of fitting rows [lo, hi) at log odds eta
// (those rows' own).
func (st *booster) gradientsAt(eta []float64, lo, hi int) {
	y, resid, hw := st.fy[lo:hi], st.resid[lo:hi], st.hw[lo:hi]
	for i, e := range eta {
		p := 1 / (1 + math.Exp(-e))
		resid[i] = y[i] - p
		hw[i] = p * (1 - p)
	}
}

// histogramRange sets g and h of characteristics [lo, hi): one pass over
// the rows, each row's bins of those characteristics read together, the
// sums in the shared array (gradient and hessian of a bin side by side)
// and then copied out. Every sum adds its rows in row order.
func (st *booster) histogramRange(lo, hi int) {
	k, nc := st.k, st.nc
	hist := k.hist[k.off[lo]:k.off[hi]]
	clear(hist)
	off := make([]int, hi-lo)
	for j := range off {
		off[j] = k.off[lo+j] - k.off[lo]
	}
	hw := st.hw[:len(st.resid)]
	for i, r := range st.resid {
		w := hw[i]
		row := st.fIdx[i*nc+lo : i*nc+hi]
		for j, b := range row[:len(off)] {
			x := off[j] + 2*int(b)
			hist[x] += r
			hist[x+1] += w
		}
	}
	for j := lo; j < hi; j++ {
		h := hist[off[j-lo]:]
		g, hh := st.g[j], st.h[j]
		for b := range g {
			g[b], hh[b] = h[2*b], h[2*b+1]
		}
	}
}

// residuals sets resid and hw to the fitting rows' gradients y − p and
// hessians p(1 − p) at the current log odds.
func (st *booster) residuals() {
	par.Halves(len(st.fEta), st.gradients)
}

// stale says the rows' log odds changed outside applyTerms: the
// gradients and validation terms it left are not current.
func (st *booster) stale() {
	st.k.fresh, st.k.vFresh = false, false
}

// applyTerms applies the round's trees: with D the sum of their leaf
// values at each row's bins (cells), the line search's Newton step from
// the current log odds, α = Σ r·D / (Σ h·D² + λ Σ_trees Σ_leaves w²)
// (r, h the fitting rows' gradients and hessians: one tree alone gets α
// = 1, its own Newton step), scaled by the shrinkage, is added to the
// tables and the rows' log odds; then the fitting rows' gradients (for
// the next round's histograms) and the validation rows' log-likelihood
// terms (for valLoglik) are computed at the new log odds. Per-row work
// on two workers (D sums its trees in term order); the two sums of the
// line search add the halves' row-order sums, a split fixed by the
// number of rows: the same inputs give the same step.
func (st *booster) applyTerms(terms []term) {
	k := st.k
	fcol := func(t term) []uint16 {
		if t.p != nil {
			return t.p.fCell
		}
		return k.fCol[t.j]
	}
	vcol := func(t term) []uint16 {
		if t.p != nil {
			return t.p.vCell
		}
		return k.vCol[t.j]
	}
	var part [2][2]float64
	par.Halves(len(st.fEta), func(lo, hi int) {
		D := k.fD[lo:hi]
		sumSteps(D, terms, fcol, lo, hi)
		var rd, hd float64
		r, h := st.resid[lo:hi], st.hw[lo:hi]
		for i, x := range D {
			rd += r[i] * x
			hd += h[i] * x * x
		}
		w := 0
		if lo > 0 {
			w = 1
		}
		part[w] = [2]float64{rd, hd}
	})
	var w2 float64
	for _, t := range terms {
		w2 += t.w2
	}
	rd, hd := part[0][0]+part[1][0], part[0][1]+part[1][1]+st.o.L2*w2
	if !(rd > 0 && hd > 0) {
		return
	}
	step := st.o.Shrinkage * rd / hd
	for _, t := range terms {
		tab := t.p.tableOr(st.m.tables, t.j)
		for b, v := range t.d {
			tab[b] += step * v
		}
	}
	par.Halves(len(st.fEta), func(lo, hi int) {
		eta := st.fEta[lo:hi]
		for i, x := range k.fD[lo:hi] {
			eta[i] += step * x
		}
		st.gradients(lo, hi)
	})
	par.Halves(len(st.vEta), func(lo, hi int) {
		D := k.vD[lo:hi]
		sumSteps(D, terms, vcol, lo, hi)
		eta, y, loss := st.vEta[lo:hi], st.vy[lo:hi], k.vLoss[lo:hi]
		for i, x := range D {
			eta[i] += step * x
			if y[i] == 1 {
				loss[i] = softplus(-eta[i])
			} else {
				loss[i] = softplus(eta[i])
			}
		}
	})
	k.fresh, k.vFresh = true, true
}

// tableOr is p's table, or (p nil) tables[j].
func (p *pairTerm) tableOr(tables [][]float64, j int) []float64 {
	if p != nil {
		return p.table
	}
	return tables[j]
}

// valLoglik is loglik(vEta, vy), from the terms applyTerms computed when
// they are current: the same terms summed in the same order.
func (st *booster) valLoglik() float64 {
	if !st.k.vFresh {
		return loglik(st.vEta, st.vy)
	}
	st.k.vFresh = false
	var s float64
	for _, t := range st.k.vLoss {
		s -= t
	}
	return s
}

// centre centres each table on its fitting-row mean (the intercept takes
// the shift): a bin's points then read as above or below the average.
func (st *booster) centre() {
	n := len(st.fy)
	for j, t := range st.m.tables {
		var s float64
		for i := range n {
			s += t[st.fIdx[i*st.nc+j]]
		}
		mean := s / float64(n)
		for k := range t {
			t[k] -= mean
		}
		st.m.intercept += mean
	}
	for _, p := range st.m.pairs {
		var s float64
		for _, c := range p.fCell {
			s += p.table[c]
		}
		mean := s / float64(n)
		for k := range p.table {
			p.table[k] -= mean
		}
		st.m.intercept += mean
	}
}

func take(y []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for k, i := range idx {
		out[k] = y[i]
	}
	return out
}

func cloneTables(t [][]float64) [][]float64 {
	out := make([][]float64, len(t))
	for j := range t {
		out[j] = append([]float64(nil), t[j]...)
	}
	return out
}

// loglik is the Bernoulli log-likelihood of y at log odds eta.
func loglik(eta, y []float64) float64 {
	var s float64
	for i, e := range eta {
		if y[i] == 1 {
			s -= softplus(-e)
		} else {
			s -= softplus(e)
		}
	}
	return s
}

func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// boostTrend is the direction of a numeric characteristic's boosted
// table: +1 when its coarse binning b, searched under monotonic (the
// run's binning.monotonic or the --bins file's for it), has bad rates
// rising across its ordered bins, −1 when falling, and 0 (free) when
// monotonic is none, the binning found a peak or valley, it has fewer
// than two ordered bins or is categorical.
func boostTrend(b *binning.Binning, monotonic binning.Monotonic) int {
	if b.Kind != binning.Numeric || monotonic == binning.None {
		return 0
	}
	var rates []float64
	for _, x := range b.Bins {
		if x.Interval {
			rates = append(rates, x.BadRate)
		}
	}
	if len(rates) < 2 {
		return 0
	}
	up, down := true, true
	for i := 1; i < len(rates); i++ {
		up = up && rates[i] >= rates[i-1]
		down = down && rates[i] <= rates[i-1]
	}
	switch {
	case up && !down:
		return 1
	case down && !up:
		return -1
	}
	return 0
}

// orderedBins is the number of b's bins that are intervals of its values
// (they come first; special and missing bins follow).
func orderedBins(b *binning.Binning) int {
	n := 0
	for _, x := range b.Bins {
		if x.Interval {
			n++
		}
	}
	return n
}

// sumSteps sets D[i], for rows lo..hi-1, to the sum over terms, in term
// order, of each term's step at the row's bin (or cell) in col(term).
func sumSteps(D []float64, terms []term, col func(term) []uint16, lo, hi int) {
	for n, t := range terms {
		d, c := t.d, col(t)[lo:hi]
		if n == 0 {
			for i, b := range c {
				D[i] = d[b]
			}
			continue
		}
		for i, b := range c {
			D[i] += d[b]
		}
	}
}
