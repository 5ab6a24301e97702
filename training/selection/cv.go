package selection

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/mat"

	"qiandun/internal/hugepage"
	"qiandun/internal/par"
	"qiandun/training/binning"
	"qiandun/training/logit"
)

// StepwiseCV is forward selection judged out of sample: at each step the
// characteristics outside the model are ranked by their Rao score test
// against the current fit (one fit per step: the score statistic of adding
// x_j is U_j²/V_j with U_j = Σ x_ij(y_i − p_i) and V_j the Schur complement
// of the weighted cross-product X'WX), and the best-ranked ones are tried,
// in rank order, by k-fold cross-validated log-likelihood; the first that
// raises it enters. Selection stops when none of the o.CVTries best-ranked
// raises it, or at o.MaxVars. Each fold's fit starts from the full-sample
// estimates of the nested model (warm start).
//
// Above o.CVRows rows the decisions are taken on an evenly strided
// subsample of that many rows (the final fit, elsewhere, uses every row):
// at that size a characteristic that does not help out of sample is not
// rescued by more rows, and k folds of a million rows would cost seconds.
func StepwiseCV(ctx context.Context, cs []Candidate, y []float64, o Options) ([]Candidate, []Dropped, error) {
	o = o.WithDefaults()
	if len(cs) == 0 {
		return nil, nil, nil
	}
	n := len(y)
	base := strideRows(n, o.CVRows)
	m := len(cs)
	repeats := o.CVRepeats
	if repeats <= 0 {
		repeats = 1
		if len(base) < 20_000 {
			repeats = 3 // small samples: average out the fold assignment
		}
	}
	evals := make([]*cvEval, repeats)
	for r := range evals {
		evals[r] = newCVEval(cs, y, base, o, o.Seed+uint64(r)*0x9e3779b9)
	}
	cv0 := evals[0]
	in := []int{} // candidate indices in the model, in order of entry
	betas := make([][]float64, repeats)
	for r, e := range evals {
		betas[r] = []float64{logOdds(e.y)}
	}
	// evaluate returns the cross-validated log-likelihood of the model
	// of columns next, summed over the repeats, and each repeat's full
	// fit (warm-started from start).
	evaluate := func(next []int, start [][]float64) (float64, [][]float64, error) {
		var total float64
		coefs := make([][]float64, repeats)
		for r, e := range evals {
			st := start[r]
			if len(st) < len(next)+1 {
				st = append(slices.Clone(st), 0)
			}
			res, err := e.fit(ctx, next, e.y, nil, st)
			if err != nil {
				return 0, nil, err
			}
			ll, err := e.loglik(ctx, next, res.Coef)
			if err != nil {
				return 0, nil, err
			}
			total += ll
			coefs[r] = res.Coef
		}
		return total / float64(repeats), coefs, nil
	}
	cur, _, err := evaluate(in, betas)
	if err != nil {
		return nil, nil, err
	}
	reason := map[int]string{}
	for len(in) < min(o.MaxVars, m) {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		stats := cv0.scoreStats(in, betas[0])
		order := make([]int, 0, m-len(in))
		for j := range m {
			if !slices.Contains(in, j) && !math.IsNaN(stats[j]) {
				order = append(order, j)
			}
		}
		sort.SliceStable(order, func(a, b int) bool { return stats[order[a]] > stats[order[b]] })
		entered := false
		for t, j := range order {
			if t >= o.CVTries {
				break
			}
			next := append(slices.Clone(in), j)
			ll, coefs, err := evaluate(next, betas)
			if err != nil {
				reason[j] = "stepwise cv: cannot be fitted with the others (" + err.Error() + ")"
				continue
			}
			if ll > cur {
				in, betas, cur, entered = next, coefs, ll, true
				break
			}
			reason[j] = fmt.Sprintf("stepwise cv: adding it lowers the %d-fold cross-validated log-likelihood (%.2f -> %.2f)", o.Folds, cur, ll)
		}
		if !entered {
			break
		}
	}
	var kept []Candidate
	var dropped []Dropped
	for j, c := range cs {
		if slices.Contains(in, j) {
			kept = append(kept, c)
			continue
		}
		r := reason[j]
		if r == "" {
			r = fmt.Sprintf("stepwise cv: ranked below the characteristics tried last by the score test (%d-fold cv log-likelihood %.2f)", o.Folds, cur)
			if len(in) >= o.MaxVars {
				r = fmt.Sprintf("stepwise cv: max_vars %d reached", o.MaxVars)
			}
		}
		dropped = append(dropped, Dropped{c.Name, r})
	}
	return kept, dropped, nil
}

// newCVEval builds one fold assignment's design: rows (of y) grouped by
// fold, each fold a block; the intercept and every candidate, a
// candidate with its bin per row coded out of fold: each row's WoE from
// the other folds' counts, so that no row's own outcome is in its value
// (WoE fitted on every row makes any fine binning look good under
// cross-validation).
func newCVEval(cs []Candidate, y []float64, base []int, o Options, seed uint64) *cvEval {
	sy := make([]float64, len(base))
	for k, i := range base {
		sy[k] = y[i]
	}
	fold := foldsOf(sy, o.Folds, seed)
	bounds := make([]int, o.Folds+1)
	byFold := make([][]int, o.Folds)
	for k, f := range fold {
		byFold[f] = append(byFold[f], base[k])
	}
	rows := make([]int, 0, len(base))
	for f, b := range byFold {
		rows = append(rows, b...)
		bounds[f+1] = len(rows)
	}
	for k, i := range rows {
		sy[k] = y[i]
	}
	m := len(cs)
	x := mat.NewDense(len(rows), m+1, nil)
	for k := range rows {
		x.Set(k, 0, 1)
	}
	for j, c := range cs {
		if c.Bins == nil {
			for k, i := range rows {
				x.Set(k, j+1, c.WoE[i])
			}
			continue
		}
		for f, w := range outOfFoldWoE(c.Bins, y, rows, bounds) {
			for k := bounds[f]; k < bounds[f+1]; k++ {
				x.Set(k, j+1, w[c.Bins[rows[k]]])
			}
		}
	}
	cols := make([][]float64, m)
	for j := range cs {
		cols[j] = mat.Col(nil, j+1, x)
	}
	return &cvEval{y: sy, x: x, bounds: bounds, l2: o.L2, cols: cols}
}

// outOfFoldWoE returns, for each fold (rows[bounds[f]:bounds[f+1]]), the
// WoE of every bin from the counts of the other folds' rows, each count
// given half an observation (a bin empty of one class elsewhere stays
// finite).
func outOfFoldWoE(bins []int32, y []float64, rows []int, bounds []int) [][]float64 {
	nb := 0
	for _, i := range rows {
		nb = max(nb, int(bins[i])+1)
	}
	k := len(bounds) - 1
	good := make([][]float64, k)
	bad := make([][]float64, k)
	for f := range k {
		good[f], bad[f] = make([]float64, nb), make([]float64, nb)
		for t := bounds[f]; t < bounds[f+1]; t++ {
			i := rows[t]
			if y[i] == 1 {
				bad[f][bins[i]]++
			} else {
				good[f][bins[i]]++
			}
		}
	}
	out := make([][]float64, k)
	for f := range k {
		g, b := make([]float64, nb), make([]float64, nb)
		var gt, bt float64
		for o := range k {
			if o == f {
				continue
			}
			for v := range nb {
				g[v] += good[o][v]
				b[v] += bad[o][v]
			}
		}
		for v := range nb {
			gt += g[v]
			bt += b[v]
		}
		out[f] = make([]float64, nb)
		for v := range nb {
			out[f][v] = math.Log(((b[v] + 0.5) / bt) / ((g[v] + 0.5) / gt))
		}
	}
	return out
}

// strideRows returns every row when n <= max, else about max evenly
// strided rows.
func strideRows(n, max int) []int {
	stride := 1
	if max > 0 && n > max {
		stride = (n + max - 1) / max
	}
	out := make([]int, 0, n/stride+1)
	for i := 0; i < n; i += stride {
		out = append(out, i)
	}
	return out
}

func logOdds(y []float64) float64 {
	var b float64
	for _, v := range y {
		b += v
	}
	return math.Log(b / (float64(len(y)) - b))
}

// foldsOf assigns rows to k folds, stratified by class (on a PCG stream
// of its own, so selection's folds do not repeat binning's).
func foldsOf(y []float64, k int, seed uint64) []int {
	return binning.StratifiedFolds(y, k, seed, 0xf01d)
}

// scoreStats returns, for each column of x after the intercept, the Rao
// score statistic for adding it to the model of the columns in (plus the
// intercept) at coefficients beta, or NaN for the columns in the model and
// those whose conditional information is not positive (collinear).
func (e *cvEval) scoreStats(in []int, beta []float64) []float64 {
	x, y := e.x, e.y
	n, q := x.Dims()
	m := q - 1
	// Fitted probabilities of the current model.
	sel := append([]int{0}, plusOne(in)...)
	z, _, resid := e.buffers(n, q) // z: rows of x scaled by sqrt(w)
	xr, zr, rr := x.RawMatrix(), z.RawMatrix(), resid.RawVector().Data
	var us [2]mat.VecDense
	var gs [2]mat.SymDense
	for w := range us { // zero for a half without rows (gonum has no empty slices)
		us[w].ReuseAsVec(q)
		gs[w].ReuseAsSym(q)
	}
	par.Halves(n, func(lo, hi int) {
		if lo == hi {
			return
		}
		w := 0
		if lo > 0 {
			w = 1
		}
		for i := lo; i < hi; i++ {
			row := xr.Data[i*xr.Stride : i*xr.Stride+q]
			eta := 0.0
			for k, c := range sel {
				eta += beta[k] * row[c]
			}
			p := 1 / (1 + math.Exp(-eta))
			rr[i] = y[i] - p
			sw := math.Sqrt(p * (1 - p))
			zrow := zr.Data[i*zr.Stride : i*zr.Stride+q]
			for c, v := range row {
				zrow[c] = sw * v
			}
		}
		us[w].MulVec(x.Slice(lo, hi, 0, q).T(), resid.SliceVec(lo, hi)) // U = X'(y − p)
		gs[w].SymOuterK(1, z.Slice(lo, hi, 0, q).T())                   // G = X'WX
	})
	var u mat.VecDense
	u.AddVec(&us[0], &us[1])
	var g mat.SymDense
	g.AddSym(&gs[0], &gs[1])
	// G restricted to the model's columns, its Cholesky factor, and for
	// each outside column the Schur complement G_jj − G_j,in G_in,in⁻¹ G_in,j.
	s := len(sel)
	var gin mat.SymDense
	gin.SubsetSym(&g, sel)
	var chol mat.Cholesky
	out := make([]float64, m)
	for j := range out {
		out[j] = math.NaN()
	}
	if !chol.Factorize(&gin) {
		return out
	}
	gj := mat.NewVecDense(s, nil)
	var sol mat.VecDense
	for j := range m {
		if slices.Contains(in, j) {
			continue
		}
		for a := range s {
			gj.SetVec(a, g.At(sel[a], j+1))
		}
		if err := chol.SolveVecTo(&sol, gj); err != nil {
			continue
		}
		v := g.At(j+1, j+1) - mat.Dot(gj, &sol)
		if v <= 1e-12*g.At(j+1, j+1) {
			continue
		}
		out[j] = u.AtVec(j+1) * u.AtVec(j+1) / v
	}
	return out
}

func plusOne(in []int) []int {
	out := make([]int, len(in))
	for k, j := range in {
		out[k] = j + 1
	}
	return out
}

// cvEval computes k-fold cross-validated log-likelihoods of nested
// models. The rows are grouped by fold: fold f is rows bounds[f] to
// bounds[f+1] of x (intercept first, then every candidate).
type cvEval struct {
	y      []float64
	x      *mat.Dense
	cols   [][]float64
	bounds []int
	l2     float64
	// scratch holds the n × (columns) buffers of loglik and scoreStats,
	// reused from step to step rather than allocated per model.
	scratch [2][]float64
}

// buffers returns two n × c matrices and an n-vector over e's scratch,
// valid until the next call; the caller writes every element.
func (e *cvEval) buffers(n, c int) (*mat.Dense, *mat.Dense, *mat.VecDense) {
	for k := range e.scratch {
		if cap(e.scratch[k]) < n*c+n {
			e.scratch[k] = hugepage.Make[float64](n*c+n, 0)
		}
		e.scratch[k] = e.scratch[k][:n*c+n]
	}
	a, b := e.scratch[0], e.scratch[1]
	return mat.NewDense(n, c, a[:n*c]), mat.NewDense(n, c, b[:n*c]), mat.NewVecDense(n, a[n*c:])
}

func (e *cvEval) fit(ctx context.Context, in []int, y []float64, rows []int, start []float64) (*logit.Result, error) {
	cols := make([][]float64, len(in))
	for k, j := range in {
		cols[k] = e.cols[j]
	}
	if len(in) == 0 {
		// Intercept only: the MLE is the log odds.
		return &logit.Result{Coef: []float64{logOdds(y)}, Intercept: true}, nil
	}
	return logit.Fit(ctx, cols, y, logit.Options{L2: e.l2, Start: start})
}

// loglik is the sum over folds of the held-out log-likelihood of the
// model of columns in, each fold's coefficients one Newton step from the
// full-sample estimates beta on the other folds' rows:
// β_f = β + (H − H_f)⁻¹ (g − g_f), with H_f and g_f the information
// matrix and score of fold f's rows at β (so H − H_f and g − g_f are the
// other folds'). From estimates within O(1/√n) of β_f the step leaves an
// error of O(1/n): one pass over the rows for every fold's fit, where a
// refit per fold would take several per fold.
func (e *cvEval) loglik(ctx context.Context, in []int, beta []float64) (float64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, _ := e.x.Dims()
	sel := append([]int{0}, plusOne(in)...)
	s := len(sel)
	xs, z, resid := e.buffers(n, s) // the model's columns, scaled by sqrt(w)
	xr, xsr := e.x.RawMatrix(), xs.RawMatrix()
	for i := range n {
		src, dst := xr.Data[i*xr.Stride:], xsr.Data[i*xsr.Stride:]
		for k, c := range sel {
			dst[k] = src[c]
		}
	}
	var bv mat.VecDense
	bv.CloneFromVec(mat.NewVecDense(s, slices.Clone(beta)))
	var eta mat.VecDense
	eta.MulVec(xs, &bv)
	zr, rr, er := z.RawMatrix(), resid.RawVector().Data, eta.RawVector()
	k := len(e.bounds) - 1
	hf := make([]*mat.SymDense, k)
	gf := make([]*mat.VecDense, k)
	// Each fold's rows, information and score on one of two workers (the
	// first k/2 folds and the rest); their sums are then taken in fold
	// order, so the result does not depend on the workers' timing.
	par.Halves(k, func(flo, fhi int) {
		for f := flo; f < fhi; f++ {
			lo, hi := e.bounds[f], e.bounds[f+1]
			for i := lo; i < hi; i++ {
				p := 1 / (1 + math.Exp(-er.Data[i*er.Inc]))
				rr[i] = e.y[i] - p
				sw := math.Sqrt(p * (1 - p))
				row, zrow := xsr.Data[i*xsr.Stride:i*xsr.Stride+s], zr.Data[i*zr.Stride:i*zr.Stride+s]
				for k, v := range row {
					zrow[k] = sw * v
				}
			}
			hf[f] = mat.NewSymDense(s, nil)
			hf[f].SymOuterK(1, z.Slice(lo, hi, 0, s).T())
			gf[f] = mat.NewVecDense(s, nil)
			gf[f].MulVec(xs.Slice(lo, hi, 0, s).T(), resid.SliceVec(lo, hi))
		}
	})
	h := mat.NewSymDense(s, nil)
	g := mat.NewVecDense(s, nil)
	for f := range k {
		h.AddSym(h, hf[f])
		g.AddVec(g, gf[f])
	}
	totals := make([]float64, k)
	errs := make([]error, k)
	par.Halves(k, func(flo, fhi int) {
		for f := flo; f < fhi; f++ {
			totals[f], errs[f] = e.heldOut(f, h, g, hf[f], gf[f], xs, &bv, beta)
		}
	})
	var total float64
	for f := range k {
		if errs[f] != nil {
			return 0, errs[f]
		}
		total += totals[f]
	}
	return total, nil
}

// heldOut is fold f's held-out log-likelihood at the coefficients one
// Newton step from beta (bv) on the other folds' rows: information h −
// hf and score g − gf, penalised by the ridge.
func (e *cvEval) heldOut(f int, h *mat.SymDense, g *mat.VecDense, hf *mat.SymDense, gf *mat.VecDense, xs *mat.Dense, bv *mat.VecDense, beta []float64) (float64, error) {
	s := len(beta)
	var total float64
	ht := mat.NewSymDense(s, nil)
	ht.ScaleSym(-1, hf)
	ht.AddSym(h, ht)
	gt := mat.NewVecDense(s, nil)
	gt.SubVec(g, gf)
	if e.l2 > 0 {
		for j := 1; j < s; j++ {
			ht.SetSym(j, j, ht.At(j, j)+e.l2)
			gt.SetVec(j, gt.AtVec(j)-e.l2*beta[j])
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(ht) {
		return 0, fmt.Errorf("fold %d: %w", f+1, logit.ErrSingular)
	}
	var step mat.VecDense
	if err := chol.SolveVecTo(&step, gt); err != nil {
		return 0, fmt.Errorf("fold %d: %w", f+1, logit.ErrSingular)
	}
	var bf mat.VecDense
	bf.AddVec(bv, &step)
	lo, hi := e.bounds[f], e.bounds[f+1]
	var etaF mat.VecDense
	etaF.MulVec(xs.Slice(lo, hi, 0, s), &bf)
	for t := range hi - lo {
		v := etaF.AtVec(t)
		// log p for a bad, log(1 − p) for a good, stably.
		if e.y[lo+t] == 1 {
			total -= softplus(-v)
		} else {
			total -= softplus(v)
		}
	}
	return total, nil
}

// softplus is ln(1 + e^x) without overflow.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// ChooseL2 returns the ridge penalty λ of the logistic fit on the
// candidates' WoE that gives the highest k-fold cross-validated
// log-likelihood (coded and averaged as in StepwiseCV), of 0, 1, 3, 10,
// 30 and 100: a penalised fit on many weak characteristics estimated
// from few rows.
func ChooseL2(ctx context.Context, cs []Candidate, y []float64, o Options) (float64, error) {
	o = o.WithDefaults()
	if len(cs) == 0 {
		return 0, nil
	}
	base := strideRows(len(y), o.CVRows)
	repeats := o.CVRepeats
	if repeats <= 0 {
		repeats = 1
		if len(base) < 20_000 {
			repeats = 3
		}
	}
	in := make([]int, len(cs))
	for j := range in {
		in[j] = j
	}
	best, bestLL := 0.0, math.Inf(-1)
	for _, l2 := range []float64{0, 1, 3, 10, 30, 100} {
		var total float64
		for r := range repeats {
			oo := o
			oo.L2 = l2
			e := newCVEval(cs, y, base, oo, o.Seed+uint64(r)*0x9e3779b9)
			res, err := e.fit(ctx, in, e.y, nil, nil)
			if err != nil {
				return 0, fmt.Errorf("l2 %g: %w", l2, err)
			}
			ll, err := e.loglik(ctx, in, res.Coef)
			if err != nil {
				return 0, fmt.Errorf("l2 %g: %w", l2, err)
			}
			total += ll
		}
		if total > bestLL {
			best, bestLL = l2, total
		}
	}
	return best, nil
}
