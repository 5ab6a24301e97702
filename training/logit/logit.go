// Package logit fits binary logistic regression by maximum likelihood with
// Newton–Raphson (iteratively reweighted least squares) on gonum/mat.
//
// The design is given column-oriented, one []float64 per regressor; an
// intercept is added as the first coefficient unless Options.NoIntercept.
// Each iteration forms the information matrix X'WX blockwise with BLAS
// (blas64.Syrk over row blocks, in parallel), solves the Newton system by
// Cholesky and halves the step until the (penalised) log-likelihood does not
// fall. Standard errors come from the inverse information matrix at the
// optimum, Wald z = β/se and two-sided p-values from the standard normal.
//
// Fit returns ErrSeparation (wrapped) when the classes are perfectly or
// quasi-completely separated — the MLE does not exist — and ErrSingular
// when the design is rank deficient (for example two identical columns).
package logit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"

	"qiandun/internal/hugepage"
	"qiandun/internal/par"
)

// Errors reported by Fit, to test with errors.Is.
var (
	ErrSeparation = errors.New("logit: perfect or quasi-complete separation (the MLE does not exist)")
	ErrSingular   = errors.New("logit: singular design (collinear or constant regressors)")
	ErrNoConverge = errors.New("logit: did not converge")
)

// Options control a fit. The zero value is a plain maximum-likelihood fit
// with an intercept.
type Options struct {
	// L2 is the ridge penalty λ: the fit maximises ll − λ/2·Σβ_j² over the
	// non-intercept coefficients. 0 is plain maximum likelihood.
	L2 float64
	// MaxIter bounds Newton iterations (default 100).
	MaxIter int
	// Tol is the convergence tolerance on the largest coefficient change
	// (default 1e-10).
	Tol float64
	// NoIntercept leaves out the intercept.
	NoIntercept bool
	// Workers bounds the goroutines forming X'WX (default GOMAXPROCS).
	Workers int
	// Start, when it has one value per coefficient (intercept first),
	// is where Newton's method starts, e.g. a nested model's estimates
	// with 0 for an added regressor. It changes the path, not the MLE.
	Start []float64
}

// Result is a fitted model. Coefficient slices are indexed like the
// design, with the intercept first when present.
type Result struct {
	Coef       []float64
	StdErr     []float64
	Z          []float64
	PValue     []float64
	LogLik     float64 // log-likelihood at the optimum (unpenalised)
	AIC        float64 // −2·ll + 2·k
	BIC        float64 // −2·ll + k·ln n
	Iterations int
	N          int
	Intercept  bool
	Cov        *mat.SymDense // inverse information matrix
}

// Predict returns the fitted probability for each row of the columns.
func (r *Result) Predict(cols [][]float64) []float64 {
	n := 0
	if len(cols) > 0 {
		n = len(cols[0])
	}
	out := make([]float64, n)
	off := 0
	if r.Intercept {
		off = 1
	}
	for i := range out {
		eta := 0.0
		if r.Intercept {
			eta = r.Coef[0]
		}
		for j, c := range cols {
			eta += r.Coef[j+off] * c[i]
		}
		out[i] = sigmoid(eta)
	}
	return out
}

const blockRows = 2048

// warmRows is the row count above which Fit first fits an evenly strided
// subsample of about warmRows/2 rows loosely and starts Newton's method on
// the full data from there: the result is the full-data MLE all the same,
// reached in fewer passes over the data.
const warmRows = 200_000

// finalStep is the largest Newton step (max |Δβ|) taken without a further
// pass for the information matrix: after a step this small the error is
// of order finalStep² (quadratic convergence), and the information matrix
// at the previous point gives standard errors to ~1e-7.
const finalStep = 1e-6

// Fit fits y (0 or 1 per row) on the columns.
func Fit(ctx context.Context, cols [][]float64, y []float64, o Options) (*Result, error) {
	start := o.Start
	if n := len(y); start == nil && n > warmRows && len(cols) > 0 {
		stride := n / (warmRows / 2)
		m := (n + stride - 1) / stride
		sub := make([][]float64, len(cols))
		par.Halves(len(cols), func(lo, hi int) { // bound by memory: one pass per core
			for j := lo; j < hi; j++ {
				if c := cols[j]; len(c) == n {
					sub[j] = make([]float64, 0, m)
					for i := 0; i < n; i += stride {
						sub[j] = append(sub[j], c[i])
					}
				}
			}
		})
		sy := make([]float64, 0, m)
		for i := 0; i < n; i += stride {
			sy = append(sy, y[i])
		}
		so := o
		so.Tol = 1e-4
		if r, err := fit(ctx, sub, sy, so, nil); err == nil {
			start = r.Coef
		}
	}
	return fit(ctx, cols, y, o, start)
}

// design checks the outcomes (0/1, both present) and the regressors
// (finite, n rows each, fewer coefficients than rows) and returns the
// column-major design, the intercept column first unless noIntercept; off
// is 1 with an intercept, and pos the number of 1 outcomes.
func design(cols [][]float64, y []float64, noIntercept bool) (xs [][]float64, off int, pos float64, err error) {
	n := len(y)
	if !noIntercept {
		off = 1
	}
	p := len(cols) + off
	if p == 0 {
		return nil, 0, 0, errors.New("logit: no regressors")
	}
	if n <= p {
		return nil, 0, 0, fmt.Errorf("logit: %d rows for %d coefficients", n, p)
	}
	for i, v := range y {
		if v != 0 && v != 1 {
			return nil, 0, 0, fmt.Errorf("logit: y[%d] = %v, want 0 or 1", i, v)
		}
		pos += v
	}
	if pos == 0 || pos == float64(n) {
		return nil, 0, 0, fmt.Errorf("%w: all outcomes are %v", ErrSeparation, y[0])
	}
	// Column-major design: the intercept column, then the given columns.
	xs = make([][]float64, 0, p)
	if off == 1 {
		ones := hugepage.Make[float64](n, 0)
		for i := range ones {
			ones[i] = 1
		}
		xs = append(xs, ones)
	}
	for j, c := range cols {
		for i, v := range c {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, 0, 0, fmt.Errorf("logit: column %d row %d is %v", j, i, v)
			}
		}
		xs = append(xs, c)
	}
	return xs, off, pos, nil
}

// result is the fit at its optimum beta with information matrix h after
// iter iterations: standard errors from the inverse of h, Wald z and
// p-values, log-likelihood, AIC and BIC.
func (f *fitter) result(beta []float64, h *mat.SymDense, iter int) (*Result, error) {
	n, p, off := f.n, f.p, f.off
	var chol mat.Cholesky
	if !chol.Factorize(h) {
		return nil, ErrSingular
	}
	cov := mat.NewSymDense(p, nil)
	if err := chol.InverseTo(cov); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSingular, err)
	}
	r := &Result{Coef: beta, StdErr: make([]float64, p), Z: make([]float64, p), PValue: make([]float64, p),
		Iterations: iter, N: n, Intercept: off == 1, Cov: cov}
	r.LogLik = f.plainLL
	r.AIC = -2*r.LogLik + 2*float64(p)
	r.BIC = -2*r.LogLik + float64(p)*math.Log(float64(n))
	norm := distuv.UnitNormal
	for j := range beta {
		r.StdErr[j] = math.Sqrt(cov.At(j, j))
		r.Z[j] = beta[j] / r.StdErr[j]
		r.PValue[j] = 2 * norm.Survival(math.Abs(r.Z[j]))
	}
	return r, nil
}

func fit(ctx context.Context, cols [][]float64, y []float64, o Options, start []float64) (*Result, error) {
	n := len(y)
	for j, c := range cols {
		if len(c) != n {
			return nil, fmt.Errorf("logit: column %d has %d rows, want %d", j, len(c), n)
		}
	}
	if o.MaxIter <= 0 {
		o.MaxIter = 100
	}
	if o.Tol <= 0 {
		o.Tol = 1e-10
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	xs, off, pos, err := design(cols, y, o.NoIntercept)
	if err != nil {
		return nil, err
	}
	p := len(xs)
	f := &fitter{n: n, p: p, x: xs, y: y, o: o, off: off,
		eta: hugepage.Make[float64](n, 0), w: hugepage.Make[float64](n, 0)}

	beta := make([]float64, p)
	if len(start) == p {
		copy(beta, start)
	} else if off == 1 { // start at the marginal log odds: one fewer iteration
		m := pos / float64(n)
		beta[0] = math.Log(m / (1 - m))
	}
	// One pass over the data per Newton step: the pass at a candidate
	// point gives its log-likelihood (for step halving) together with the
	// gradient and information matrix for the next step.
	ll, h, g, maxResid := f.system(beta)
	iter := 0
	converged := false
	for iter = 1; iter <= o.MaxIter; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if maxResid < 1e-8 {
			return nil, fmt.Errorf("%w: every row is fitted exactly after %d iterations", ErrSeparation, iter)
		}
		var chol mat.Cholesky
		if ok := chol.Factorize(h); !ok {
			if f.quasiSeparated() {
				return nil, fmt.Errorf("%w: fitted probabilities of 0 or 1", ErrSeparation)
			}
			return nil, ErrSingular
		}
		if c := chol.Cond(); c > 1e14 {
			if f.quasiSeparated() {
				return nil, fmt.Errorf("%w: fitted probabilities of 0 or 1", ErrSeparation)
			}
			return nil, fmt.Errorf("%w: condition number %.3g", ErrSingular, c)
		}
		var d mat.VecDense
		if err := chol.SolveVecTo(&d, g); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSingular, err)
		}
		if mat.Norm(&d, math.Inf(1)) < finalStep {
			// Last step: the new point is the optimum to ~finalStep²; one
			// cheap pass for its log-likelihood, and h stays as is.
			nb := make([]float64, p)
			for j := range nb {
				nb[j] = beta[j] + d.AtVec(j)
			}
			nll := f.loglik(nb)
			if nll >= ll-1e-12*math.Abs(ll) {
				beta, ll = nb, nll
				converged = true
				break
			}
		}
		step := 1.0
		nb := make([]float64, p)
		var nll, nmax float64
		var nh *mat.SymDense
		var ng *mat.VecDense
		for k := 0; ; k++ {
			for j := range nb {
				nb[j] = beta[j] + step*d.AtVec(j)
			}
			nll, nh, ng, nmax = f.system(nb)
			if nll >= ll-1e-12*math.Abs(ll) || k >= 40 {
				break
			}
			step /= 2
		}
		maxd := 0.0
		for j := range nb {
			maxd = math.Max(maxd, math.Abs(nb[j]-beta[j]))
		}
		beta, ll, h, g, maxResid = nb, nll, nh, ng, nmax
		if maxd < o.Tol {
			converged = true
			break
		}
	}
	if !converged {
		if f.quasiSeparated() {
			return nil, fmt.Errorf("%w: coefficients diverge after %d iterations", ErrSeparation, o.MaxIter)
		}
		return nil, fmt.Errorf("%w in %d iterations", ErrNoConverge, o.MaxIter)
	}
	if f.quasiSeparated() {
		return nil, fmt.Errorf("%w: fitted probabilities of 0 or 1", ErrSeparation)
	}
	return f.result(beta, h, iter)
}

type fitter struct {
	n, p, off int
	x         [][]float64 // columns
	etaFor    []float64   // the beta eta was last computed for
	plainLL   float64     // unpenalised log-likelihood of the last system
	y         []float64
	o         Options
	eta, w    []float64
	// scratch is each worker's buffer for system's row blocks (the
	// scaled block, then the block's weights), kept from call to call.
	scratch [][]float64
}

func sigmoid(eta float64) float64 {
	if eta >= 0 {
		return 1 / (1 + math.Exp(-eta))
	}
	e := math.Exp(eta)
	return e / (1 + e)
}

// log(1+exp(eta)) without overflow.
func softplus(eta float64) float64 {
	if eta > 0 {
		return eta + math.Log1p(math.Exp(-eta))
	}
	return math.Log1p(math.Exp(eta))
}

// parallel runs fn over row blocks [lo,hi) with one accumulator per worker.
func (f *fitter) parallel(fn func(worker, lo, hi int)) {
	nb := (f.n + blockRows - 1) / blockRows
	workers := min(f.o.Workers, nb)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for b := w; b < nb; b += workers {
				lo := b * blockRows
				fn(w, lo, min(lo+blockRows, f.n))
			}
		}(w)
	}
	wg.Wait()
}

func (f *fitter) computeEta(beta []float64) {
	if f.etaFor != nil && slices.Equal(f.etaFor, beta) {
		return
	}
	f.parallel(func(_, lo, hi int) {
		eta := f.eta[lo:hi]
		clear(eta)
		for j, c := range f.x {
			if beta[j] != 0 {
				floats.AddScaled(eta, beta[j], c[lo:hi])
			}
		}
	})
	f.etaFor = append(f.etaFor[:0], beta...)
}

// loglik returns the (penalised) log-likelihood at beta and leaves the
// plain one in f.plainLL: a pass without the information matrix.
func (f *fitter) loglik(beta []float64) float64 {
	f.computeEta(beta)
	workers := min(f.o.Workers, (f.n+blockRows-1)/blockRows)
	lls := make([]float64, workers)
	f.parallel(func(w, lo, hi int) {
		s := 0.0
		for i := lo; i < hi; i++ {
			s += f.y[i]*f.eta[i] - softplus(f.eta[i])
		}
		lls[w] += s
	})
	ll := 0.0
	for _, v := range lls {
		ll += v
	}
	f.plainLL = ll
	if f.o.L2 > 0 {
		for j := f.off; j < f.p; j++ {
			ll -= f.o.L2 / 2 * beta[j] * beta[j]
		}
	}
	return ll
}

// quasiSeparated reports whether some fitted probability is 0 or 1 to
// working precision at the current eta.
func (f *fitter) quasiSeparated() bool {
	for _, e := range f.eta {
		if math.Abs(e) > 30 {
			return true
		}
	}
	return false
}

// system returns, at beta, the (penalised) log-likelihood, X'WX (+λI),
// the gradient X'(y−μ) (−λβ) and the largest |y−μ|; it leaves the plain
// log-likelihood in f.plainLL.
func (f *fitter) system(beta []float64) (float64, *mat.SymDense, *mat.VecDense, float64) {
	f.computeEta(beta)
	p := f.p
	workers := min(f.o.Workers, (f.n+blockRows-1)/blockRows)
	hs := make([][]float64, workers)
	gs := make([][]float64, workers)
	rs := make([]float64, workers)
	lls := make([]float64, workers)
	if len(f.scratch) < workers {
		f.scratch = make([][]float64, workers)
		for w := range f.scratch {
			f.scratch[w] = make([]float64, blockRows*(p+1))
		}
	}
	for w := range hs {
		hs[w] = make([]float64, p*p)
		gs[w] = make([]float64, p)
	}
	f.parallel(func(w, lo, hi int) {
		m := hi - lo
		buf := f.scratch[w][:p*m] // p × m, row j = column j scaled by sqrt(w)
		sw := f.scratch[w][blockRows*p : blockRows*p+m]
		r := f.w[lo:hi] // residuals y − μ
		ll := 0.0
		for i := lo; i < hi; i++ {
			e := f.eta[i]
			ll += f.y[i]*e - softplus(e)
			mu := sigmoid(e)
			res := f.y[i] - mu
			if a := math.Abs(res); a > rs[w] {
				rs[w] = a
			}
			r[i-lo] = res
			sw[i-lo] = math.Sqrt(mu * (1 - mu))
		}
		lls[w] += ll
		g := gs[w]
		for j, c := range f.x {
			cj := c[lo:hi]
			g[j] += floats.Dot(cj, r)
			row := buf[j*m : (j+1)*m]
			for i, v := range cj {
				row[i] = v * sw[i]
			}
		}
		a := blas64.General{Rows: p, Cols: m, Stride: m, Data: buf}
		c := blas64.Symmetric{Uplo: blas.Upper, N: p, Stride: p, Data: hs[w]}
		blas64.Syrk(blas.NoTrans, 1, a, 1, c)
	})
	h := mat.NewSymDense(p, nil)
	g := mat.NewVecDense(p, nil)
	maxR, ll := 0.0, 0.0
	for w := range hs {
		maxR = math.Max(maxR, rs[w])
		ll += lls[w]
		for i := 0; i < p; i++ {
			g.SetVec(i, g.AtVec(i)+gs[w][i])
			for j := i; j < p; j++ {
				h.SetSym(i, j, h.At(i, j)+hs[w][i*p+j])
			}
		}
	}
	f.plainLL = ll
	if f.o.L2 > 0 {
		for j := f.off; j < p; j++ {
			h.SetSym(j, j, h.At(j, j)+f.o.L2)
			g.SetVec(j, g.AtVec(j)-f.o.L2*beta[j])
			ll -= f.o.L2 / 2 * beta[j] * beta[j]
		}
	}
	return ll, h, g, maxR
}
