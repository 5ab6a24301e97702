// Package selection chooses the characteristics of a scorecard and says
// why every other one was dropped.
//
// Select runs, in order: a missing-rate ceiling, a single-value-share
// ceiling, a (low) IV floor, a PSI ceiling between development and out-of-time
// samples (when given), pairwise WoE correlation (of a pair above the
// threshold the lower-IV one goes), variance inflation (the highest VIF
// above the threshold goes, repeatedly), stepwise selection (by default
// forward by k-fold cross-validated log-likelihood, candidates ranked by
// score tests: StepwiseCV; or forward, backward or both by AIC, BIC or
// Wald p-value) and a sign check: with
// WoE coded so that positive is riskier every coefficient must be
// positive; otherwise the negative coefficient with the largest p-value is
// dropped and the model refitted. Each drop is reported with a reason
// ("missing_rate 0.97 > 0.95", "corr 0.82 with x (iv 0.31)", ...).
package selection

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"qiandun/training/logit"
)

// Candidate is a characteristic after binning.
type Candidate struct {
	Name string
	IV   float64
	WoE  []float64 // train WoE per row
	// Bins, when set, is the bin index per row (WoE[i] is the WoE of bin
	// Bins[i]): StepwiseCV then codes the held-out folds out of fold.
	Bins        []int32
	MissingRate float64 // share of rows missing
	SingleShare float64 // share of the most frequent bin
	PSI         float64 // dev vs out-of-time; NaN when there is no OOT
}

// Dropped is a characteristic left out.
type Dropped struct {
	Variable string
	Reason   string
}

// Options are the thresholds; zero values take the defaults noted.
type Options struct {
	MaxMissing     float64 // default 0.95
	MaxSingleShare float64 // default 0.95
	MinIV          float64 // default 0.001: out-of-sample evidence, not an IV floor, decides

	MaxPSI      float64 // default 0.25
	MaxCorr     float64 // default 0.7
	MaxVIF      float64 // default 10
	Stepwise    string  // cv (default), both, forward, backward, none
	Criterion   string  // aic (default), bic, pvalue: for both, forward and backward
	PEnter      float64 // p-value to enter (default 0.05)
	PRemove     float64 // p-value to stay (default 0.10)
	MaxVars     int     // cap on selected characteristics (default 20)
	NoSignCheck bool
	L2          float64
	// Folds of the cross-validation of Stepwise "cv" (default 5).
	Folds int
	// CVRows caps the rows on which Stepwise "cv" decides (default
	// 50,000; an evenly strided subsample above).
	CVRows int
	// CVTries is how many of the best characteristics by score test are
	// tried by cross-validation at each step before stopping (default 3).
	CVTries int
	// CVRepeats is how many fold assignments Stepwise "cv" averages
	// (default 3 below 20,000 decision rows, else 1).
	CVRepeats int
	// Seed of the fold assignment.
	Seed uint64
}

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxMissing, 0.95)
	def(&o.MaxSingleShare, 0.95)
	def(&o.MinIV, 0.001)
	def(&o.MaxPSI, 0.25)
	def(&o.MaxCorr, 0.7)
	def(&o.MaxVIF, 10)
	def(&o.PEnter, 0.05)
	def(&o.PRemove, 0.10)
	if o.Stepwise == "" {
		o.Stepwise = "cv"
	}
	if o.Folds < 2 {
		o.Folds = 5
	}
	if o.CVRows <= 0 {
		o.CVRows = 50_000
	}
	if o.CVTries <= 0 {
		o.CVTries = 3
	}
	if o.Criterion == "" {
		o.Criterion = "aic"
	}
	if o.MaxVars <= 0 {
		o.MaxVars = 20
	}
	return o
}

// Select returns the kept characteristics (in candidate order) and the
// dropped ones with reasons.
func Select(ctx context.Context, cands []Candidate, y []float64, o Options) ([]Candidate, []Dropped, error) {
	kept, dropped, _, err := SelectFit(ctx, cands, y, o)
	return kept, dropped, err
}

// SelectFit is Select that also returns the logistic fit of the kept
// characteristics' WoE (in kept order) on every row with penalty o.L2,
// which the sign check fits last: logit.Fit(ctx, WoE columns, y,
// logit.Options{L2: o.L2}). It is nil when the sign check is off or
// nothing is kept.
func SelectFit(ctx context.Context, cands []Candidate, y []float64, o Options) ([]Candidate, []Dropped, *logit.Result, error) {
	o = o.WithDefaults()
	kept, dropped := Filter(cands, o)
	screened, corr := kept, corrMatrix(kept) // one pass for every pair
	kept, d := correlation(kept, o.MaxCorr, corr)
	dropped = append(dropped, d...)
	kept, d = vif(kept, o.MaxVIF, screened, corr)
	dropped = append(dropped, d...)
	var err error
	switch o.Stepwise {
	case "cv":
		kept, d, err = StepwiseCV(ctx, kept, y, o)
		if err != nil {
			return nil, nil, nil, err
		}
		dropped = append(dropped, d...)
	case "none":
	case "both", "forward", "backward":
		kept, d, err = Stepwise(ctx, kept, y, o)
		if err != nil {
			return nil, nil, nil, err
		}
		dropped = append(dropped, d...)
	default:
		return nil, nil, nil, fmt.Errorf("selection: stepwise %q: want cv, both, forward, backward or none", o.Stepwise)
	}
	var last *logit.Result
	if !o.NoSignCheck {
		kept, d, last, err = signCheck(ctx, kept, y, o.L2)
		if err != nil {
			return nil, nil, nil, err
		}
		dropped = append(dropped, d...)
	}
	return kept, dropped, last, nil
}

// Filter applies the missing-rate, single-value, IV and PSI thresholds.
func Filter(cands []Candidate, o Options) ([]Candidate, []Dropped) {
	o = o.WithDefaults()
	var kept []Candidate
	var dropped []Dropped
	for _, c := range cands {
		switch {
		case c.MissingRate > o.MaxMissing:
			dropped = append(dropped, Dropped{c.Name, fmt.Sprintf("missing_rate %.4f > %g", c.MissingRate, o.MaxMissing)})
		case c.SingleShare > o.MaxSingleShare:
			dropped = append(dropped, Dropped{c.Name, fmt.Sprintf("single_value_share %.4f > %g", c.SingleShare, o.MaxSingleShare)})
		case c.IV < o.MinIV:
			dropped = append(dropped, Dropped{c.Name, fmt.Sprintf("iv %.4f < %g", c.IV, o.MinIV)})
		case !math.IsNaN(c.PSI) && c.PSI > o.MaxPSI:
			dropped = append(dropped, Dropped{c.Name, fmt.Sprintf("psi %.4f > %g (dev vs oot)", c.PSI, o.MaxPSI)})
		default:
			kept = append(kept, c)
		}
	}
	return kept, dropped
}

// corrMatrix returns the Pearson correlation matrix of the WoE columns
// (0 for a constant column): the centred cross-products Σ(x−x̄)(z−z̄),
// formed over blocks of rows with BLAS (one pass for every pair), scaled
// by the square roots of the sums of squares.
func corrMatrix(cs []Candidate) *mat.SymDense {
	p := len(cs)
	if p == 0 {
		return nil // gonum has no empty matrix
	}
	r := mat.NewSymDense(p, nil)
	n := len(cs[0].WoE)
	means := make([]float64, p)
	for j, c := range cs {
		means[j] = stat.Mean(c.WoE, nil)
	}
	const block = 4096
	buf := make([]float64, p*min(block, n))
	cp := blas64.Symmetric{Uplo: blas.Upper, N: p, Stride: p, Data: make([]float64, p*p)}
	for lo := 0; lo < n; lo += block {
		m := min(block, n-lo)
		for j, c := range cs {
			row := buf[j*m : (j+1)*m]
			for i, v := range c.WoE[lo : lo+m] {
				row[i] = v - means[j]
			}
		}
		blas64.Syrk(blas.NoTrans, 1, blas64.General{Rows: p, Cols: m, Stride: m, Data: buf[:p*m]}, 1, cp)
	}
	for i := 0; i < p; i++ {
		r.SetSym(i, i, 1)
		for j := i + 1; j < p; j++ {
			v := cp.Data[i*p+j] / math.Sqrt(cp.Data[i*p+i]*cp.Data[j*p+j])
			if math.IsNaN(v) || math.IsInf(v, 0) {
				v = 0
			}
			r.SetSym(i, j, v)
		}
	}
	return r
}

// subCorr is the correlation matrix of cs taken from r, the matrix of
// all (by name); a nil all or r computes it afresh.
func subCorr(cs []Candidate, all []Candidate, r *mat.SymDense) *mat.SymDense {
	if r == nil {
		return corrMatrix(cs)
	}
	pos := make(map[string]int, len(all))
	for k, c := range all {
		pos[c.Name] = k
	}
	idx := make([]int, len(cs))
	for k, c := range cs {
		idx[k] = pos[c.Name]
	}
	var out mat.SymDense
	out.SubsetSym(r, idx)
	return &out
}

// Correlation drops, from each pair whose |correlation| exceeds max, the
// one with the lower IV (examining pairs from the highest IV down).
func Correlation(cs []Candidate, max float64) ([]Candidate, []Dropped) {
	return correlation(cs, max, nil)
}

// correlation is Correlation with the correlation matrix of cs (nil:
// computed here).
func correlation(cs []Candidate, max float64, corr *mat.SymDense) ([]Candidate, []Dropped) {
	if len(cs) < 2 {
		return cs, nil
	}
	order := slices.Clone(cs)
	slices.SortStableFunc(order, func(a, b Candidate) int {
		if a.IV > b.IV {
			return -1
		}
		if a.IV < b.IV {
			return 1
		}
		return 0
	})
	r := subCorr(order, cs, corr)
	gone := make([]bool, len(order))
	var dropped []Dropped
	for i := range order {
		if gone[i] {
			continue
		}
		for j := i + 1; j < len(order); j++ {
			if !gone[j] && math.Abs(r.At(i, j)) > max {
				gone[j] = true
				dropped = append(dropped, Dropped{order[j].Name,
					fmt.Sprintf("corr %.4f with %s (iv %.4f > %.4f)", r.At(i, j), order[i].Name, order[i].IV, order[j].IV)})
			}
		}
	}
	var kept []Candidate
	for _, c := range cs {
		if !slices.ContainsFunc(dropped, func(d Dropped) bool { return d.Variable == c.Name }) {
			kept = append(kept, c)
		}
	}
	return kept, dropped
}

// VIFs returns the variance inflation factor of each column: the diagonal
// of the inverse correlation matrix (1/(1−R²) of regressing it on the
// others). A singular matrix gives +Inf for every column.
func VIFs(cs []Candidate) []float64 {
	return vifs(cs, nil, nil)
}

// vifs is VIFs with the correlations taken from corr, the matrix of all
// (nil: computed here).
func vifs(cs, all []Candidate, corr *mat.SymDense) []float64 {
	out := make([]float64, len(cs))
	if len(cs) < 2 {
		for i := range out {
			out[i] = 1
		}
		return out
	}
	var inv mat.Dense
	if err := inv.Inverse(subCorr(cs, all, corr)); err != nil {
		for i := range out {
			out[i] = math.Inf(1)
		}
		return out
	}
	for i := range out {
		out[i] = inv.At(i, i)
	}
	return out
}

// VIF drops the column with the highest VIF above max until none is.
func VIF(cs []Candidate, max float64) ([]Candidate, []Dropped) {
	return vif(cs, max, nil, nil)
}

// vif is VIF with the correlations taken from corr, the matrix of all
// (nil: computed here).
func vif(cs []Candidate, max float64, all []Candidate, corr *mat.SymDense) ([]Candidate, []Dropped) {
	kept := slices.Clone(cs)
	var dropped []Dropped
	for len(kept) > 1 {
		v := vifs(kept, all, corr)
		worst := 0
		for i := range v {
			if v[i] > v[worst] || (v[i] == v[worst] && kept[i].IV < kept[worst].IV) {
				worst = i
			}
		}
		if v[worst] <= max {
			break
		}
		dropped = append(dropped, Dropped{kept[worst].Name, fmt.Sprintf("vif %.2f > %g", v[worst], max)})
		kept = slices.Delete(kept, worst, worst+1)
	}
	return kept, dropped
}

func fit(ctx context.Context, cs []Candidate, y []float64, l2 float64) (*logit.Result, error) {
	return fitFrom(ctx, cs, y, l2, nil)
}

// fitFrom fits starting from the coefficients of a nested model (by
// name; absent names start at 0), which saves Newton steps in stepwise
// search without changing the estimates.
func fitFrom(ctx context.Context, cs []Candidate, y []float64, l2 float64, prev map[string]float64) (*logit.Result, error) {
	cols := make([][]float64, len(cs))
	var start []float64
	if prev != nil {
		start = make([]float64, len(cs)+1)
		start[0] = prev[""]
	}
	for i, c := range cs {
		cols[i] = c.WoE
		if prev != nil {
			start[i+1] = prev[c.Name]
		}
	}
	return logit.Fit(ctx, cols, y, logit.Options{L2: l2, Start: start})
}

func coefMap(cs []Candidate, r *logit.Result) map[string]float64 {
	m := map[string]float64{"": r.Coef[0]}
	for i, c := range cs {
		m[c.Name] = r.Coef[i+1]
	}
	return m
}

func criterion(r *logit.Result, kind string) float64 {
	if kind == "bic" {
		return r.BIC
	}
	return r.AIC
}

// Stepwise selects by AIC, BIC or p-value, forward, backward or both.
func Stepwise(ctx context.Context, cs []Candidate, y []float64, o Options) ([]Candidate, []Dropped, error) {
	o = o.WithDefaults()
	st := &stepper{ctx: ctx, cs: cs, y: y, o: o, in: make([]bool, len(cs))}
	if o.Stepwise == "backward" {
		for i := range st.in {
			st.in[i] = true
		}
	}
	if err := st.start(); err != nil {
		return nil, nil, err
	}
	for step := 0; step < 4*len(cs)+4; step++ {
		changed := false
		if o.Stepwise != "backward" && st.nIn() < o.MaxVars {
			changed = st.enter()
		}
		if o.Stepwise != "forward" && st.nIn() > 0 {
			removed, err := st.remove()
			if err != nil {
				return nil, nil, err
			}
			changed = changed || removed
		}
		if !changed {
			break
		}
	}
	var kept []Candidate
	var dropped []Dropped
	for i, c := range cs {
		if st.in[i] {
			kept = append(kept, c)
		} else {
			dropped = append(dropped, Dropped{c.Name, "stepwise " + o.Stepwise + " by " + o.Criterion})
		}
	}
	return kept, dropped, nil
}

// stepper is the state of a stepwise search: the candidates in the model,
// its criterion and its coefficients (the next fits' starting point).
type stepper struct {
	ctx     context.Context
	cs      []Candidate
	y       []float64
	o       Options
	in      []bool
	current float64
	prev    map[string]float64 // current model's coefficients
}

// subset is the candidates in the model, with extra and without without
// (−1: none).
func (st *stepper) subset(extra, without int) []Candidate {
	var s []Candidate
	for i, c := range st.cs {
		if (st.in[i] && i != without) || i == extra {
			s = append(s, c)
		}
	}
	return s
}

func (st *stepper) nIn() int {
	n := 0
	for _, b := range st.in {
		if b {
			n++
		}
	}
	return n
}

// start fits the starting model (the intercept alone, in closed form,
// when it is empty) for its criterion and coefficients.
func (st *stepper) start() error {
	if st.nIn() > 0 {
		s := st.subset(-1, -1)
		r, err := fit(st.ctx, s, st.y, st.o.L2)
		if err != nil {
			return err
		}
		st.current = criterion(r, st.o.Criterion)
		st.prev = coefMap(s, r)
		return nil
	}
	// intercept only: ll = n_b ln p + n_g ln(1-p)
	var nb float64
	for _, v := range st.y {
		nb += v
	}
	n := float64(len(st.y))
	ll := nb*math.Log(nb/n) + (n-nb)*math.Log(1-nb/n)
	st.prev = map[string]float64{"": math.Log(nb / (n - nb))}
	st.current = -2*ll + 2
	if st.o.Criterion == "bic" {
		st.current = -2*ll + math.Log(n)
	}
	return nil
}

// enter adds the candidate that improves the criterion most (or has the
// smallest p-value under PEnter); it reports whether one entered.
func (st *stepper) enter() bool {
	o := st.o
	best, bestV := -1, st.current
	var bestCoef map[string]float64
	if o.Criterion == "pvalue" {
		bestV = o.PEnter
	}
	for i := range st.cs {
		if st.in[i] {
			continue
		}
		s := st.subset(i, -1)
		r, err := fitFrom(st.ctx, s, st.y, o.L2, st.prev)
		if err != nil {
			continue // a candidate that cannot be fitted does not enter
		}
		var v float64
		if o.Criterion == "pvalue" {
			v = r.PValue[slices.IndexFunc(s, func(c Candidate) bool { return c.Name == st.cs[i].Name })+1]
		} else {
			v = criterion(r, o.Criterion)
		}
		if v < bestV-1e-9 {
			best, bestV, bestCoef = i, v, coefMap(s, r)
		}
	}
	if best < 0 {
		return false
	}
	st.in[best] = true
	st.prev = bestCoef
	if o.Criterion != "pvalue" {
		st.current = bestV
	}
	return true
}

// remove drops the variable whose removal improves the criterion most (or
// with the largest p-value over PRemove); it reports whether one left.
func (st *stepper) remove() (bool, error) {
	o := st.o
	s := st.subset(-1, -1)
	if o.Criterion == "pvalue" {
		r, err := fitFrom(st.ctx, s, st.y, o.L2, st.prev)
		if err != nil {
			return false, err
		}
		st.prev = coefMap(s, r)
		worst, wp := -1, o.PRemove
		for k := range s {
			if r.PValue[k+1] > wp {
				worst, wp = k, r.PValue[k+1]
			}
		}
		if worst < 0 {
			return false, nil
		}
		st.in[slices.IndexFunc(st.cs, func(c Candidate) bool { return c.Name == s[worst].Name })] = false
		return true, nil
	}
	best, bestV := -1, st.current
	var bestCoef map[string]float64
	for i := range st.cs {
		if !st.in[i] || st.nIn() == 1 {
			continue
		}
		s := st.subset(-1, i)
		r, err := fitFrom(st.ctx, s, st.y, o.L2, st.prev)
		if err != nil {
			continue
		}
		if v := criterion(r, o.Criterion); v < bestV-1e-9 {
			best, bestV, bestCoef = i, v, coefMap(s, r)
		}
	}
	if best < 0 {
		return false, nil
	}
	st.in[best] = false
	st.prev = bestCoef
	st.current = bestV
	return true, nil
}

// SignCheck refits until every WoE coefficient is positive, dropping the
// negative (or zero) one with the largest p-value each time.
func SignCheck(ctx context.Context, cs []Candidate, y []float64, l2 float64) ([]Candidate, []Dropped, error) {
	kept, dropped, _, err := signCheck(ctx, cs, y, l2)
	return kept, dropped, err
}

// signCheck is SignCheck that also returns the last fit, of the kept
// characteristics (nil when none is kept).
func signCheck(ctx context.Context, cs []Candidate, y []float64, l2 float64) ([]Candidate, []Dropped, *logit.Result, error) {
	kept := slices.Clone(cs)
	var dropped []Dropped
	for len(kept) > 0 {
		r, err := fit(ctx, kept, y, l2)
		if err != nil {
			return nil, nil, nil, err
		}
		worst := -1
		for k := range kept {
			if r.Coef[k+1] <= 0 && (worst < 0 || r.PValue[k+1] > r.PValue[worst+1]) {
				worst = k
			}
		}
		if worst < 0 {
			return kept, dropped, r, nil
		}
		dropped = append(dropped, Dropped{kept[worst].Name, fmt.Sprintf("sign: coefficient %.4g <= 0 (p %.3g)", r.Coef[worst+1], r.PValue[worst+1])})
		kept = slices.Delete(kept, worst, worst+1)
	}
	return kept, dropped, nil, nil
}
