//go:build duckdb_arrow

package train

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"qiandun/training/binning"
	"qiandun/training/scorecard"
	"qiandun/training/selection"
)

// trainBoosted fits the boosted card on the candidates that pass the
// missing-rate, single-value and IV screens (no stepwise: a
// characteristic that does not help keeps a near-zero table).
func trainBoosted(ctx context.Context, cfg *Config, cands []selection.Candidate, tr *sample, dropped *[]scorecard.Dropped, names []string, phase time.Time, log *slog.Logger) (*scorecard.Model, error) {
	so := cfg.Selection
	kept, d := selection.Filter(cands, so)
	for _, x := range d {
		*dropped = append(*dropped, scorecard.Dropped{Variable: x.Variable, Reason: x.Reason})
	}
	if len(kept) == 0 {
		return nil, noneKept(names, *dropped)
	}
	cols := make([]*binning.Column, len(kept))
	for j, c := range kept {
		cols[j] = tr.cols[c.Name]
	}
	bm, err := fitBoosted(ctx, cols, tr.y, cfg.Binning, cfg.Boost, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("train: boosted: %w", err)
	}
	if len(bm.bins) == 0 {
		return nil, fmt.Errorf("train: boosted: no characteristic has two fine bins")
	}
	log.Info("train: boosted", "characteristics", len(bm.bins), "rounds", bm.rounds, "seconds", time.Since(phase).Seconds())
	m, err := scorecard.BuildAdditive(cfg.Name, bm.bins, bm.tables, bm.intercept, cfg.Scaling)
	if err != nil {
		return nil, err
	}
	m.Fit = scorecard.Fit{N: tr.n, Iterations: bm.rounds, L2: cfg.Boost.withDefaults().L2}
	return m, nil
}

// BoostOptions control the boosted additive card (Method "boosted").
type BoostOptions struct {
	Shrinkage float64 // learning rate per update (default 0.1)
	L2        float64 // added to each bin's hessian sum (default 1)
	MaxRounds int     // cycles over every characteristic (default 500)
	Patience  int     // rounds without a better validation log-likelihood before stopping (default 10)
	ValShare  float64 // share of the train sample held out for early stopping (default 0.2)
	FineBins  int     // max bins per characteristic (default 16)
	MinShare  float64 // minimum share of a bin (default 0.02)
}

func (o BoostOptions) withDefaults() BoostOptions {
	if o.Shrinkage <= 0 {
		o.Shrinkage = 0.1
	}
	if o.L2 <= 0 {
		o.L2 = 1
	}
	if o.MaxRounds <= 0 {
		o.MaxRounds = 500
	}
	if o.Patience <= 0 {
		o.Patience = 10
	}
	if o.ValShare <= 0 || o.ValShare >= 1 {
		o.ValShare = 0.2
	}
	if o.FineBins <= 1 {
		o.FineBins = 16
	}
	if o.MinShare <= 0 {
		o.MinShare = 0.02
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
}

// fitBoosted fits the boosted additive card: cyclic gradient boosting in
// which each update is one Newton step, shrunk and L2-regularised, on
// every fine bin of one characteristic (the table of that characteristic
// gains η·G_b/(H_b+λ), G and H the bin's gradient and hessian sums of the
// log-likelihood), characteristic after characteristic, round after
// round; early-stopped on a stratified validation share of the train rows
// at the round with the best validation log-likelihood. Fine bins are
// searched on the fitting rows without a shape constraint; missing and
// special values keep their own bins.
func fitBoosted(ctx context.Context, cols []*binning.Column, y []float64, bo binning.Options, o BoostOptions, seed uint64) (*boosted, error) {
	o = o.withDefaults()
	all := make([]int, len(y))
	for i := range all {
		all[i] = i
	}
	fitIdx, valIdx := stratifiedSplit(all, y, o.ValShare, seed^0xb005)
	fy, vy := take(y, fitIdx), take(y, valIdx)
	fo := bo
	fo.MaxBins, fo.MinShare, fo.Monotonic, fo.BinCount, fo.SharePrecision = o.FineBins, o.MinShare, binning.None, "fixed", false
	var fitCols []*binning.Column
	for _, c := range cols {
		fitCols = append(fitCols, c.Take(fitIdx))
	}
	bins, errs := binning.FitAll(ctx, fitCols, fy, fo, nil, 2)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := &boosted{}
	var fIdx, vIdx [][]int32
	for j, b := range bins {
		if errs[j] != nil || len(b.Bins) < 2 {
			continue
		}
		fi, _ := b.Index(fitCols[j])
		vi, _ := b.Index(cols[j].Take(valIdx))
		m.bins = append(m.bins, b)
		fIdx, vIdx = append(fIdx, fi), append(vIdx, vi)
		m.tables = append(m.tables, make([]float64, len(b.Bins)))
	}
	var bads float64
	for _, v := range fy {
		bads += v
	}
	m.intercept = math.Log(bads / (float64(len(fy)) - bads))
	fEta := make([]float64, len(fy))
	vEta := make([]float64, len(vy))
	for i := range fEta {
		fEta[i] = m.intercept
	}
	for i := range vEta {
		vEta[i] = m.intercept
	}
	best := loglik(vEta, vy)
	bestTables := cloneTables(m.tables)
	since := 0
	for round := 1; round <= o.MaxRounds; round++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for j, t := range m.tables {
			g := make([]float64, len(t))
			h := make([]float64, len(t))
			for i, k := range fIdx[j] {
				p := 1 / (1 + math.Exp(-fEta[i]))
				g[k] += fy[i] - p
				h[k] += p * (1 - p)
			}
			d := make([]float64, len(t))
			for k := range t {
				d[k] = o.Shrinkage * g[k] / (h[k] + o.L2)
				t[k] += d[k]
			}
			for i, k := range fIdx[j] {
				fEta[i] += d[k]
			}
			for i, k := range vIdx[j] {
				vEta[i] += d[k]
			}
		}
		ll := loglik(vEta, vy)
		if ll > best+1e-9 {
			best, bestTables, m.rounds, since = ll, cloneTables(m.tables), round, 0
			continue
		}
		if since++; since >= o.Patience {
			break
		}
	}
	m.tables = bestTables
	// Centre each table on its fitting-row mean (the intercept takes the
	// shift): a bin's points then read as above or below the average.
	for j, t := range m.tables {
		var s float64
		for _, k := range fIdx[j] {
			s += t[k]
		}
		mean := s / float64(len(fIdx[j]))
		for k := range t {
			t[k] -= mean
		}
		m.intercept += mean
	}
	return m, nil
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
